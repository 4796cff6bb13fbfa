/**
 * The console shell: login when the broker has users, navigation, and the one poll of overview + queues
 * (every 1.5 s) that feeds the charts' history and the queue views.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { needsLogin } from './api.js';
import { ErrorLine } from './components/error.js';
import { usePoll } from './hooks.js';
import { LiveHistory } from './live.js';
import { parseRoute, type Route } from './router.js';
import { Session, type SessionState } from './session.js';
import type { Overview, QueueInfo } from './types.js';
import { ConnectionsView } from './views/connections.js';
import { LoginView } from './views/login.js';
import { OverviewView } from './views/overview.js';
import { QueueView } from './views/queue.js';
import { QueuesView } from './views/queues.js';
import { SendView } from './views/send.js';
import { SubscriptionsView } from './views/subscriptions.js';
import { TopicsView } from './views/topics.js';

const POLL_MS = 1500;

const NAV: Array<[Route['view'], string]> = [
  ['overview', 'Overview'],
  ['queues', 'Queues'],
  ['topics', 'Topics'],
  ['subscriptions', 'Subscriptions'],
  ['connections', 'Connections'],
  ['send', 'Send'],
];

function useRoute(): Route {
  const [route, setRoute] = useState(() => parseRoute(location.hash));
  useEffect(() => {
    const on = () => setRoute(parseRoute(location.hash));
    window.addEventListener('hashchange', on);
    return () => window.removeEventListener('hashchange', on);
  }, []);
  return route;
}

export function App() {
  const session = useMemo(() => new Session(window.sessionStorage), []);
  const [state, setState] = useState<SessionState>('probing');
  const [probeError, setProbeError] = useState<unknown>(undefined);

  useEffect(() => {
    session.probe().then(setState, (err: unknown) => setProbeError(err));
  }, [session]);

  if (state === 'probing') {
    return (
      <Frame>
        {probeError ? <ErrorLine error={probeError} /> : <p class="muted">Connecting to the broker...</p>}
      </Frame>
    );
  }
  if (state === 'login') {
    return (
      <Frame>
        <LoginView
          login={async (user, password) => {
            await session.login(user, password);
            setState('ready');
          }}
        />
      </Frame>
    );
  }
  return (
    <Console
      session={session}
      onLogout={
        state === 'ready'
          ? () => {
              session.logout().finally(() => setState('login'));
            }
          : undefined
      }
      onUnauthorized={() => {
        session.forget();
        setState('login');
      }}
    />
  );
}

function Frame({ children, nav }: { children: ComponentChildren; nav?: ComponentChildren }) {
  return (
    <>
      <header>
        <h1>
          <a class="brand" href="#/overview">
            BlazeMQ
          </a>
        </h1>
        {nav}
      </header>
      <main>{children}</main>
    </>
  );
}

function Console({
  session,
  onLogout,
  onUnauthorized,
}: {
  session: Session;
  onLogout: (() => void) | undefined;
  onUnauthorized: () => void;
}) {
  const { api } = session;
  const route = useRoute();
  const history = useMemo(() => new LiveHistory(), []);
  const [now, setNow] = useState(Date.now());
  const live = usePoll<{ overview: Overview; queues: QueueInfo[] }>(async () => {
    const [overview, queues] = await Promise.all([api.overview(), api.queues()]);
    const t = Date.now();
    history.record(t, overview, queues);
    setNow(t);
    return { overview, queues };
  }, POLL_MS);

  useEffect(() => {
    if (needsLogin(live.error)) onUnauthorized();
  }, [live.error, onUnauthorized]);

  const queues = live.data?.queues;
  const nav = (
    <nav>
      {NAV.map(([view, label]) => (
        <a
          key={view}
          href={view === 'send' ? '#/send/queues' : `#/${view}`}
          class={route.view === view || (route.view === 'queue' && view === 'queues') ? 'active' : ''}
        >
          {label}
        </a>
      ))}
      <a href="/demo/ticker">Ticker demo</a>
      {onLogout ? (
        <button type="button" class="link" onClick={onLogout}>
          Sign out
        </button>
      ) : null}
    </nav>
  );

  let view: ComponentChildren;
  switch (route.view) {
    case 'overview':
      view = <OverviewView overview={live.data?.overview} history={history} now={now} />;
      break;
    case 'queues':
      view = <QueuesView api={api} queues={queues} refresh={live.refresh} />;
      break;
    case 'queue':
      view = (
        <QueueView
          api={api}
          name={route.name}
          queue={queues?.find((q) => q.name === route.name)}
          refreshQueues={live.refresh}
        />
      );
      break;
    case 'topics':
      view = <TopicsView api={api} />;
      break;
    case 'subscriptions':
      view = <SubscriptionsView api={api} />;
      break;
    case 'connections':
      view = <ConnectionsView api={api} />;
      break;
    case 'send':
      view = <SendView key={`${route.kind}/${route.name}`} api={api} kind={route.kind} name={route.name} />;
      break;
  }
  return (
    <Frame nav={nav}>
      {live.error && !needsLogin(live.error) ? <ErrorLine error={live.error} /> : null}
      {view}
    </Frame>
  );
}
