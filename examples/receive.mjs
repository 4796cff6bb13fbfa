// Prints every message arriving on a destination (Ctrl-C to stop).
//   node examples/receive.mjs /queue/demo [port]
import { Client } from '@stomp/stompjs';
import { TCPWrapper } from '@stomp/tcp-wrapper';

const [destination = '/queue/demo', port = '61613'] = process.argv.slice(2);
const client = new Client({
  webSocketFactory: () => new TCPWrapper('127.0.0.1', Number(port)),
  reconnectDelay: 0,
  onConnect: () => {
    console.log(`waiting on ${destination}`);
    client.subscribe(destination, (m) => console.log(`${m.headers['message-id']}: ${m.body}`));
  },
  onStompError: (f) => {
    console.error(f.headers.message);
    process.exit(1);
  },
});
client.activate();
