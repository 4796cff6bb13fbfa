// An application test with an embedded broker: no broker to install or start, no port opened.
//   node --test examples/embedded/      (after `npm run build`, or with blazemq installed)
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Broker } from 'blazemq';
import { connect } from 'blazemq/client';
import { startOrderService } from './order-service.mjs';

let broker;
let stopService;

before(async () => {
  broker = await Broker.start(); // memory store, vm:// only
  const serviceClient = await broker.connect();
  stopService = startOrderService(serviceClient, { prices: { apple: 2, pear: 3 } });
});

after(async () => {
  await stopService();
  await broker.stop(); // also closes the clients made by broker.connect()
});

test('an order is priced and confirmed', async () => {
  // Any client can reach the broker by its URL, as it would reach tcp://host:61616.
  const client = await connect(broker.url, { heartbeatMs: 0 });
  const confirmations = client.subscribe('topic://orders.confirmed');
  await confirmations.ready; // a topic only delivers to subscriptions that exist when it is published

  await client.publish('queue://orders', JSON.stringify({ item: 'pear', qty: 4 }), {
    correlationId: 'order-1',
  });

  const m = await confirmations.receive({ timeout: 2000 });
  assert.ok(m, 'no confirmation');
  assert.deepEqual(JSON.parse(m.text()), { item: 'pear', qty: 4, total: 12 });
  assert.equal(m.correlationId, 'order-1');
  assert.deepEqual(m.properties, { item: 'pear' });
  await client.close();
});
