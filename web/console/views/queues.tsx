/** All queues with their counters, and the per-queue actions (browse, send, purge, delete). */
import type { Api } from '../api.js';
import { useConfirm } from '../components/confirm.js';
import { formatBytes, formatCount, formatDuration } from '../format.js';
import { routeHash } from '../router.js';
import type { QueueInfo } from '../types.js';
import { useAction } from './action.js';

export function QueuesView({
  api,
  queues,
  refresh,
}: {
  api: Api;
  queues: QueueInfo[] | undefined;
  refresh: () => void;
}) {
  const [ask, dialog] = useConfirm();
  const [run, status] = useAction(refresh);
  if (!queues) return <p class="muted">Loading...</p>;
  const sorted = [...queues].sort((a, b) => a.name.localeCompare(b.name));
  return (
    <section>
      <h2>Queues</h2>
      {status}
      {sorted.length === 0 ? (
        <p class="muted">
          No queues yet. A queue appears when a message is sent to it or a consumer subscribes.
        </p>
      ) : (
        <table data-testid="queues">
          <thead>
            <tr>
              <th>Name</th>
              <th class="num">Depth</th>
              <th class="num">Enqueued</th>
              <th class="num">Dequeued</th>
              <th class="num">Consumers</th>
              <th class="num">In flight</th>
              <th class="num">Oldest</th>
              <th class="num">Memory</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {sorted.map((q) => (
              <tr key={q.name} data-queue={q.name}>
                <td>
                  <a href={routeHash({ view: 'queue', name: q.name })}>{q.name}</a>
                </td>
                <td class="num" data-testid="depth">
                  {formatCount(q.depth)}
                </td>
                <td class="num">{formatCount(q.enqueued)}</td>
                <td class="num">{formatCount(q.dequeued)}</td>
                <td class="num">{formatCount(q.consumers)}</td>
                <td class="num">{formatCount(q.inFlight)}</td>
                <td class="num">{formatDuration(q.oldestMessageAgeMs)}</td>
                <td class="num">{formatBytes(q.memoryBytes)}</td>
                <td class="actions">
                  <a href={routeHash({ view: 'send', kind: 'queues', name: q.name })}>Send</a>
                  <button
                    type="button"
                    onClick={async () => {
                      if (await ask(`Purge all ${q.depth} messages of queue "${q.name}"?`, 'Purge'))
                        run(`Purged ${q.name}`, () => api.purge(q.name));
                    }}
                  >
                    Purge
                  </button>
                  <button
                    type="button"
                    class="danger"
                    onClick={async () => {
                      if (await ask(`Delete queue "${q.name}" and its ${q.depth} messages?`, 'Delete'))
                        run(`Deleted ${q.name}`, () => api.deleteQueue(q.name));
                    }}
                  >
                    Delete
                  </button>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {dialog}
    </section>
  );
}
