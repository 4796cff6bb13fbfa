/** Runs an operator action, shows its outcome (or its error) and refreshes the data it changed. */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import { ErrorLine } from '../components/error.js';

type Outcome = { ok: true; text: string } | { ok: false; error: unknown } | undefined;

export function useAction(
  refresh: () => void,
): [(done: string, fn: () => Promise<unknown>) => void, ComponentChildren] {
  const [outcome, setOutcome] = useState<Outcome>(undefined);
  const run = (done: string, fn: () => Promise<unknown>) => {
    fn().then(
      (result) => {
        const purged = (result as { purged?: unknown } | undefined)?.purged;
        setOutcome({ ok: true, text: typeof purged === 'number' ? `${done} (${purged} messages)` : done });
        refresh();
      },
      (error: unknown) => setOutcome({ ok: false, error }),
    );
  };
  const status =
    outcome === undefined ? null : outcome.ok ? (
      <p class="ok" role="status">
        {outcome.text}
      </p>
    ) : (
      <ErrorLine error={outcome.error} />
    );
  return [run, status];
}
