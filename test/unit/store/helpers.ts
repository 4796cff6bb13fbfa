import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { Message } from '../../../src/core/message.js';
import { type JournalOptions, JournalStore } from '../../../src/store/journal/index.js';

export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'blazemq-journal-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function msg(id: string, queue = 'queue://q', size = 16, extra: Partial<Message> = {}): Message {
  return {
    id,
    address: queue,
    body: new Uint8Array(size).fill(id.length),
    properties: { n: id },
    persistent: true,
    priority: 4,
    expiration: 0,
    timestamp: 1_700_000_000_000,
    ...extra,
  };
}

export { type LogLine, recordingLogger } from '../../helpers/recording-logger.js';

export function openJournal(dir: string, options: Partial<JournalOptions> = {}): JournalStore {
  return new JournalStore({ dir: join(dir, 'journal'), preallocate: false, ...options });
}

/** A `dir()` for a test file: each call makes a temporary directory, removed after each test. */
export function tempDirs(): () => string {
  const cleanups: Array<() => void> = [];
  afterEach(() => {
    for (const c of cleanups.splice(0)) c();
  });
  return () => {
    const t = tempDir();
    cleanups.push(t.cleanup);
    return t.dir;
  };
}
