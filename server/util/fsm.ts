/**
 * Table-driven state machines: SIP transactions and dialogs, call legs, agents, cases.
 *
 * Every machine is a string enum of states, a string enum of events and a table
 * (state, event) → next state. Anything not in the table is illegal and throws, so a missing
 * branch in the RFC figures shows up as a counted error instead of a silent wrong move.
 */

export type TransitionTable<S extends string, E extends string> = {
  readonly [K in S]: { readonly [K2 in E]?: S };
};

export class IllegalTransitionError extends Error {
  constructor(
    public readonly machine: string,
    public readonly state: string,
    public readonly event: string,
  ) {
    super(`${machine}: event ${event} is illegal in state ${state}`);
    this.name = 'IllegalTransitionError';
  }
}

/** Looks up the next state or throws IllegalTransitionError. */
export function nextState<S extends string, E extends string>(
  machine: string,
  table: TransitionTable<S, E>,
  state: S,
  event: E,
): S {
  const to = table[state][event];
  if (to === undefined) throw new IllegalTransitionError(machine, state, event);
  return to;
}

/** All (state, event) pairs of a table, for exhaustive tests. */
export function legalPairs<S extends string, E extends string>(
  table: TransitionTable<S, E>,
): Array<{ from: S; event: E; to: S }> {
  const out: Array<{ from: S; event: E; to: S }> = [];
  for (const from of Object.keys(table) as S[]) {
    for (const [event, to] of Object.entries(table[from]) as Array<[E, S]>) out.push({ from, event, to });
  }
  return out;
}
