import { useLayoutEffect } from 'react';
import { callerForDisplay, formatDuration } from '../lib/format.js';
import { CallPhase } from '../store/call-machine.js';
import { useController, useDesktop, useNow, useT } from './context.js';

/**
 * How fast the notice appeared, for the e2e test's 100 ms budget (read through window.__desktop):
 * alerted (the store heard of the call), rendered (React reached this component), shown (in the DOM),
 * framed (the animation frame that draws it runs its callbacks; style, layout and paint follow).
 */
export const noticeTimings: { alertedAt: number; renderedAt: number; shownAt: number; framedAt?: number }[] = [];
let renderedFor: { alertedAt: number; at: number } | null = null;

export function IncomingCall() {
  const c = useController();
  const t = useT();
  const phase = useDesktop((s) => s.phase);
  const offer = useDesktop((s) => s.offer);
  const sip = useDesktop((s) => s.sip);
  const alertedAt = useDesktop((s) => s.alertedAt);
  const role = useDesktop((s) => s.user?.role ?? 'agent');
  const pending = useDesktop((s) => s.answerPending);
  const now = useNow(1000);
  const alerting = phase === CallPhase.Alerting;

  if (alerting && alertedAt !== null && renderedFor?.alertedAt !== alertedAt)
    renderedFor = { alertedAt, at: performance.now() };
  useLayoutEffect(() => {
    if (!alerting || alertedAt === null) return;
    const timing: (typeof noticeTimings)[number] = {
      alertedAt,
      renderedAt: renderedFor?.at ?? NaN,
      shownAt: performance.now(),
    };
    noticeTimings.push(timing);
    // Not the callback's argument: that is the frame's vsync time, which can precede this commit.
    requestAnimationFrame(() => (timing.framedAt = performance.now()));
  }, [alerting, alertedAt]);

  if (!alerting) return null;
  const caller = callerForDisplay(offer?.consumer ?? sip?.remote ?? null, role, false);
  const waited = offer ? offer.waitedMs + (alertedAt !== null ? now - alertedAt : 0) : null;
  return (
    <section className="incoming" role="alertdialog" aria-label={t('incomingCall')} data-testid="incoming">
      <h2>
        {t('incomingCall')}
        {offer?.kind === 'callback' ? ` · ${t('callback')}` : ''}
      </h2>
      <dl>
        <dt>{t('caller')}</dt>
        <dd data-testid="incoming-caller">{caller ?? '—'}</dd>
        <dt>{t('queue')}</dt>
        <dd data-testid="incoming-queue">{offer?.queueName ?? '—'}</dd>
        <dt>{t('ivrPath')}</dt>
        <dd>{offer?.ivrPath ?? '—'}</dd>
        <dt>{t('waited')}</dt>
        <dd>{waited !== null ? formatDuration(waited) : '—'}</dd>
      </dl>
      {/* No autoFocus: a ring must not take the keyboard from what the agent is typing (a space or Enter would
          answer), and focusing forced a style and layout pass before the notice was up. F2 answers. */}
      <button
        type="button"
        className="primary answer"
        onClick={() => c.answer()}
        disabled={pending}
        data-testid="answer"
      >
        {pending ? t('answering') : `${t('answer')} (F2)`}
      </button>
    </section>
  );
}
