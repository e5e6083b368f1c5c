/**
 * 座席分配: queues with priority, skills with levels, shifts; forcing not ready (with a reason) or a
 * logout. Every change goes through the leads' routes in server/api/routes/agents.ts, which audit it
 * (GET /api/agents/audit is shown below the table).
 */
import { useCallback, useEffect, useState } from 'react';
import { useDesktop, useT } from '../components/context.js';
import { NOT_READY_REASONS, reasonLabel } from '../lib/i18n.js';
import { useLead, useLeadT } from './context.js';
import type { AgentAdmin, AuditEntry, QueueInfo } from './controller.js';
import { beijingTime, formatSkills, parseSkills } from './allocation-model.js';
import { actionLabel } from './i18n.js';

const STATE_KEYS = new Set(['offline', 'ready', 'not_ready', 'reserved', 'on_call', 'wrap_up']);
type StateName = 'offline' | 'ready' | 'not_ready' | 'reserved' | 'on_call' | 'wrap_up';

function AgentRow({ a, queues, reload }: { a: AgentAdmin; queues: QueueInfo[]; reload: () => void }) {
  const lead = useLead();
  const t = useLeadT();
  const lang = useDesktop((s) => s.lang);
  const tt = useT();
  const [member, setMember] = useState<Record<string, number>>(a.queues ?? {});
  const [skills, setSkills] = useState(formatSkills(a.skills ?? {}));
  const [reason, setReason] = useState<string>(NOT_READY_REASONS[0]);
  const [start, setStart] = useState('');
  const [end, setEnd] = useState('');
  const [note, setNote] = useState('');
  const [seat, setSeat] = useState('');
  useEffect(() => setMember(a.queues ?? {}), [a.queues]);
  useEffect(() => setSkills(formatSkills(a.skills ?? {})), [a.skills]);

  const act = async (fn: () => Promise<unknown>) => {
    const ok = await lead.run(fn);
    if (ok !== undefined) {
      lead.notify(t('saved'));
      reload();
    }
  };
  const saveSkills = () => {
    const parsed = parseSkills(skills);
    if (typeof parsed === 'string') lead.fail(parsed);
    else void act(() => lead.setSkills(a.agentId, parsed));
  };
  const loggedIn = a.state !== 'offline';
  return (
    <tr data-testid={`alloc-${a.agentId}`}>
      <td>
        <strong>{a.agentId}</strong>
        <br />
        {a.displayName}
      </td>
      <td data-state={a.state}>
        {STATE_KEYS.has(a.state) ? tt(`state_${a.state as StateName}`) : a.state}
        {a.reason ? `（${reasonLabel(lang, a.reason)}）` : ''}
        <br />
        {a.state !== 'offline' ? (
          (a.seat ?? '—')
        ) : (
          <span className="alloc-seat">
            <input
              aria-label={t('seat')}
              inputMode="numeric"
              size={6}
              value={seat}
              data-testid={`alloc-${a.agentId}-seat`}
              onChange={(e) => setSeat(e.target.value.trim())}
            />
            <button
              type="button"
              disabled={!/^[0-9]{2,15}$/.test(seat)}
              data-testid={`alloc-${a.agentId}-assign-seat`}
              onClick={() => void act(() => lead.assignSeat(a.agentId, seat))}
            >
              {t('assignSeat')}
            </button>
          </span>
        )}
      </td>
      <td>
        {queues.map((q) => (
          <label key={q.queueId} className="alloc-queue">
            <input
              type="checkbox"
              data-testid={`alloc-${a.agentId}-q-${q.queueId}`}
              checked={q.queueId in member}
              onChange={(e) => {
                const next = { ...member };
                if (e.target.checked) next[q.queueId] = 1;
                else delete next[q.queueId];
                setMember(next);
              }}
            />
            {q.name}
            {q.queueId in member && (
              <select
                aria-label={`${q.name} priority`}
                value={member[q.queueId]}
                onChange={(e) => setMember({ ...member, [q.queueId]: Number(e.target.value) })}
              >
                {[1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => (
                  <option key={n} value={n}>
                    {n}
                  </option>
                ))}
              </select>
            )}
          </label>
        ))}
        <button
          type="button"
          data-testid={`alloc-${a.agentId}-save-queues`}
          onClick={() => void act(() => lead.setQueues(a.agentId, member))}
        >
          {t('save')}
        </button>
      </td>
      <td>
        <input
          aria-label={t('skills')}
          placeholder={t('skillsHint')}
          value={skills}
          onChange={(e) => setSkills(e.target.value)}
        />
        <button type="button" onClick={saveSkills}>
          {t('save')}
        </button>
      </td>
      <td>
        <select aria-label={t('reason')} value={reason} onChange={(e) => setReason(e.target.value)}>
          {NOT_READY_REASONS.map((r) => (
            <option key={r} value={r}>
              {reasonLabel(lang, r)}
            </option>
          ))}
        </select>
        <button
          type="button"
          disabled={!loggedIn}
          data-testid={`alloc-${a.agentId}-not-ready`}
          onClick={() => void act(() => lead.forceState(a.agentId, 'not_ready', reason))}
        >
          {t('forceNotReady')}
        </button>
        <button type="button" disabled={!loggedIn} onClick={() => void act(() => lead.forceState(a.agentId, 'ready'))}>
          {t('forceReady')}
        </button>
        <button
          type="button"
          className="danger"
          disabled={!loggedIn}
          data-testid={`alloc-${a.agentId}-logout`}
          onClick={() => void act(() => lead.forceLogout(a.agentId))}
        >
          {t('forceLogout')}
        </button>
      </td>
      <td>
        <ul className="alloc-shifts">
          {(a.shifts ?? []).map((s) => (
            <li key={s.id}>
              {s.startsAt.slice(0, 16).replace('T', ' ')} – {s.endsAt.slice(11, 16)} {s.note}
              <button type="button" onClick={() => void act(() => lead.removeShift(s.id))}>
                {t('remove')}
              </button>
            </li>
          ))}
        </ul>
        <input
          type="datetime-local"
          aria-label={t('shiftStart')}
          value={start}
          onChange={(e) => setStart(e.target.value)}
        />
        <input type="datetime-local" aria-label={t('shiftEnd')} value={end} onChange={(e) => setEnd(e.target.value)} />
        <input aria-label={t('shiftNote')} value={note} maxLength={200} onChange={(e) => setNote(e.target.value)} />
        <button
          type="button"
          disabled={!start || !end}
          onClick={() =>
            void act(() => lead.addShift(a.agentId, new Date(start).toISOString(), new Date(end).toISOString(), note))
          }
        >
          {t('addShift')}
        </button>
      </td>
    </tr>
  );
}

export function Allocation() {
  const lead = useLead();
  const t = useLeadT();
  const lang = useDesktop((s) => s.lang);
  const [agents, setAgents] = useState<AgentAdmin[]>([]);
  const [queues, setQueues] = useState<QueueInfo[]>([]);
  const [audit, setAudit] = useState<AuditEntry[]>([]);
  const reload = useCallback(() => {
    void lead.run(async () => {
      const [a, q, log] = await Promise.all([lead.agents(), lead.queues(), lead.audit(30)]);
      setAgents(a);
      setQueues(q);
      setAudit(log);
    });
  }, [lead]);
  useEffect(reload, [reload]);
  return (
    <section className="allocation" data-testid="allocation">
      <button type="button" onClick={reload}>
        {t('refresh')}
      </button>
      <table>
        <thead>
          <tr>
            <th>{t('workNo')}</th>
            <th>
              {t('state')} / {t('seat')}
            </th>
            <th>{t('queues')}</th>
            <th>{t('skills')}</th>
            <th>{t('state')}</th>
            <th>{t('shifts')}</th>
          </tr>
        </thead>
        <tbody>
          {agents.map((a) => (
            <AgentRow key={a.agentId} a={a} queues={queues} reload={reload} />
          ))}
        </tbody>
      </table>
      <h3>{t('audit')}</h3>
      <ul className="audit" data-testid="alloc-audit">
        {audit.map((e) => (
          <li key={e.id}>
            {beijingTime(Date.parse(e.at))} {e.actor} {actionLabel(lang, e.action)} {e.target}
          </li>
        ))}
      </ul>
    </section>
  );
}
