/**
 * Hash routes (`#/queues/orders`): the console is one static page, so navigation must not hit the
 * server (which serves the same index.html at `/` only). Pure.
 */

export type Route =
  | { view: 'overview' }
  | { view: 'queues' }
  | { view: 'queue'; name: string }
  | { view: 'topics' }
  | { view: 'subscriptions' }
  | { view: 'connections' }
  | { view: 'send'; kind: 'queues' | 'topics'; name: string };

const SIMPLE = new Set(['overview', 'queues', 'topics', 'subscriptions', 'connections']);

function decode(s: string): string | undefined {
  try {
    return decodeURIComponent(s);
  } catch {
    return undefined;
  }
}

/** `#/queue/orders` style hashes to a route; anything unknown is the overview. */
export function parseRoute(hash: string): Route {
  const path = hash.replace(/^#?\/?/, '');
  const [head = '', ...rest] = path.split('/');
  if (rest.length === 0 && SIMPLE.has(head)) return { view: head } as Route;
  if (head === 'queues' && rest.length === 1 && rest[0] !== '') {
    const name = decode(rest[0]!);
    if (name !== undefined) return { view: 'queue', name };
  }
  if (head === 'send') {
    const kind = rest[0] === 'topics' ? 'topics' : 'queues';
    const name = rest.length > 1 ? decode(rest[1]!) : '';
    return { view: 'send', kind, name: name ?? '' };
  }
  return { view: 'overview' };
}

export function routeHash(route: Route): string {
  switch (route.view) {
    case 'queue':
      return `#/queues/${encodeURIComponent(route.name)}`;
    case 'send':
      return `#/send/${route.kind}${route.name ? `/${encodeURIComponent(route.name)}` : ''}`;
    default:
      return `#/${route.view}`;
  }
}
