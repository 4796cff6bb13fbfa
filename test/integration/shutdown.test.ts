/**
 * SIGTERM with clients connected and persistent sends in flight: the broker stops accepting, lets in-flight
 * work finish (every SEND it receipted is durable), closes clients cleanly and exits 0; started again on the
 * same data directory, it still has every receipted message.
 */
import { rmSync } from 'node:fs';
import net from 'node:net';
import { expect, it } from 'vitest';
import { startBroker } from './helpers/broker.js';
import { CONNECT, rawConnect } from './helpers/raw-stomp.js';
import { connectStomp, subscribe } from './helpers/stomp.js';

it('SIGTERM finishes in-flight work, closes clients and exits 0; receipted messages survive', async () => {
  const first = await startBroker({ keepData: true });
  const producer = await rawConnect(first.stomp);
  producer.socket.write(CONNECT);
  await producer.waitFor(/CONNECTED/);
  let frames = '';
  for (let i = 0; i < 500; i++) {
    frames += `SEND\ndestination:/queue/shutdown\npersistent:true\nreceipt:r${i}\n\nmsg-${i}\0`;
  }
  producer.socket.write(frames);
  // Terminate while the sends are still being stored and receipted.
  await producer.waitFor(/receipt-id:r10\n/);
  const code = first.stop();
  const received = await producer.closed;
  expect(await code).toBe(0);

  const receipted = [...received.matchAll(/receipt-id:r(\d+)/g)].map((m) => Number(m[1]));
  expect(receipted.length).toBeGreaterThan(10);

  // The listener is closed: a new connection is refused.
  await expect(
    new Promise((resolve, reject) => {
      const s = net.connect({ host: '127.0.0.1', port: first.stomp }, () => {
        s.destroy();
        resolve('connected');
      });
      s.on('error', reject);
    }),
  ).rejects.toThrow();

  const second = await startBroker({ dataDir: first.dataDir });
  try {
    const c = await connectStomp(second.stomp);
    const inbox = subscribe(c, '/queue/shutdown');
    const got = await inbox.waitFor(receipted.length, 10_000);
    const bodies = new Set(got.map((m) => m.body));
    for (const i of receipted) expect(bodies.has(`msg-${i}`)).toBe(true);
    await c.deactivate();
  } finally {
    expect(await second.stop()).toBe(0);
    rmSync(first.dataDir, { recursive: true, force: true });
  }
});
