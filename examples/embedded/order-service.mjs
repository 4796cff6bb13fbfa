// An application component that talks to a broker through `blazemq/client`: it takes orders from
// queue://orders, prices them, and announces each on topic://orders.confirmed with the order's
// correlation id. It knows nothing about where the broker runs; order-service.test.mjs gives it an
// embedded one.

/** Starts consuming; returns a function that stops the service. */
export function startOrderService(client, { prices }) {
  const orders = client.subscribe('queue://orders', { prefetch: 20 });
  const done = (async () => {
    for await (const m of orders) {
      const order = JSON.parse(m.text());
      const unit = prices[order.item];
      if (unit === undefined) {
        // Unknown item: give the message back; after the redelivery limit it goes to the DLQ.
        await m.nack();
        continue;
      }
      // Confirm, then ack: a crash in between redelivers the order (at least once).
      await client.publish(
        'topic://orders.confirmed',
        JSON.stringify({ ...order, total: unit * order.qty }),
        {
          correlationId: m.correlationId ?? undefined,
          properties: { item: order.item },
        },
      );
      await m.ack();
    }
  })();
  return async () => {
    await orders.close();
    await done;
  };
}
