/**
 * Keyboard shortcuts, as a pure function from a key press and what is on screen to an action, so the
 * rules are unit-tested without a DOM. Function keys work everywhere; Space/Enter answer only while a
 * call is alerting and the focus is not in a text field (there they type), and keypad digits go out as
 * DTMF only while the keypad is open.
 */
import { CallPhase } from '../store/call-machine.js';

export type ShortcutAction =
  | { type: 'answer' }
  | { type: 'hangup' }
  | { type: 'toggle_hold' }
  | { type: 'toggle_mute' }
  | { type: 'toggle_ready' }
  | { type: 'open_panel'; panel: 'dialpad' | 'transfer' }
  | { type: 'close_panel' }
  | { type: 'dtmf'; digit: string };

export interface KeyInput {
  key: string;
  ctrlKey?: boolean;
  altKey?: boolean;
  metaKey?: boolean;
  repeat?: boolean;
  /** The focused element takes text (input, textarea, select, contenteditable). */
  inTextField: boolean;
}

export interface ShortcutContext {
  phase: CallPhase;
  panel: 'dialpad' | 'transfer' | null;
  /** The agent is signed in to a seat. */
  signedIn: boolean;
}

const IN_CALL: ReadonlySet<CallPhase> = new Set([CallPhase.Connected, CallPhase.Held]);

export function shortcutFor(k: KeyInput, c: ShortcutContext): ShortcutAction | null {
  if (k.repeat || k.ctrlKey || k.altKey || k.metaKey) return null;
  const inCall = IN_CALL.has(c.phase);
  switch (k.key) {
    case 'F2':
      return c.phase === CallPhase.Alerting ? { type: 'answer' } : null;
    case ' ':
    case 'Enter':
      return c.phase === CallPhase.Alerting && !k.inTextField ? { type: 'answer' } : null;
    case 'F3':
      return c.signedIn && c.phase === CallPhase.Idle ? { type: 'toggle_ready' } : null;
    case 'F4':
      return inCall || c.phase === CallPhase.Answering ? { type: 'hangup' } : null;
    case 'F6':
      return inCall ? { type: 'toggle_hold' } : null;
    case 'F7':
      return inCall ? { type: 'toggle_mute' } : null;
    case 'F8':
      return inCall ? { type: 'open_panel', panel: 'dialpad' } : null;
    case 'F9':
      return inCall ? { type: 'open_panel', panel: 'transfer' } : null;
    case 'Escape':
      return c.panel !== null ? { type: 'close_panel' } : null;
    default:
      if (c.panel === 'dialpad' && inCall && !k.inTextField && /^[0-9*#]$/.test(k.key)) {
        return { type: 'dtmf', digit: k.key };
      }
      return null;
  }
}
