/**
 * One queue: its counters, and a browser of its messages (a non-destructive peek, refreshed every 2 s)
 * with per-message move and delete.
 */
import { useState } from 'preact/hooks';
import type { Api } from '../api.js';
import { useConfirm } from '../components/confirm.js';
import { ErrorLine } from '../components/error.js';
import { formatBytes, formatCount, formatDuration, formatTime } from '../format.js';
import { usePoll } from '../hooks.js';
import { displayBody } from '../message-form.js';
import { routeHash } from '../router.js';
import type { BrowsedMessage, QueueInfo } from '../types.js';
import { useAction } from './action.js';

const PAGE = 100;

export function QueueView({
  api,
  name,
  queue,
  refreshQueues,
}: {
  api: Api;
  name: string;
  queue: QueueInfo | undefined;
  refreshQueues: () => void;
}) {
  const [selector, setSelector] = useState('');
  const [applied, setApplied] = useState('');
  const messages = usePoll(() => api.browse(name, PAGE, applied || undefined), 2000, `${name}\n${applied}`);
  const [open, setOpen] = useState<string | undefined>(undefined);
  const [ask, dialog] = useConfirm();
  const [run, status] = useAction(() => {
    messages.refresh();
    refreshQueues();
  });
  const list = messages.data;
  return (
    <section>
      <h2>
        <a href="#/queues">Queues</a> / <span data-testid="queue-name">{name}</span>
      </h2>
      {queue ? (
        <p class="summary">
          depth <b data-testid="queue-depth">{formatCount(queue.depth)}</b> · enqueued{' '}
          {formatCount(queue.enqueued)} · dequeued {formatCount(queue.dequeued)} · consumers{' '}
          {formatCount(queue.consumers)} · in flight {formatCount(queue.inFlight)} · oldest{' '}
          {formatDuration(queue.oldestMessageAgeMs)} · memory {formatBytes(queue.memoryBytes)}
        </p>
      ) : (
        <p class="muted">This queue does not exist (any more).</p>
      )}
      <div class="toolbar">
        <form
          onSubmit={(e) => {
            e.preventDefault();
            setApplied(selector.trim());
          }}
        >
          <input
            placeholder="selector, e.g. priority > 4 AND region = 'EU'"
            value={selector}
            onInput={(e) => setSelector(e.currentTarget.value)}
            aria-label="selector"
          />
          <button type="submit">Filter</button>
        </form>
        <a class="button" href={routeHash({ view: 'send', kind: 'queues', name })}>
          Send
        </a>
        <button
          type="button"
          onClick={async () => {
            if (await ask(`Purge all messages of queue "${name}"?`, 'Purge'))
              run(`Purged ${name}`, () => api.purge(name));
          }}
        >
          Purge
        </button>
      </div>
      {status}
      <ErrorLine error={messages.error} />
      {list === undefined ? (
        <p class="muted">Loading...</p>
      ) : list.length === 0 ? (
        <p class="muted" data-testid="no-messages">
          No messages{applied ? ' match the selector' : ''}.
        </p>
      ) : (
        <table data-testid="messages">
          <thead>
            <tr>
              <th>Id</th>
              <th>Time</th>
              <th class="num">Priority</th>
              <th>Persistent</th>
              <th class="num">Deliveries</th>
              <th>Body</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.map((m) => (
              <MessageRow
                key={m.id}
                m={m}
                open={open === m.id}
                toggle={() => setOpen(open === m.id ? undefined : m.id)}
                onMove={async () => {
                  const to = prompt(`Move message ${m.id} to which address?`, 'queue://');
                  if (to && /^(queue|topic):\/\/.+/.test(to))
                    run(`Moved ${m.id} to ${to}`, () => api.moveMessage(name, m.id, to));
                }}
                onDelete={async () => {
                  if (await ask(`Delete message ${m.id}?`, 'Delete'))
                    run(`Deleted ${m.id}`, () => api.deleteMessage(name, m.id));
                }}
              />
            ))}
          </tbody>
        </table>
      )}
      {list && list.length >= PAGE ? <p class="muted">Showing the first {PAGE} messages.</p> : null}
      {dialog}
    </section>
  );
}

function MessageRow({
  m,
  open,
  toggle,
  onMove,
  onDelete,
}: {
  m: BrowsedMessage;
  open: boolean;
  toggle: () => void;
  onMove: () => void;
  onDelete: () => void;
}) {
  const body = displayBody(m);
  return (
    <>
      <tr data-message={m.id}>
        <td>
          <button type="button" class="link" onClick={toggle} aria-expanded={open}>
            {m.id}
          </button>
        </td>
        <td>{formatTime(m.timestamp)}</td>
        <td class="num">{m.priority ?? '-'}</td>
        <td>{m.persistent ? 'yes' : 'no'}</td>
        <td class="num">{m.deliveryCount ?? 0}</td>
        <td class="body" data-testid="body-preview">
          {body.length > 120 ? `${body.slice(0, 120)}...` : body}
        </td>
        <td class="actions">
          <button type="button" onClick={onMove}>
            Move
          </button>
          <button type="button" class="danger" onClick={onDelete}>
            Delete
          </button>
        </td>
      </tr>
      {open ? (
        <tr class="detail">
          <td colSpan={7}>
            <dl>
              <dt>Address</dt>
              <dd>{m.address}</dd>
              {m.correlationId ? (
                <>
                  <dt>Correlation id</dt>
                  <dd>{m.correlationId}</dd>
                </>
              ) : null}
              {m.replyTo ? (
                <>
                  <dt>Reply to</dt>
                  <dd>{m.replyTo}</dd>
                </>
              ) : null}
              {m.expiration ? (
                <>
                  <dt>Expires</dt>
                  <dd>{formatTime(m.expiration)}</dd>
                </>
              ) : null}
              <dt>Properties</dt>
              <dd>
                <pre>{JSON.stringify(m.properties ?? {}, null, 2)}</pre>
              </dd>
              <dt>Body</dt>
              <dd>
                <pre data-testid="body">{body}</pre>
              </dd>
            </dl>
          </td>
        </tr>
      ) : null}
    </>
  );
}
