// Publish and consume with the bespoke API: `node examples/client/publish-subscribe.mjs [url]`
// (default tcp://localhost:61616, a broker started with `blazemq start`).
import { connect } from 'blazemq/client';

const url = process.argv[2] ?? 'tcp://localhost:61616';
const client = await connect(url);
const queue = 'queue://examples.orders';

for (let i = 1; i <= 5; i++) {
  await client.publish(queue, JSON.stringify({ order: i }), { persistent: true, properties: { n: i } });
}

let seen = 0;
for await (const m of client.subscribe(queue, { prefetch: 10 })) {
  console.log('received', m.text(), m.properties);
  await m.ack();
  if (++seen === 5) break; // ends the subscription
}
await client.close();
