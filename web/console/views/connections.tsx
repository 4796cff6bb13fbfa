/** Client connections of every protocol; closing one ends its session the protocol's way. */
import type { Api } from '../api.js';
import { useConfirm } from '../components/confirm.js';
import { ErrorLine } from '../components/error.js';
import { formatCount, formatTime } from '../format.js';
import { usePoll } from '../hooks.js';
import { useAction } from './action.js';

export function ConnectionsView({ api }: { api: Api }) {
  const conns = usePoll(() => api.connections(), 2000);
  const [ask, dialog] = useConfirm();
  const [run, status] = useAction(conns.refresh);
  const list = conns.data;
  return (
    <section>
      <h2>Connections</h2>
      {status}
      <ErrorLine error={conns.error} />
      {list === undefined ? (
        <p class="muted">Loading...</p>
      ) : list.length === 0 ? (
        <p class="muted">No connections.</p>
      ) : (
        <table data-testid="connections">
          <thead>
            <tr>
              <th>Id</th>
              <th>Protocol</th>
              <th>Remote address</th>
              <th>Client id</th>
              <th>User</th>
              <th>Connected</th>
              <th class="num">Subscriptions</th>
              <th class="num">In flight</th>
              <th class="num">Transactions</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.map((c) => (
              <tr key={c.id}>
                <td>{c.id}</td>
                <td>{c.protocol}</td>
                <td>{c.remoteAddress}</td>
                <td>{c.clientId ?? ''}</td>
                <td>{c.user}</td>
                <td>{formatTime(c.connectedAt)}</td>
                <td class="num">{formatCount(c.subscriptions)}</td>
                <td class="num">{formatCount(c.inFlight)}</td>
                <td class="num">{formatCount(c.transactions)}</td>
                <td class="actions">
                  <button
                    type="button"
                    class="danger"
                    onClick={async () => {
                      if (await ask(`Close ${c.protocol} connection ${c.id} (${c.remoteAddress})?`, 'Close'))
                        run(`Closed ${c.id}`, () => api.closeConnection(c.id));
                    }}
                  >
                    Close
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
