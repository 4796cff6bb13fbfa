// Request/reply over a temporary queue: a responder and a requester in one process.
import { connect } from 'blazemq/client';

const url = process.argv[2] ?? 'tcp://localhost:61616';
const service = 'queue://examples.uppercase';

const responder = await connect(url);
const requests = responder.subscribe(service, { ackMode: 'auto' });
await requests.ready;
(async () => {
  for await (const m of requests) await responder.reply(m, m.text().toUpperCase());
})();

const requester = await connect(url);
const answer = await requester.request(service, 'hello', { timeout: 5000 });
console.log('reply:', answer.text());
await requester.close();
await responder.close();
