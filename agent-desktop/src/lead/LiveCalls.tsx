/**
 * Live calls (GET /api/calls, re-read every 2 s: there is no push for the call list) with the supervisor
 * tools. Listen/whisper/barge ring the lead's own seat (POST /api/calls/:id/monitor with `seat`), so the
 * lead answers on a handset or a signed-in desk phone.
 */
import { useEffect, useState } from 'react';
import { useDesktop, useNow } from '../components/context.js';
import { useLead, useLeadT } from './context.js';
import { clock, type MonitorMode } from './slice.js';

const POLL_MS = 2000;
const MODES: MonitorMode[] = ['listen', 'whisper', 'barge'];
const SEAT_KEY = 'hotline12315.lead.seat';

export function LiveCalls() {
  const lead = useLead();
  const t = useLeadT();
  const calls = useDesktop((s) => s.liveCalls);
  const monitoring = useDesktop((s) => s.monitoring);
  const [seat, setSeat] = useState(() => sessionStorage.getItem(SEAT_KEY) ?? '');
  useNow(1000);

  useEffect(() => {
    let stop = false;
    const load = () => void lead.run(() => lead.loadLiveCalls());
    load();
    const timer = setInterval(() => !stop && load(), POLL_MS);
    return () => {
      stop = true;
      clearInterval(timer);
    };
  }, [lead]);

  const start = (id: string, mode: MonitorMode) => {
    sessionStorage.setItem(SEAT_KEY, seat);
    void lead.run(() => lead.monitor(id, mode, seat || undefined));
  };

  return (
    <section className="live-calls" data-testid="live-calls">
      <label>
        {t('mySeat')}
        <input
          value={seat}
          inputMode="numeric"
          pattern="[0-9]{2,15}"
          data-testid="monitor-seat"
          onChange={(e) => setSeat(e.target.value.trim())}
        />
      </label>
      {monitoring && (
        <p className="monitoring" data-testid="monitoring" data-mode={monitoring.mode} data-phase={monitoring.phase}>
          {t(monitoring.phase === 'ringing' ? 'monitorRinging' : 'monitoringNow', {
            mode: t(monitoring.mode),
            callId: monitoring.callId,
          })}
        </p>
      )}
      {calls.length === 0 ? (
        <p>{t('noCalls')}</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th>{t('caller')}</th>
              <th>{t('callState')}</th>
              <th>{t('queue')}</th>
              <th>{t('started')}</th>
              <th>{t('waited')}</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {calls.map((c) => {
              const mine = monitoring?.callId === c.id;
              return (
                <tr key={c.id} data-testid={`call-${c.id}`}>
                  <td>{c.caller}</td>
                  <td>{c.state}</td>
                  <td>{c.queue ?? '—'}</td>
                  <td className="num">{clock(Date.now() - c.startedAt)}</td>
                  <td className="num">{c.waitingSeconds ?? '—'}</td>
                  <td>
                    {MODES.map((m) => (
                      <button
                        key={m}
                        type="button"
                        className={mine && monitoring?.mode === m ? 'active' : ''}
                        disabled={c.answeredAt === null}
                        data-testid={`call-${c.id}-${m}`}
                        onClick={() => start(c.id, m)}
                      >
                        {t(m)}
                      </button>
                    ))}
                    <button
                      type="button"
                      disabled={!mine}
                      data-testid={`call-${c.id}-stop`}
                      onClick={() => void lead.run(() => lead.monitorStop(c.id))}
                    >
                      {t('stop')}
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
    </section>
  );
}
