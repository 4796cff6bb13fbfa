/**
 * Broker URLs. One endpoint: `tcp://host:port`, `tls://host:port`, `ws://host:port/native`,
 * `wss://host:port/native`, `vm://name`. Several, with reconnection: ActiveMQ's failover syntax
 * `failover:(url1,url2)?initialReconnectDelay=100&maxReconnectDelay=30000&backOffMultiplier=2&
 * maxReconnectAttempts=-1&randomize=false` (the option names are ActiveMQ's, so existing URLs carry over;
 * `failover:url1,url2` without parentheses is accepted too). Pure.
 */
import { ClientCodes, ClientError } from './codec/errors.js';

export type Scheme = 'tcp' | 'tls' | 'ws' | 'wss' | 'vm';

export interface Endpoint {
  scheme: Scheme;
  /** Host for tcp/tls/ws/wss; the registered broker name for vm. */
  host: string;
  port: number;
  /** WebSocket path, `/native` by default. */
  path: string;
  /** The endpoint as written, for events and errors. */
  url: string;
}

export interface ReconnectOptions {
  /** First delay after a failed attempt, ms. */
  initialDelay: number;
  maxDelay: number;
  multiplier: number;
  /** Failed attempts in a row before giving up; -1 = never give up. */
  maxReconnectAttempts: number;
  /** Start from a random endpoint instead of the first (spreads clients over brokers). */
  randomize: boolean;
}

export interface ParsedUrl {
  endpoints: Endpoint[];
  /** True for failover: URLs: a lost connection is re-established instead of closing the client. */
  failover: boolean;
  reconnect: Partial<ReconnectOptions>;
}

export const DEFAULT_PORTS: Record<Exclude<Scheme, 'vm'>, number> = {
  tcp: 61616,
  tls: 61617,
  ws: 8161,
  wss: 8161,
};

const bad = (message: string) => new ClientError(ClientCodes.BAD_URL, message);

export function parseEndpoint(text: string): Endpoint {
  const url = text.trim();
  const m = /^([a-z]+):\/\/(.*)$/i.exec(url);
  if (!m) throw bad(`not a broker URL: ${JSON.stringify(text)}`);
  const scheme = m[1]!.toLowerCase();
  if (scheme === 'vm') {
    const name = m[2]!.replace(/[/?].*$/, '');
    if (!name) throw bad(`vm:// URL without a broker name: ${url}`);
    return { scheme: 'vm', host: decodeURIComponent(name), port: 0, path: '', url };
  }
  if (scheme !== 'tcp' && scheme !== 'tls' && scheme !== 'ws' && scheme !== 'wss') {
    throw bad(`unsupported scheme ${scheme}: in ${url} (tcp, tls, ws, wss, vm)`);
  }
  let parsed: URL;
  try {
    // http(s) stands in for the parse: WHATWG URL only parses host and port of "special" schemes reliably.
    parsed = new URL(`${scheme === 'tls' || scheme === 'wss' ? 'https' : 'http'}://${m[2]}`);
  } catch (cause) {
    throw new ClientError(ClientCodes.BAD_URL, `malformed URL ${url}`, { cause });
  }
  if (!parsed.hostname) throw bad(`URL without a host: ${url}`);
  const port = parsed.port === '' ? DEFAULT_PORTS[scheme] : Number(parsed.port);
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  const path =
    scheme === 'ws' || scheme === 'wss' ? (parsed.pathname === '/' ? '/native' : parsed.pathname) : '';
  return { scheme, host, port, path, url };
}

const NUMERIC: Record<string, keyof ReconnectOptions> = {
  initialReconnectDelay: 'initialDelay',
  maxReconnectDelay: 'maxDelay',
  backOffMultiplier: 'multiplier',
  maxReconnectAttempts: 'maxReconnectAttempts',
};

export function parseUrl(text: string): ParsedUrl {
  const url = text.trim();
  if (!/^failover:/i.test(url)) return { endpoints: [parseEndpoint(url)], failover: false, reconnect: {} };
  let rest = url.slice('failover:'.length);
  let list: string;
  let query = '';
  if (rest.startsWith('(')) {
    const close = rest.indexOf(')');
    if (close < 0) throw bad(`unbalanced parenthesis in ${url}`);
    list = rest.slice(1, close);
    rest = rest.slice(close + 1);
    if (rest && !rest.startsWith('?')) throw bad(`unexpected ${JSON.stringify(rest)} after ) in ${url}`);
    query = rest.slice(1);
  } else {
    const q = rest.indexOf('?');
    list = q < 0 ? rest : rest.slice(0, q);
    query = q < 0 ? '' : rest.slice(q + 1);
  }
  const endpoints = list
    .split(',')
    .filter((s) => s.trim() !== '')
    .map(parseEndpoint);
  if (endpoints.length === 0) throw bad(`failover URL without endpoints: ${url}`);
  const reconnect: Partial<ReconnectOptions> = {};
  for (const [key, value] of new URLSearchParams(query)) {
    const field = NUMERIC[key];
    if (field) {
      const n = Number(value);
      if (!Number.isFinite(n)) throw bad(`${key}=${value} is not a number in ${url}`);
      (reconnect as Record<string, number>)[field] = n;
    } else if (key === 'randomize') reconnect.randomize = value !== 'false';
    else if (key === 'useExponentialBackOff') {
      if (value === 'false') reconnect.multiplier = 1;
    } else throw bad(`unknown failover option ${key} in ${url}`);
  }
  return { endpoints, failover: true, reconnect };
}
