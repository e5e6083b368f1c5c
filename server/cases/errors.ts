import type { FieldError } from './model.js';

/** Errors the repository throws; each carries the HTTP status the API answers with. */
export class CaseError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export class CaseValidationError extends CaseError {
  constructor(readonly fieldErrors: FieldError[]) {
    super(400, 'validation', fieldErrors.map((e) => `${e.field}: ${e.message}`).join('; '));
  }
}

export class CaseNotFoundError extends CaseError {
  constructor(what: string) {
    super(404, 'not_found', `${what} 不存在`);
  }
}

export interface ChangeSince {
  version: number;
  at: string;
  actorId: number | null;
  action: string;
  /** Field → [before, after]. */
  changes: Record<string, [unknown, unknown]>;
}

/** A write carried a version older than the stored one: tells the client what happened since. */
export class VersionConflictError extends CaseError {
  constructor(
    readonly yourVersion: number,
    readonly currentVersion: number,
    readonly since: ChangeSince[],
  ) {
    super(409, 'version_conflict', `案件已被修改（当前版本 ${currentVersion}，你的版本 ${yourVersion}），请刷新后再改`);
  }
}

export class CaseStateError extends CaseError {
  constructor(code: 'illegal_transition' | 'not_editable' | 'not_allowed', message: string) {
    super(409, code, message);
  }
}
