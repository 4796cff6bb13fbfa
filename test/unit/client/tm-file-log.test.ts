/**
 * FileDecisionLog on a real file: decisions survive reopening, a torn tail is cut so later records are
 * not hidden behind it, concurrent commits all land, and compaction keeps exactly the live decisions.
 */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { FileDecisionLog } from '../../../src/client/index.js';

const dir = mkdtempSync(join(tmpdir(), 'blazemq-tmlog-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(dir, `log-${++n}`);

describe('FileDecisionLog', () => {
  it('keeps decisions across reopening, and forgets what was forgotten', async () => {
    const path = fresh();
    const log = await FileDecisionLog.open(path);
    await log.commit({ gtrid: 't:1', resources: ['broker', 'db'] });
    await log.commit({ gtrid: 't:2', resources: ['broker', 'db'] });
    await log.forget('t:1');
    await log.forget('t:unknown'); // nothing to forget: nothing written
    await log.close();
    const again = await FileDecisionLog.open(path);
    expect(await again.pending()).toEqual([{ gtrid: 't:2', resources: ['broker', 'db'] }]);
    await again.close();
    expect(readFileSync(path, 'utf8').split('\n')).toHaveLength(4);
    await expect(again.commit({ gtrid: 't:3', resources: [] })).rejects.toThrow(/closed/);
  });

  it('cuts a torn last record on open, so that records appended later are read', async () => {
    const path = fresh();
    const log = await FileDecisionLog.open(path);
    await log.commit({ gtrid: 't:1', resources: ['a', 'b'] });
    await log.close();
    const good = statSync(path).size;
    appendFileSync(path, '{"c":"t:torn","r":["a"'); // a crash in the middle of a write
    const reopened = await FileDecisionLog.open(path);
    expect(statSync(path).size).toBe(good);
    await reopened.commit({ gtrid: 't:2', resources: ['a', 'b'] });
    await reopened.close();
    const last = await FileDecisionLog.open(path);
    expect((await last.pending()).map((d) => d.gtrid)).toEqual(['t:1', 't:2']);
    await last.close();
  });

  it('lands every one of many concurrent commits and forgets', async () => {
    const path = fresh();
    const log = await FileDecisionLog.open(path);
    const ids = Array.from({ length: 200 }, (_, i) => `t:${i}`);
    await Promise.all(ids.map((gtrid) => log.commit({ gtrid, resources: ['a', 'b'] })));
    await Promise.all(ids.filter((_, i) => i % 2 === 0).map((g) => log.forget(g)));
    await log.close();
    const again = await FileDecisionLog.open(path);
    expect((await again.pending()).map((d) => d.gtrid)).toEqual(ids.filter((_, i) => i % 2 === 1));
    await again.close();
  });

  it('compacts to the live decisions once enough are obsolete', async () => {
    const path = fresh();
    const log = await FileDecisionLog.open(path, { compactAfter: 20 });
    for (let i = 0; i < 30; i++) {
      await log.commit({ gtrid: `t:${i}`, resources: ['a', 'b'] });
      if (i !== 7 && i !== 29) await log.forget(`t:${i}`);
    }
    await log.commit({ gtrid: 't:last', resources: ['a', 'b'] }); // appended after a compaction
    await log.close();
    const lines = readFileSync(path, 'utf8').trim().split('\n');
    expect(lines.length).toBeLessThan(30);
    const again = await FileDecisionLog.open(path);
    expect((await again.pending()).map((d) => d.gtrid).sort()).toEqual(['t:29', 't:7', 't:last']);
    await again.close();
  });
});
