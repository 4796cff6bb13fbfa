import { it } from 'vitest';
import { SimNetwork } from '../../../src/group/testing/sim-network.js';
import { pump, staticGroup } from './helpers.js';
it('dbg', () => {
  const net = new SimNetwork({ seed: 7, link: { loss: 0.05, delay: 1, jitter: 3, duplicate: 0.02, reorder: 0.05, reorderDelay: 4 } });
  const group = staticGroup(net, 5);
  for (const s of group.slice(0, 3)) pump(net, s, 2000);
  net.run(20000);
  for (const m of group) {
    const p = m.protocol as any;
    console.log(m.address, p.stats.buffered, p.stats.digestsSent, JSON.stringify([...p.recv].map(([s, w]: any) => [s, w.stable, w.delivered, w.highest, w.store.size])), JSON.stringify([...p.digests].map(([k, v]: any) => [k, [...v]])));
  }
});
