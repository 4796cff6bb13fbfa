/**
 * `blazemq store verify|repair`: offline tools for the journal (src/store/journal/verify.ts).
 * verify exits 0 when the broker can start on the journal, 1 when it cannot; repair exits 0 when the
 * journal is usable afterwards. Both print what they found or did, naming files and offsets.
 */
import { join } from 'node:path';
import type { Command } from 'commander';
import { loadConfig } from '../config/load.js';
import { formatVerifyReport, repairJournal, verifyJournal } from '../store/journal/verify.js';
import { BlazeError } from '../util/errors.js';

type Fatal = (err: unknown) => never;

interface StoreFlags {
  config?: string;
  data?: string;
  json?: boolean;
}

async function journalDir(flags: StoreFlags): Promise<string> {
  const config = await loadConfig({ file: flags.config, flags: { data: flags.data } });
  if (config.store.type !== 'journal') {
    throw new BlazeError('BAD_REQUEST', `the configured store is "${config.store.type}", not a journal`);
  }
  return join(config.dataDir, 'journal');
}

export async function runVerify(flags: StoreFlags, print: (line: string) => void): Promise<number> {
  const report = await verifyJournal(await journalDir(flags));
  if (flags.json) print(JSON.stringify(report, null, 2));
  else for (const line of formatVerifyReport(report)) print(line);
  return report.ok ? 0 : 1;
}

export async function runRepair(flags: StoreFlags, print: (line: string) => void): Promise<number> {
  const dir = await journalDir(flags);
  const { actions, after } = await repairJournal(dir);
  if (actions.length === 0) print('nothing to repair');
  for (const a of actions) print(`repaired: ${a}`);
  for (const line of formatVerifyReport(after)) print(line);
  return after.ok ? 0 : 1;
}

export function registerStoreCommand(program: Command, fatal: Fatal): void {
  const print = (line: string) => process.stdout.write(`${line}\n`);
  const store = program.command('store').description('check and repair the message journal (offline)');
  const common = (c: Command) =>
    c
      .option('--config <file>', 'configuration file naming the data directory')
      .option('--data <dir>', 'data directory (default ./data)');
  common(store.command('verify'))
    .description('read the whole journal and report segments, records, live messages and errors')
    .option('--json', 'print the report as JSON')
    .action((opts: StoreFlags) => runVerify(opts, print).then((code) => process.exit(code), fatal));
  common(store.command('repair'))
    .description('truncate torn tails and skip damaged records so that the broker can start (lossy)')
    .action((opts: StoreFlags) => runRepair(opts, print).then((code) => process.exit(code), fatal));
}
