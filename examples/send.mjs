// Sends one message over STOMP with a real third-party client (@stomp/stompjs over TCP).
//   node examples/send.mjs /queue/demo "hello" [port]
import { Client } from '@stomp/stompjs';
import { TCPWrapper } from '@stomp/tcp-wrapper';

const [destination = '/queue/demo', body = 'hello', port = '61613'] = process.argv.slice(2);
const client = new Client({
  webSocketFactory: () => new TCPWrapper('127.0.0.1', Number(port)),
  reconnectDelay: 0,
  onConnect: () => {
    client.watchForReceipt('sent', () => {
      console.log(`sent to ${destination}`);
      client.deactivate();
    });
    client.publish({ destination, body, headers: { receipt: 'sent' } });
  },
  onStompError: (f) => {
    console.error(f.headers.message);
    process.exit(1);
  },
});
client.activate();
