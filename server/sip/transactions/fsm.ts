// The generic table-driven machine lives in util so that calls, the ACD and cases share it.
export * from '../../util/fsm.js';
