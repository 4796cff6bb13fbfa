/** The landing view: broker totals and live charts of message rates and queue depths. */
import { LineChart } from '../components/chart.js';
import { formatBytes, formatCount, formatDuration, formatRate } from '../format.js';
import type { LiveHistory } from '../live.js';
import type { Overview } from '../types.js';

const PALETTE = ['#d97706', '#7c3aed', '#0891b2', '#db2777'];

export function OverviewView({
  overview,
  history,
  now,
}: {
  overview: Overview | undefined;
  history: LiveHistory;
  now: number;
}) {
  if (!overview) return <p class="muted">Loading...</p>;
  const { totals, memory, rates } = overview;
  const blocked = typeof memory.blocked === 'number' ? memory.blocked > 0 : memory.blocked;
  const cards: Array<[string, string, string?]> = [
    ['Version', overview.version],
    ['Uptime', formatDuration(overview.uptimeSeconds * 1000)],
    ['Connections', formatCount(totals.connections), 'connections'],
    ['Queues', formatCount(totals.queues), 'queues'],
    ['Topics', formatCount(totals.topics), 'topics'],
    ['Durable subscriptions', formatCount(totals.durables), 'subscriptions'],
    ['Messages held', formatCount(totals.messages)],
    ['Enqueued / dequeued', `${formatCount(totals.enqueued)} / ${formatCount(totals.dequeued)}`],
    [
      'In / out per second',
      `${formatRate(rates.enqueuedPerSecond)} / ${formatRate(rates.dequeuedPerSecond)}`,
    ],
    [
      'Memory',
      `${formatBytes(memory.used)} of ${memory.limit > 0 ? formatBytes(memory.limit) : 'unlimited'}` +
        (blocked ? ' (producers blocked)' : ''),
    ],
  ];
  const top = history.topQueues();
  return (
    <section>
      <h2>Overview</h2>
      <dl class="cards">
        {cards.map(([label, value, link]) => (
          <div key={label} class="card">
            <dt>{label}</dt>
            <dd data-testid={`card-${label}`}>{link ? <a href={`#/${link}`}>{value}</a> : value}</dd>
          </div>
        ))}
      </dl>
      <div class="charts">
        <LineChart
          title="Messages per second"
          windowMs={history.windowMs}
          now={now}
          lines={[
            { label: 'in', color: '#16a34a', samples: history.enqueued.values() },
            { label: 'out', color: '#2563eb', samples: history.dequeued.values() },
          ]}
        />
        <LineChart
          title="Queue depth"
          windowMs={history.windowMs}
          now={now}
          lines={[
            { label: 'all queues', color: '#475569', samples: history.totalDepth.values() },
            ...top.map((q, i) => ({ label: q.name, color: PALETTE[i]!, samples: q.series.values() })),
          ]}
        />
      </div>
    </section>
  );
}
