// The JMS-style layer over a failover URL: restart the broker while this runs and it carries on
// (unconfirmed sends are resent without duplicates; acked messages are not delivered again).
import { ConnectionFactory, DeliveryMode, Session } from 'blazemq/client';

const url =
  process.argv[2] ?? 'failover:(tcp://localhost:61616)?initialReconnectDelay=100&maxReconnectDelay=2000';
const connection = await new ConnectionFactory(url, { clientID: 'jms-example' }).createConnection();
connection.setTransportListener({
  onInterrupted: (e) => console.log('interrupted:', e.message),
  onResumed: () => console.log('resumed'),
});
connection.setExceptionListener((e) => console.error('connection failed:', e.code, e.message));

const session = connection.createSession(false, Session.AUTO_ACKNOWLEDGE);
const queue = session.createQueue('examples.jms');
session.createConsumer(queue).setMessageListener((m) => console.log('got', m.getText()));
connection.start();

const producer = session.createProducer(queue);
producer.setDeliveryMode(DeliveryMode.PERSISTENT);
for (let i = 0; i < 20; i++) {
  await producer.send(session.createTextMessage(`message ${i}`));
  await new Promise((r) => setTimeout(r, 500));
}
await connection.close();
