/**
 * Disk full (docs/STORAGE.md, "When a write fails"): the journal's data directory is a 4 MiB tmpfs.
 * Producers fill it; the documented behaviour is that persistent sends then get ERROR instead of
 * RECEIPT, the broker process keeps running (no crash, no crash loop), and after space is freed a
 * restart recovers every message that was receipted. Needs root (mount); skipped otherwise.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startBroker } from '../integration/helpers/broker.js';
import { StompPeer } from './stomp-peer.js';

const root = mkdtempSync(join(tmpdir(), 'blazemq-diskfull-'));
const mnt = join(root, 'data');

function tryMount(): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('mkdir', ['-p', mnt]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
const mounted = tryMount();

afterAll(() => {
  if (mounted) execFileSync('umount', ['-l', mnt], { stdio: 'ignore' });
  rmSync(root, { recursive: true, force: true });
});

describe.skipIf(!mounted)('disk full', () => {
  it('refuses persistent sends with ERROR, keeps running, and loses nothing receipted', {
    timeout: 60_000,
  }, async () => {
    const config = join(root, 'blazemq.yaml');
    writeFileSync(config, 'store:\n  segmentSize: 1048576\n');
    const broker = await startBroker({ dataDir: mnt, keepData: true, args: ['--config', config] });
    const body = 'x'.repeat(8 * 1024);
    const receipted = new Set<string>();
    let error: string | undefined;
    const producer = await StompPeer.connect(broker.stomp);
    producer.onError = (f) => {
      error = f.headers['message'];
    };
    let n = 0;
    while (error === undefined && producer.alive && n < 5000) {
      const batch: Promise<void>[] = [];
      for (let i = 0; i < 8; i++) {
        const tag = `m-${++n}:`;
        batch.push(
          producer.request('SEND', { destination: '/queue/full', persistent: 'true' }, tag + body).then(
            () => {
              receipted.add(tag);
            },
            () => {},
          ),
        );
      }
      await Promise.all(batch);
    }
    expect(error).toMatch(/journal write failed.*ENOSPC/);
    expect(receipted.size).toBeGreaterThan(100);

    // Still running, still speaking STOMP; persistent sends keep failing until it is restarted.
    expect(broker.child.exitCode).toBeNull();
    const again = await StompPeer.connect(broker.stomp);
    await expect(
      again.request('SEND', { destination: '/queue/full', persistent: 'true' }, 'late'),
    ).rejects.toThrow(/ERROR/);
    again.close();
    producer.close();
    await broker.stop();

    // Free space, restart: everything receipted is there.
    execFileSync('mount', ['-o', 'remount,size=16m', mnt]);
    const restarted = await startBroker({ dataDir: mnt, keepData: true, args: ['--config', config] });
    const consumer = await StompPeer.connect(restarted.stomp);
    const got = new Set<string>();
    let last = Date.now();
    consumer.onMessage = (f) => {
      got.add(f.body.toString('latin1', 0, f.body.indexOf(':') + 1));
      last = Date.now();
      void consumer.request('ACK', { id: f.headers['ack']! }).catch(() => {});
    };
    consumer.write('SUBSCRIBE', { id: 's', destination: '/queue/full', ack: 'client-individual' });
    while (Date.now() - last < 1000) await new Promise((r) => setTimeout(r, 100));
    const missing = [...receipted].filter((t) => !got.has(t));
    expect(missing).toEqual([]);
    consumer.close();
    expect(await restarted.stop()).toBe(0);
  });
});
