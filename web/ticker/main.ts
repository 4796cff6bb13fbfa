/**
 * The live ticker page (/demo/ticker): an EventSource on the broker's SSE endpoint for `topic://prices.>`
 * (JSON events carry the address, so one stream serves every symbol), and a table updated in place:
 * one row per symbol, a flash on each change, green up and red down.
 */
import { Board, changeOf, formatChange, formatPrice, parseTick, type Row } from './model.js';

const ADDRESS = 'topic://prices.>';
const table = document.querySelector<HTMLTableSectionElement>('#prices tbody')!;
const statusEl = document.getElementById('status')!;
const countEl = document.getElementById('count')!;
const hint = document.querySelector('.hint');
const board = new Board();
const rows = new Map<string, HTMLTableRowElement>();
let received = 0;

function setStatus(text: string, state: 'live' | 'connecting' | 'down'): void {
  statusEl.textContent = text;
  statusEl.className = state;
}

function cells(tr: HTMLTableRowElement): HTMLTableCellElement[] {
  return [...tr.cells];
}

function render(row: Row): void {
  let tr = rows.get(row.symbol);
  if (!tr) {
    tr = document.createElement('tr');
    tr.dataset.symbol = row.symbol;
    for (let i = 0; i < 4; i++) tr.appendChild(document.createElement('td'));
    rows.set(row.symbol, tr);
    // Insert in symbol order, so that the table reads like a quote board.
    const after = board.sorted().findIndex((r) => r.symbol === row.symbol);
    const next = board.sorted()[after + 1];
    const before = next ? rows.get(next.symbol) : undefined;
    table.insertBefore(tr, before ?? null);
  }
  const [sym, price, change, ticks] = cells(tr) as [
    HTMLTableCellElement,
    HTMLTableCellElement,
    HTMLTableCellElement,
    HTMLTableCellElement,
  ];
  const { change: c, percent } = changeOf(row);
  sym.textContent = row.symbol;
  price.textContent = formatPrice(row.price);
  price.className = `num price ${row.direction > 0 ? 'up' : row.direction < 0 ? 'down' : ''}`;
  change.textContent = formatChange(c, percent);
  change.className = `num ${c > 0 ? 'up' : c < 0 ? 'down' : ''}`;
  ticks.textContent = String(row.ticks);
  ticks.className = 'num';
  if (row.direction !== 0) {
    // Restart the flash animation: remove the class, force a style flush, add it back.
    tr.classList.remove('flash-up', 'flash-down');
    void tr.offsetWidth;
    tr.classList.add(row.direction > 0 ? 'flash-up' : 'flash-down');
  }
}

function onEvent(data: string): void {
  let event: { address?: unknown; body?: unknown };
  try {
    event = JSON.parse(data);
  } catch {
    return;
  }
  if (typeof event.address !== 'string' || typeof event.body !== 'string') return;
  const tick = parseTick(event.address, event.body);
  if (!tick) return;
  const row = board.apply(tick, Date.now());
  if (!row) return;
  received++;
  hint?.remove();
  countEl.textContent = `${received} updates · ${board.size} symbols`;
  render(row);
}

/**
 * With users configured the stream needs credentials, and EventSource cannot send an Authorization header:
 * the broker takes a bearer token as `access_token` instead. It comes from this page's URL
 * (`/demo/ticker?access_token=...`) or from the console's sign-in in the same tab.
 */
function tokenParam(): string {
  const token =
    new URLSearchParams(location.search).get('access_token') ??
    sessionStorage.getItem('blazemq.console.token');
  return token ? `&access_token=${encodeURIComponent(token)}` : '';
}

function connect(): void {
  setStatus('connecting...', 'connecting');
  const source = new EventSource(`/v1/stream/${encodeURIComponent(ADDRESS)}?format=json${tokenParam()}`);
  source.onopen = () => setStatus('live', 'live');
  source.onmessage = (e: MessageEvent<string>) => onEvent(e.data);
  // EventSource reconnects by itself (after the `retry:` the broker sends); show that it is trying.
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) {
      setStatus('disconnected: retrying in 5 s', 'down');
      setTimeout(connect, 5000);
    } else setStatus('reconnecting...', 'connecting');
  };
}

connect();
