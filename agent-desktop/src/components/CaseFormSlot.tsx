import { useDeferredValue, type ComponentType } from 'react';
import { CallPhase } from '../store/call-machine.js';
import { CaseForm } from './CaseForm.js';
import { useDesktop, useT } from './context.js';

/** What the case form (issue 6) gets to work with; it loads and saves cases itself through /api/cases. */
export interface CaseFormProps {
  token: string;
  callId: string | null;
  /** The consumer's number as the offer gave it (full; the form decides what to show). */
  consumer: string | null;
  queueId: string | null;
  phase: CallPhase;
  lang: 'zh' | 'en';
}

// The built-in 12315 form; registerCaseForm can replace it (tests, other deployments).
let registered: ComponentType<CaseFormProps> | null = CaseForm;

/** The cases work plugs its form in here once, before the desktop renders (agent-desktop/src/main.tsx). */
export function registerCaseForm(component: ComponentType<CaseFormProps>): void {
  registered = component;
}

export function CaseFormSlot() {
  const t = useT();
  const token = useDesktop((s) => s.token);
  // The form is heavy (pickers, screen-pop, KB); deferring its props lets the incoming-call notice commit
  // first, so a ringing agent is told within 100 ms however long the form takes to render.
  const offer = useDeferredValue(useDesktop((s) => s.offer));
  const agentCallId = useDeferredValue(useDesktop((s) => s.agent?.callId ?? null));
  const phase = useDeferredValue(useDesktop((s) => s.phase));
  const lang = useDesktop((s) => s.lang);
  const Form = registered;
  return (
    <section className="case-slot" aria-label={t('caseForm')} data-slot="case-form">
      <h2>{t('caseForm')}</h2>
      {Form && token ? (
        <Form
          token={token}
          callId={offer?.callId ?? agentCallId}
          consumer={offer?.consumer ?? null}
          queueId={offer?.queueId ?? null}
          phase={phase}
          lang={lang}
        />
      ) : (
        <p className="muted">{t('caseFormPlaceholder')}</p>
      )}
    </section>
  );
}
