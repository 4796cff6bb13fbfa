/**
 * One `blazemq group bench` member without the rest of the CLI (commander, the broker): what
 * bench/group/gc-latency.ts bundles, once from the working tree and once from another tree (A/B), so that
 * both sides run the same harness. Flags: `--name value` pairs, kebab-case as on the CLI; `--no-loop`.
 */
import { runBench } from '../../src/cli/group/bench.js';

const flags: Record<string, string | boolean> = {};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i]!;
  if (!a.startsWith('--')) continue;
  const key = a.slice(2).replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
  if (key === 'noLoop') flags.loop = false;
  else if (key === 'json') flags.json = true;
  else flags[key] = argv[++i] ?? '';
}
runBench(flags, (line) => process.stdout.write(`${line}\n`)).catch((e: unknown) => {
  process.stderr.write(`${e instanceof Error ? e.stack : String(e)}\n`);
  process.exit(1);
});
