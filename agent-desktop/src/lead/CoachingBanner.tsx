/** Agent desk: a banner while a lead listens to, coaches or has joined the agent's current call. */
import { useDesktop, useT } from '../components/context.js';

export function CoachingBanner() {
  const t = useT();
  const coaching = useDesktop((s) => s.coaching);
  const callId = useDesktop((s) => s.agent?.callId ?? null);
  // Only for the agent's current call: the server sends no 'stopped' when the call itself ends, so a
  // monitor of an earlier call must not linger into wrap-up or the next call.
  if (!coaching || coaching.callId !== callId) return null;
  return (
    <div className="coaching-banner" role="status" data-testid="coaching" data-mode={coaching.mode}>
      {t(`coaching_${coaching.mode}`)}
    </div>
  );
}
