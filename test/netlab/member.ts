/**
 * A group member process for the namespace lab, run as `node --import tsx test/netlab/member.ts '<json>'`
 * (inside a namespace: `ip netns exec <ns> ...`; test/netlab/lab.ts does it).
 *
 * Protocol, so tests and benchmarks drive any stack the same way:
 * - argv[2] is a JSON config; `role` names a module in ./roles/ (`transport` = raw UDP transport; the
 *   protocol stacks add their own roles) and the rest is that role's configuration.
 * - stdout carries one JSON object per line, each with an `event` field: `ready` once started, the
 *   role's own events, `error` ({ message }) when a command fails, `exit` before leaving.
 * - stdin takes one JSON command per line, each with a `cmd` field, handed to the role; `{"cmd":"exit"}`
 *   (or end of stdin, or SIGTERM) closes the role and exits.
 */
import { createInterface } from 'node:readline';

export type MemberEvent = { event: string } & Record<string, unknown>;

export interface RoleContext {
  config: Record<string, unknown>;
  emit(event: MemberEvent): void;
}

export interface Role {
  command(cmd: Record<string, unknown>): unknown;
  close(): Promise<void>;
}

export type RoleFactory = (ctx: RoleContext) => Promise<Role>;

function emit(event: MemberEvent): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2] ?? '{}') as Record<string, unknown>;
  const name = String(config.role ?? '');
  if (!/^[a-z][a-z0-9-]*$/.test(name)) throw new Error(`bad role name: ${name}`);
  const mod = (await import(`./roles/${name}.js`)) as { start: RoleFactory };
  const role = await mod.start({ config, emit });

  let closing: Promise<void> | undefined;
  const exit = (): Promise<void> =>
    (closing ??= role.close().then(() => {
      emit({ event: 'exit' });
      process.exit(0);
    }));

  process.once('SIGTERM', () => void exit());
  const lines = createInterface({ input: process.stdin });
  lines.on('close', () => void exit());
  lines.on('line', (line) => {
    if (!line.trim()) return;
    let cmd: Record<string, unknown>;
    try {
      cmd = JSON.parse(line) as Record<string, unknown>;
    } catch {
      emit({ event: 'error', message: `not JSON: ${line}` });
      return;
    }
    if (cmd.cmd === 'exit') {
      void exit();
      return;
    }
    Promise.resolve()
      .then(() => role.command(cmd))
      .catch((err: unknown) => emit({ event: 'error', cmd: cmd.cmd, message: String(err) }));
  });
}

main().catch((err: unknown) => {
  emit({ event: 'error', message: String(err instanceof Error ? err.stack : err) });
  process.exit(1);
});
