import { useState, type FormEvent } from 'react';
import { useController, useT } from './context.js';

export function LoginView() {
  const c = useController();
  const t = useT();
  const [username, setUsername] = useState('');
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    await c.login(username.trim(), password);
    setBusy(false);
  };
  return (
    <form className="card login" onSubmit={submit} aria-label={t('login')}>
      <h1>{t('appTitle')}</h1>
      <label>
        {t('username')}
        <input
          name="username"
          autoComplete="username"
          autoFocus
          required
          value={username}
          onChange={(e) => setUsername(e.target.value)}
        />
      </label>
      <label>
        {t('password')}
        <input
          name="password"
          type="password"
          autoComplete="current-password"
          required
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
      </label>
      <button type="submit" className="primary" disabled={busy} data-testid="login-submit">
        {busy ? t('loggingIn') : t('login')}
      </button>
    </form>
  );
}
