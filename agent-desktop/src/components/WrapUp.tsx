import { secondsLeft } from '../lib/format.js';
import { DISPOSITIONS, type DispositionCode } from '../lib/i18n.js';
import { wrapUpUntilLocal } from '../store/session.js';
import { useController, useDesktop, useNow, useT } from './context.js';

/** Wrap-up (话后处理): countdown from the server's wrapUpUntil, disposition, extend, finish early. */
export function WrapUp() {
  const c = useController();
  const t = useT();
  const lang = useDesktop((s) => s.lang);
  const state = useDesktop((s) => s.agent?.state);
  const until = useDesktop((s) => wrapUpUntilLocal(s));
  const disposition = useDesktop((s) => s.disposition);
  const now = useNow(250);
  if (state !== 'wrap_up') return null;
  return (
    <section className="wrapup" aria-label={t('wrapUp')} data-testid="wrap-up">
      <h2>{t('wrapUp')}</h2>
      <span className="countdown" data-testid="wrap-up-left">
        {until !== null ? t('wrapUpLeft', { s: secondsLeft(until, now) }) : ''}
      </span>
      <label>
        {t('disposition')}
        <select
          value={disposition ?? ''}
          onChange={(e) => c.store.getState().chooseDisposition((e.target.value || null) as DispositionCode | null)}
        >
          <option value="" />
          {DISPOSITIONS.map((d) => (
            <option key={d.code} value={d.code}>
              {lang === 'en' ? d.en : d.zh}
            </option>
          ))}
        </select>
      </label>
      <button type="button" onClick={() => void c.extendWrapUp(30)} data-testid="wrap-up-extend">
        {t('wrapUpExtend')}
      </button>
      <button type="button" className="primary" onClick={() => void c.finishWrapUp()} data-testid="wrap-up-done">
        {t('wrapUpDone')}
      </button>
    </section>
  );
}
