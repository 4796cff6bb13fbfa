// An embedded broker that other processes can reach too: vm:// in this process, plus the native
// protocol and STOMP on free ports (0), printed at start. Ctrl-C stops it.
//   node examples/embedded/with-listeners.mjs [dataDir]
import { Broker } from 'blazemq';

const dataDir = process.argv[2]; // journal store there (survives restarts); memory store without it
const broker = await Broker.start({ name: 'app', dataDir, listeners: { native: 0, stomp: 0 } });
console.log(`in process: ${broker.url}`);
console.log(`native: tcp://127.0.0.1:${broker.ports.native}   stomp: 127.0.0.1:${broker.ports.stomp}`);

const client = await broker.connect();
await client.publish('queue://hello', 'from the embedding application', { persistent: Boolean(dataDir) });

process.once('SIGINT', async () => {
  await broker.stop();
  process.exit(0);
});
