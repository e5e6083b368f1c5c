/**
 * Case status workflow: an enum plus a transition table per case type. The legal basis is
 * 《市场监督管理投诉举报处理暂行办法》(国家市场监督管理总局令第20号, 2019):
 * complaints (投诉) are accepted or refused (第十五、十八条), dispatched (分流) to the competent unit,
 * mediated (第二十一条起) and closed; reports (举报) are verified and a 立案/不立案 decision made
 * (第三十一条). Consultations (咨询) and suggestions (建议) are answered and closed.
 */

export enum CaseStatus {
  Draft = 'draft',
  Registered = 'registered',
  Accepted = 'accepted',
  Rejected = 'rejected',
  Dispatched = 'dispatched',
  Mediating = 'mediating',
  MediationSucceeded = 'mediation_succeeded',
  MediationTerminated = 'mediation_terminated',
  Verifying = 'verifying',
  Filed = 'filed',
  NotFiled = 'not_filed',
  Closed = 'closed',
  Discarded = 'discarded',
}

export type CaseType = 'complaint' | 'report' | 'consultation' | 'suggestion';
export const CASE_TYPES: readonly CaseType[] = ['complaint', 'report', 'consultation', 'suggestion'];

export const CASE_TYPE_LABELS: Record<CaseType, string> = {
  complaint: '投诉',
  report: '举报',
  consultation: '咨询',
  suggestion: '建议',
};

export const STATUS_LABELS: Record<CaseStatus, string> = {
  [CaseStatus.Draft]: '草稿',
  [CaseStatus.Registered]: '登记',
  [CaseStatus.Accepted]: '受理',
  [CaseStatus.Rejected]: '不予受理',
  [CaseStatus.Dispatched]: '分流',
  [CaseStatus.Mediating]: '调解中',
  [CaseStatus.MediationSucceeded]: '调解成功',
  [CaseStatus.MediationTerminated]: '调解终止',
  [CaseStatus.Verifying]: '核查',
  [CaseStatus.Filed]: '立案',
  [CaseStatus.NotFiled]: '不立案',
  [CaseStatus.Closed]: '办结',
  [CaseStatus.Discarded]: '作废',
};

export const ALL_STATUSES: readonly CaseStatus[] = Object.values(CaseStatus);

const S = CaseStatus;

/** What a move needs besides the target status. */
export interface TransitionRule {
  /** A reason text is required (不予受理, 调解终止, 不立案). */
  reason?: boolean;
  /** Moves to an organisational unit (分流). */
  unit?: boolean;
  /** The case must pass the wrap-up completeness check first. */
  complete?: boolean;
}

type Table = Partial<Record<CaseStatus, Partial<Record<CaseStatus, TransitionRule>>>>;

const common: Table = {
  [S.Draft]: { [S.Registered]: { complete: true }, [S.Discarded]: { reason: true } },
};

export const TRANSITIONS: Record<CaseType, Table> = {
  complaint: {
    ...common,
    [S.Registered]: { [S.Accepted]: {}, [S.Rejected]: { reason: true }, [S.Dispatched]: { unit: true } },
    // A unit that received the complaint still decides on acceptance (第十五条: 具有处理权限的市场监管部门).
    [S.Dispatched]: {
      [S.Accepted]: {},
      [S.Rejected]: { reason: true },
      [S.Mediating]: {},
      [S.Dispatched]: { unit: true },
    },
    [S.Accepted]: { [S.Dispatched]: { unit: true }, [S.Mediating]: {} },
    [S.Mediating]: { [S.MediationSucceeded]: {}, [S.MediationTerminated]: { reason: true } },
    [S.MediationSucceeded]: { [S.Closed]: {} },
    [S.MediationTerminated]: { [S.Closed]: {} },
    [S.Rejected]: { [S.Closed]: {} },
  },
  report: {
    ...common,
    [S.Registered]: { [S.Verifying]: {}, [S.Dispatched]: { unit: true }, [S.Rejected]: { reason: true } },
    [S.Dispatched]: { [S.Verifying]: {}, [S.Dispatched]: { unit: true } },
    [S.Verifying]: { [S.Filed]: {}, [S.NotFiled]: { reason: true } },
    [S.Filed]: { [S.Closed]: {} },
    [S.NotFiled]: { [S.Closed]: {} },
    [S.Rejected]: { [S.Closed]: {} },
  },
  consultation: {
    ...common,
    [S.Registered]: { [S.Closed]: {}, [S.Dispatched]: { unit: true } },
    [S.Dispatched]: { [S.Closed]: {}, [S.Dispatched]: { unit: true } },
  },
  suggestion: {
    ...common,
    [S.Registered]: { [S.Closed]: {}, [S.Dispatched]: { unit: true } },
    [S.Dispatched]: { [S.Closed]: {}, [S.Dispatched]: { unit: true } },
  },
};

export class IllegalTransitionError extends Error {
  readonly code = 'illegal_transition';
  constructor(
    readonly type: CaseType,
    readonly from: CaseStatus,
    readonly to: CaseStatus,
  ) {
    super(`${CASE_TYPE_LABELS[type]}不能从「${STATUS_LABELS[from]}」转为「${STATUS_LABELS[to]}」`);
  }
}

/** The rule for a move; throws IllegalTransitionError when the table has no such move. */
export function transitionRule(type: CaseType, from: CaseStatus, to: CaseStatus): TransitionRule {
  const rule = TRANSITIONS[type][from]?.[to];
  if (!rule) throw new IllegalTransitionError(type, from, to);
  return rule;
}

export function allowedTransitions(type: CaseType, from: CaseStatus): CaseStatus[] {
  return Object.keys(TRANSITIONS[type][from] ?? {}) as CaseStatus[];
}

/** No further moves: the case is finished (follow-up and links can still be recorded). */
export function isTerminal(status: CaseStatus): boolean {
  return status === S.Closed || status === S.Discarded;
}

/** Content fields can still be edited (not after 办结 or 作废). */
export function isEditable(status: CaseStatus): boolean {
  return !isTerminal(status);
}
