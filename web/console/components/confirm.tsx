/**
 * The confirmation dialog every destructive action goes through (purge, delete, close). `useConfirm`
 * returns an `ask` that resolves true only when the operator clicks the confirm button.
 */
import type { ComponentChildren } from 'preact';
import { useCallback, useEffect, useRef, useState } from 'preact/hooks';

interface Pending {
  text: string;
  action: string;
  resolve: (yes: boolean) => void;
}

export function useConfirm(): [(text: string, action: string) => Promise<boolean>, ComponentChildren] {
  const [pending, setPending] = useState<Pending | undefined>(undefined);
  const ask = useCallback(
    (text: string, action: string) =>
      new Promise<boolean>((resolve) => {
        setPending({ text, action, resolve });
      }),
    [],
  );
  const done = (yes: boolean) => {
    pending?.resolve(yes);
    setPending(undefined);
  };
  const dialog = pending ? <ConfirmDialog {...pending} onDone={done} /> : null;
  return [ask, dialog];
}

function ConfirmDialog({ text, action, onDone }: Pending & { onDone: (yes: boolean) => void }) {
  const cancel = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    // Focus lands on Cancel so that a stray Enter does not destroy anything.
    cancel.current?.focus();
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') onDone(false);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [onDone]);
  return (
    <div class="backdrop">
      <div class="dialog" role="alertdialog" aria-modal="true" aria-labelledby="confirm-text">
        <p id="confirm-text">{text}</p>
        <div class="buttons">
          <button type="button" ref={cancel} onClick={() => onDone(false)}>
            Cancel
          </button>
          <button type="button" class="danger" data-testid="confirm" onClick={() => onDone(true)}>
            {action}
          </button>
        </div>
      </div>
    </div>
  );
}
