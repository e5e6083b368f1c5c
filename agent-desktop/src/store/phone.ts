/** The seat's SIP registration (JsSIP over /sip). JsSIP's own objects stay outside the store. */
import type { Slice } from './types.js';

export type Registration = 'unregistered' | 'registering' | 'registered' | 'failed';

export interface PhoneSlice {
  registration: Registration;
  /** Extension the UA registers, e.g. "8001". */
  phoneSeat: string | null;
  phoneError: string | null;
  /** Registrations that succeeded, counting re-registrations after a network loss. */
  registrations: number;
  phoneStarting(seat: string): void;
  phoneRegistered(): void;
  phoneUnregistered(cause?: string | null): void;
  phoneFailed(cause: string): void;
  phoneStopped(): void;
}

export const createPhoneSlice: Slice<PhoneSlice> = () => (set, get) => ({
  registration: 'unregistered',
  phoneSeat: null,
  phoneError: null,
  registrations: 0,
  phoneStarting(seat) {
    set({ registration: 'registering', phoneSeat: seat, phoneError: null });
  },
  phoneRegistered() {
    set({ registration: 'registered', phoneError: null, registrations: get().registrations + 1 });
  },
  phoneUnregistered(cause = null) {
    if (get().phoneSeat === null) return;
    set({ registration: 'unregistered', phoneError: cause });
  },
  phoneFailed(cause) {
    set({ registration: 'failed', phoneError: cause });
  },
  phoneStopped() {
    set({ registration: 'unregistered', phoneSeat: null, phoneError: null });
  },
});
