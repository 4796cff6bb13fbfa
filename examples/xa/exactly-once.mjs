// Exactly-once processing with two-phase commit: take a message from a queue, write a row to PostgreSQL,
// ack the message, all in one XA transaction coordinated by blazemq/client's TransactionManager.
// Either the row is written and the message is gone, or neither happened and the message comes again.
//
//   DATABASE_URL=postgres://app@localhost/app node examples/xa/exactly-once.mjs
//
// Environment: DATABASE_URL (required; the server needs max_prepared_transactions > 0),
// BLAZEMQ_URL (default tcp://localhost:61616), QUEUE (default queue://examples.payments),
// XA_LOG (the coordinator's decision log, default ./exactly-once.xalog: keep it on durable storage and
// run one process per log), PUBLISH (publish that many sample messages first, default 0),
// IDLE_MS (exit after the queue stayed empty that long, default 2000). See examples/xa/README.md.
import {
  BrokerResource,
  connect,
  FileDecisionLog,
  PostgresResource,
  TransactionManager,
} from 'blazemq/client';
import pg from 'pg';

const env = process.env;
if (!env.DATABASE_URL) {
  console.error('set DATABASE_URL, e.g. postgres://app@localhost/app');
  process.exit(2);
}
const queue = env.QUEUE ?? 'queue://examples.payments';
const idleMs = Number(env.IDLE_MS ?? 2000);

const client = await connect(env.BLAZEMQ_URL ?? 'tcp://localhost:61616');
const db = new pg.Client({ connectionString: env.DATABASE_URL });
await db.connect();
await db.query('CREATE TABLE IF NOT EXISTS payments (message_id text NOT NULL, body text NOT NULL)');

const broker = new BrokerResource(client, { name: 'broker' });
const postgres = new PostgresResource(db, { name: 'payments-db' });
const tm = new TransactionManager({
  log: await FileDecisionLog.open(env.XA_LOG ?? 'exactly-once.xalog'),
  tmId: 'exactly-once-example',
});

// First finish whatever a crash of this process (or of the broker, or the database) left prepared.
const recovered = await tm.recover([broker, postgres]);
console.log('recovery:', recovered);

for (let i = 1; i <= Number(env.PUBLISH ?? 0); i++) {
  await client.publish(queue, JSON.stringify({ payment: i, amount: i * 10 }), { persistent: true });
}

const subscription = client.subscribe(queue, { prefetch: 10 });
let done = 0;
let failed = 0;
for (;;) {
  const m = await subscription.receive({ timeout: idleMs });
  if (m === undefined) break;
  try {
    await tm.run(async () => {
      await db.query('INSERT INTO payments (message_id, body) VALUES ($1, $2)', [m.id, m.text()]);
      await broker.ack(m);
    }, [broker, postgres]);
    done++;
  } catch (e) {
    // Rolled back: no row, and the broker redelivers the message.
    failed++;
    console.error(`transaction for ${m.id} failed (${e.code ?? e.message}); it will be redelivered`);
  }
}

const { rows } = await db.query(
  'SELECT count(*)::int AS n, count(DISTINCT message_id)::int AS d FROM payments',
);
console.log(
  `processed ${done} message(s), ${failed} rolled back; payments table: ${rows[0].n} rows, ${rows[0].d} distinct`,
);
await tm.close();
await db.end();
await client.close();
