import { useController, useDesktop, useT } from './context.js';

export function Header() {
  const c = useController();
  const t = useT();
  const user = useDesktop((s) => s.user);
  const socket = useDesktop((s) => s.socket);
  const reg = useDesktop((s) => s.registration);
  const seat = useDesktop((s) => s.phoneSeat);
  const lang = useDesktop((s) => s.lang);
  return (
    <header className="topbar">
      <strong>{t('appTitle')}</strong>
      <span className={`pill socket-${socket}`} data-testid="socket-status">
        {t(`socket_${socket}`)}
      </span>
      <span className={`pill reg-${reg}`} data-testid="phone-status">
        {t(`reg_${reg}`)}
        {seat ? ` · ${seat}` : ''}
      </span>
      <span className="spacer" />
      {user && (
        <span className="user">
          {user.displayName}（{user.username}）
        </span>
      )}
      <button type="button" onClick={() => c.store.getState().setLang(lang === 'zh' ? 'en' : 'zh')}>
        {t('language')}
      </button>
      {user && (
        <button type="button" onClick={() => void c.logout()}>
          {t('logout')}
        </button>
      )}
    </header>
  );
}

export function NoticeBar() {
  const notice = useDesktop((s) => s.notice);
  const c = useController();
  const t = useT();
  if (!notice) return null;
  return (
    <div className={`notice notice-${notice.kind}`} role="alert" data-testid="notice">
      <span>{notice.text}</span>
      <button type="button" onClick={() => c.store.getState().clearNotice()} aria-label={t('close')}>
        ×
      </button>
    </div>
  );
}
