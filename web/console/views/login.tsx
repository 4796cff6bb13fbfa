/** The login form: exchanges a user's credentials for a bearer token (POST /v1/auth/token). */
import { useState } from 'preact/hooks';
import { ApiError } from '../api.js';
import { ErrorLine } from '../components/error.js';

export function LoginView({ login }: { login: (user: string, password: string) => Promise<void> }) {
  const [user, setUser] = useState('');
  const [password, setPassword] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [busy, setBusy] = useState(false);
  return (
    <form
      class="login"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(undefined);
        try {
          await login(user, password);
        } catch (err) {
          setError(
            err instanceof ApiError && err.status === 401 ? new Error('Wrong user or password.') : err,
          );
        } finally {
          setBusy(false);
        }
      }}
    >
      <h2>Sign in to BlazeMQ</h2>
      <label>
        User
        <input
          name="user"
          autocomplete="username"
          value={user}
          onInput={(e) => setUser(e.currentTarget.value)}
        />
      </label>
      <label>
        Password
        <input
          name="password"
          type="password"
          autocomplete="current-password"
          value={password}
          onInput={(e) => setPassword(e.currentTarget.value)}
        />
      </label>
      <button type="submit" disabled={busy}>
        Sign in
      </button>
      <ErrorLine error={error} />
    </form>
  );
}
