/** The send-a-message form: to a queue or a topic, with properties, priority and persistence. */
import { useState } from 'preact/hooks';
import type { Api, Kind } from '../api.js';
import { ErrorLine } from '../components/error.js';
import { type SendForm, toSendRequest } from '../message-form.js';
import { routeHash } from '../router.js';

export function SendView({
  api,
  kind: initialKind,
  name: initialName,
}: {
  api: Api;
  kind: Kind;
  name: string;
}) {
  const [kind, setKind] = useState<Kind>(initialKind);
  const [name, setName] = useState(initialName);
  const [form, setForm] = useState<SendForm>({
    body: '',
    properties: '',
    persistent: true,
    priority: '',
    correlationId: '',
    replyTo: '',
  });
  const [error, setError] = useState<unknown>(undefined);
  const [sent, setSent] = useState<string | undefined>(undefined);
  const [busy, setBusy] = useState(false);
  const field = (key: keyof SendForm) => (e: { currentTarget: HTMLInputElement | HTMLTextAreaElement }) =>
    setForm({ ...form, [key]: e.currentTarget.value });

  const submit = async (e: Event) => {
    e.preventDefault();
    setSent(undefined);
    setError(undefined);
    if (!name.trim()) return setError(new Error('name the queue or topic'));
    const req = toSendRequest(form);
    if (!req.ok) return setError(new Error(req.error));
    setBusy(true);
    try {
      const result = await api.send(kind, name.trim(), req.value);
      setSent(result?.id ?? '');
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section>
      <h2>Send a message</h2>
      <form class="send" onSubmit={submit}>
        <label>
          To
          <span class="row">
            <select value={kind} onChange={(e) => setKind(e.currentTarget.value as Kind)} aria-label="kind">
              <option value="queues">queue</option>
              <option value="topics">topic</option>
            </select>
            <input name="name" value={name} onInput={(e) => setName(e.currentTarget.value)} required />
          </span>
        </label>
        <label>
          Body
          <textarea name="body" rows={6} value={form.body} onInput={field('body')} />
        </label>
        <label>
          Properties <small>(one name=value per line)</small>
          <textarea name="properties" rows={3} value={form.properties} onInput={field('properties')} />
        </label>
        <div class="row">
          <label>
            Priority <small>(0-9)</small>
            <input name="priority" size={3} value={form.priority} onInput={field('priority')} />
          </label>
          <label>
            Correlation id
            <input name="correlationId" value={form.correlationId} onInput={field('correlationId')} />
          </label>
          <label>
            Reply to
            <input
              name="replyTo"
              placeholder="queue://replies"
              value={form.replyTo}
              onInput={field('replyTo')}
            />
          </label>
          <label class="check">
            <input
              type="checkbox"
              name="persistent"
              checked={form.persistent}
              onChange={(e) => setForm({ ...form, persistent: e.currentTarget.checked })}
            />
            Persistent
          </label>
        </div>
        <button type="submit" disabled={busy}>
          Send
        </button>
      </form>
      <ErrorLine error={error} />
      {sent !== undefined ? (
        <p class="ok" role="status">
          Sent{sent ? ` message ${sent}` : ''}.{' '}
          {kind === 'queues' ? (
            <a href={routeHash({ view: 'queue', name: name.trim() })}>Browse the queue</a>
          ) : null}
        </p>
      ) : null}
    </section>
  );
}
