/** All topics: messages published and current subscribers. */
import type { Api } from '../api.js';
import { ErrorLine } from '../components/error.js';
import { formatCount } from '../format.js';
import { usePoll } from '../hooks.js';
import { routeHash } from '../router.js';

export function TopicsView({ api }: { api: Api }) {
  const topics = usePoll(() => api.topics(), 2000);
  const list = topics.data ? [...topics.data].sort((a, b) => a.name.localeCompare(b.name)) : undefined;
  return (
    <section>
      <h2>Topics</h2>
      <ErrorLine error={topics.error} />
      {list === undefined ? (
        <p class="muted">Loading...</p>
      ) : list.length === 0 ? (
        <p class="muted">No topics yet.</p>
      ) : (
        <table data-testid="topics">
          <thead>
            <tr>
              <th>Name</th>
              <th class="num">Published</th>
              <th class="num">Subscribers</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {list.map((t) => (
              <tr key={t.name} data-topic={t.name}>
                <td>{t.name}</td>
                <td class="num">{formatCount(t.published)}</td>
                <td class="num">{formatCount(t.subscribers)}</td>
                <td class="actions">
                  <a href={routeHash({ view: 'send', kind: 'topics', name: t.name })}>Send</a>
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
