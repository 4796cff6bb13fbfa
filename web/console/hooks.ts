/** Preact hooks shared by the views. */
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

export interface Polled<T> {
  data: T | undefined;
  error: unknown;
  /** Fetch now (after an action), without waiting for the next tick. */
  refresh: () => void;
}

/**
 * Calls `load` now and every `intervalMs` while mounted; one request at a time (a slow broker is not
 * flooded), skipped while the tab is hidden. `key` changes restart it.
 */
export function usePoll<T>(load: () => Promise<T>, intervalMs: number, key = ''): Polled<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const loadRef = useRef(load);
  loadRef.current = load;
  const busy = useRef(false);
  // Bumped on every restart and unmount: answers to an older generation's request are dropped.
  const generation = useRef(0);

  const tick = useCallback(() => {
    if (busy.current || document.hidden) return;
    busy.current = true;
    const gen = generation.current;
    loadRef
      .current()
      .then(
        (d) => {
          if (gen !== generation.current) return;
          setData(d);
          setError(undefined);
        },
        (err: unknown) => {
          if (gen === generation.current) setError(err);
        },
      )
      .finally(() => {
        busy.current = false;
      });
  }, []);

  useEffect(() => {
    generation.current++;
    busy.current = false;
    setData(undefined);
    tick();
    const timer = setInterval(tick, intervalMs);
    return () => {
      generation.current++;
      clearInterval(timer);
    };
  }, [intervalMs, key, tick]);

  return { data, error, refresh: tick };
}
