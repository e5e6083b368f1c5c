/** The shift lead's (班长) screens: wallboard, seat allocation, live calls with monitoring, reports. */
import { useMemo } from 'react';
import { useController, useDesktop } from '../components/context.js';
import { Allocation } from './Allocation.js';
import { LeadContext, useLeadT } from './context.js';
import { LeadController } from './controller.js';
import { LiveCalls } from './LiveCalls.js';
import { Reports } from './Reports.js';
import type { LeadView } from './slice.js';
import { Wallboard } from './Wallboard.js';
import './lead.css';

const VIEWS: LeadView[] = ['wallboard', 'allocation', 'calls', 'reports'];

export function LeadApp() {
  const desk = useController();
  const lead = useMemo(() => new LeadController(desk.store), [desk]);
  const view = useDesktop((s) => s.leadView);
  const t = useLeadT();
  return (
    <LeadContext.Provider value={lead}>
      <nav className="lead-nav" aria-label="lead">
        {VIEWS.map((v) => (
          <button
            key={v}
            type="button"
            className={v === view ? 'active' : ''}
            aria-pressed={v === view}
            data-testid={`lead-nav-${v}`}
            onClick={() => desk.store.getState().showLeadView(v)}
          >
            {t(`nav_${v}`)}
          </button>
        ))}
      </nav>
      <main className="lead">
        {view === 'wallboard' && <Wallboard />}
        {view === 'allocation' && <Allocation />}
        {view === 'calls' && <LiveCalls />}
        {view === 'reports' && <Reports />}
      </main>
    </LeadContext.Provider>
  );
}
