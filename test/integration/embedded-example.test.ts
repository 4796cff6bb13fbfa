/**
 * examples/embedded/ is what a user copies: its own test (node:test, importing `blazemq` and
 * `blazemq/client` as an installed package would, i.e. the built dist/) must pass as shipped.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { ROOT } from './helpers/broker.js';

const run = promisify(execFile);

it('examples/embedded/order-service.test.mjs passes against the built package', async () => {
  if (!existsSync(join(ROOT, 'dist/embedded.js')))
    throw new Error('dist/ missing: run `npm run build` first');
  const { stdout } = await run(process.execPath, ['--test', 'examples/embedded/order-service.test.mjs'], {
    cwd: ROOT,
    timeout: 20_000,
  });
  expect(stdout).toMatch(/# pass 1\n/);
  expect(stdout).toMatch(/# fail 0\n/);
});
