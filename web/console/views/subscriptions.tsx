/** Subscriptions, durable ones even while their subscriber is away; a durable one can be deleted. */
import type { Api } from '../api.js';
import { useConfirm } from '../components/confirm.js';
import { ErrorLine } from '../components/error.js';
import { formatCount } from '../format.js';
import { usePoll } from '../hooks.js';
import { useAction } from './action.js';

export function SubscriptionsView({ api }: { api: Api }) {
  const subs = usePoll(() => api.subscriptions(), 2000);
  const [ask, dialog] = useConfirm();
  const [run, status] = useAction(subs.refresh);
  const list = subs.data;
  return (
    <section>
      <h2>Subscriptions</h2>
      {status}
      <ErrorLine error={subs.error} />
      {list === undefined ? (
        <p class="muted">Loading...</p>
      ) : list.length === 0 ? (
        <p class="muted">No subscriptions.</p>
      ) : (
        <table data-testid="subscriptions">
          <thead>
            <tr>
              <th>Address</th>
              <th>Kind</th>
              <th>Connection</th>
              <th>Ack</th>
              <th class="num">Pending</th>
              <th class="num">In flight</th>
              <th>Selector</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.map((s) => (
              <tr key={`${s.id}/${s.clientId ?? ''}/${s.name ?? ''}`} class={s.active ? '' : 'inactive'}>
                <td>{s.address}</td>
                <td>
                  {s.durable ? `durable ${s.clientId ?? ''}/${s.name ?? ''}` : 'live'}
                  {s.active ? '' : ' (inactive)'}
                </td>
                <td>{s.active ? s.connectionId : '-'}</td>
                <td>{s.ackMode}</td>
                <td class="num">{formatCount(s.pending)}</td>
                <td class="num">{formatCount(s.inFlight)}</td>
                <td>{s.selector ?? ''}</td>
                <td class="actions">
                  {s.durable && s.clientId !== undefined && s.name !== undefined ? (
                    <button
                      type="button"
                      class="danger"
                      onClick={async () => {
                        const { clientId, name } = s as { clientId: string; name: string };
                        if (
                          await ask(
                            `Delete durable subscription ${clientId}/${name} and its ${s.pending} pending messages?`,
                            'Delete',
                          )
                        )
                          run(`Deleted ${clientId}/${name}`, () => api.deleteDurable(clientId, name));
                      }}
                    >
                      Delete
                    </button>
                  ) : null}
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
