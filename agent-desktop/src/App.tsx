import { lazy, Suspense, useEffect } from 'react';
import { shortcutFor } from './lib/shortcuts.js';
import { CallPanel } from './components/CallPanel.js';
import { CaseFormSlot } from './components/CaseFormSlot.js';
import { useController, useDesktop, useT } from './components/context.js';
import { Header, NoticeBar } from './components/Header.js';
import { IncomingCall } from './components/IncomingCall.js';
import { LoginView } from './components/LoginView.js';
import { QueuePanel } from './components/QueuePanel.js';
import { SeatSignIn } from './components/SeatSignIn.js';
import { StateBar } from './components/StateBar.js';
import { WrapUp } from './components/WrapUp.js';
import { CoachingBanner } from './lead/CoachingBanner.js';

// The lead's screens (with ECharts) load only for leads and admins, so the agents' bundle stays as it was.
const LeadApp = lazy(() => import('./lead/LeadApp.js').then((m) => ({ default: m.LeadApp })));

function inTextField(el: Element | null): boolean {
  if (!el) return false;
  const tag = el.tagName;
  return tag === 'INPUT' || tag === 'TEXTAREA' || tag === 'SELECT' || (el as HTMLElement).isContentEditable;
}

function useShortcuts(): void {
  const c = useController();
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      const s = c.store.getState();
      const action = shortcutFor(
        {
          key: e.key,
          ctrlKey: e.ctrlKey,
          altKey: e.altKey,
          metaKey: e.metaKey,
          repeat: e.repeat,
          inTextField: inTextField(document.activeElement),
        },
        { phase: s.phase, panel: s.panel, signedIn: !!s.agent && s.agent.state !== 'offline' },
      );
      if (!action) return;
      e.preventDefault();
      c.run(action);
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [c]);
}

export function App() {
  const t = useT();
  const token = useDesktop((s) => s.token);
  const agent = useDesktop((s) => s.agent);
  const lang = useDesktop((s) => s.lang);
  const role = useDesktop((s) => s.user?.role);
  useShortcuts();
  useEffect(() => {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    document.title = t('appTitle');
  }, [lang, t]);

  if (!token) {
    return (
      <>
        <Header />
        <NoticeBar />
        <main className="center">
          <LoginView />
        </main>
      </>
    );
  }
  if (role === 'lead' || role === 'admin') {
    return (
      <>
        <Header />
        <NoticeBar />
        <Suspense fallback={<main className="center">…</main>}>
          <LeadApp />
        </Suspense>
      </>
    );
  }
  const signedIn = agent !== null && agent.state !== 'offline';
  return (
    <>
      <Header />
      <NoticeBar />
      <StateBar />
      <CoachingBanner />
      <main className="desk">
        <div className="work">
          {agent !== null && !signedIn && <SeatSignIn />}
          <IncomingCall />
          <CallPanel />
          <WrapUp />
          <CaseFormSlot />
        </div>
        <QueuePanel />
      </main>
      <footer className="shortcuts">{t('shortcuts')}</footer>
    </>
  );
}
