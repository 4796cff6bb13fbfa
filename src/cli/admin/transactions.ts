/**
 * `blazemq transactions [--json]` and `blazemq transactions commit|rollback XID`: the prepared (in-doubt)
 * XA branches of a running broker, over the management API (GET /v1/admin/transactions, POST
 * /v1/admin/transactions/{xid}/commit|rollback). Resolving one is a heuristic decision: see
 * docs/OPERATIONS.md, "In-doubt XA transactions".
 */
import type { TransactionInfo } from '../../core/admin.js';
import { AdminClient, type ConnectionOptions } from './client.js';
import type { Out } from './commands.js';
import { age, table } from './format.js';
import { UsageError } from './options.js';

/**
 * An xidKey as the listing prints it: `formatId:globalIdHex:branchIdHex`, global id 1..64 bytes, branch
 * qualifier 0..64 bytes [XA §4.2]. Checked here so that a typo is a usage error, not a 404.
 */
export function parseXidKey(text: string): string {
  if (!/^-?\d{1,10}:(?:[0-9a-fA-F]{2}){1,64}:(?:[0-9a-fA-F]{2}){0,64}$/.test(text)) {
    throw new UsageError(
      `invalid XID '${text.slice(0, 80)}': expected FORMATID:GLOBALHEX:BRANCHHEX as 'blazemq transactions' prints it`,
    );
  }
  return text.toLowerCase();
}

/** ADDRESSES column: the listed addresses, and how many more there are. */
export function addressesCell(t: Pick<TransactionInfo, 'addresses' | 'moreAddresses'>): string {
  const listed = t.addresses.join(',');
  const more = t.moreAddresses > 0 ? ` (+${t.moreAddresses} more)` : '';
  return listed === '' ? `-${more}` : `${listed}${more}`;
}

export function transactionsTable(rows: readonly TransactionInfo[]): string {
  return table(
    ['XID', 'PREPARED', 'RECOVERED', 'SENDS', 'ACKS', 'ADDRESSES'],
    rows.map((t) => [
      t.xidKey,
      `${age(t.ageMs)} ago`,
      t.recovered ? 'yes' : 'no',
      t.sends,
      t.acks,
      addressesCell(t),
    ]),
  );
}

export async function listTransactions(
  conn: ConnectionOptions,
  opts: { json?: boolean },
  out: Out,
): Promise<void> {
  const rows = await new AdminClient(conn).json<TransactionInfo[]>('GET', '/v1/admin/transactions');
  if (opts.json) {
    out(JSON.stringify(rows, null, 2));
    return;
  }
  if (rows.length === 0) {
    out('no prepared XA transactions');
    return;
  }
  out(transactionsTable(rows));
}

export async function completeTransaction(
  conn: ConnectionOptions,
  outcome: 'commit' | 'rollback',
  xid: string,
  out: Out,
): Promise<void> {
  const key = parseXidKey(xid);
  await new AdminClient(conn).json<void>(
    'POST',
    `/v1/admin/transactions/${encodeURIComponent(key)}/${outcome}`,
  );
  out(`${outcome === 'commit' ? 'committed' : 'rolled back'} prepared XA branch ${key}`);
}
