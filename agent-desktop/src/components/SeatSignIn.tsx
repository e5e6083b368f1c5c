import { useState, type FormEvent } from 'react';
import { useController, useDesktop, useT } from './context.js';

/**
 * Seat selection. The SIP password field is the documented fallback for servers without
 * GET /api/agents/me/sip-credentials; when that API answers, the field may stay empty.
 */
export function SeatSignIn() {
  const c = useController();
  const t = useT();
  const socket = useDesktop((s) => s.socket);
  const [seat, setSeat] = useState(() => c.lastSeat());
  const [password, setPassword] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    await c.signIn(seat.trim(), password || undefined);
    setBusy(false);
  };
  return (
    <form className="card seat" onSubmit={submit} aria-label={t('signIn')}>
      <label>
        {t('seat')}
        <input
          name="seat"
          inputMode="numeric"
          pattern="[0-9]{2,15}"
          required
          value={seat}
          list="seat-list"
          onChange={(e) => setSeat(e.target.value)}
        />
        <datalist id="seat-list">
          {Array.from({ length: 10 }, (_, i) => (
            <option key={i} value={String(8001 + i)} />
          ))}
        </datalist>
      </label>
      <label>
        {t('seatPassword')}
        <input
          name="sip-password"
          type="password"
          autoComplete="off"
          value={password}
          onChange={(e) => setPassword(e.target.value)}
        />
        <small>{t('seatPasswordHint')}</small>
      </label>
      <button type="submit" className="primary" disabled={busy || socket !== 'connected'} data-testid="seat-submit">
        {t('signIn')}
      </button>
    </form>
  );
}
