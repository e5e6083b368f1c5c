/** Language, open panels, the chosen not-ready reason and the one notice line at the top. */
import { NOT_READY_REASONS, type DispositionCode, type Lang } from '../lib/i18n.js';
import type { Slice } from './types.js';

export const LANG_KEY = 'hotline12315.desktop.lang';

export interface Notice {
  kind: 'error' | 'info';
  text: string;
  at: number;
}

export interface UiSlice {
  lang: Lang;
  panel: 'dialpad' | 'transfer' | null;
  notReadyReason: string;
  disposition: DispositionCode | null;
  notice: Notice | null;
  setLang(lang: Lang): void;
  openPanel(panel: 'dialpad' | 'transfer' | null): void;
  chooseReason(reason: string): void;
  chooseDisposition(code: DispositionCode | null): void;
  notify(kind: Notice['kind'], text: string): void;
  clearNotice(): void;
}

export const createUiSlice: Slice<UiSlice> = (deps) => (set) => ({
  lang: deps.storage?.getItem(LANG_KEY) === 'en' ? 'en' : 'zh',
  panel: null,
  notReadyReason: NOT_READY_REASONS[0],
  disposition: null,
  notice: null,
  setLang(lang) {
    deps.storage?.setItem(LANG_KEY, lang);
    set({ lang });
  },
  openPanel(panel) {
    set({ panel });
  },
  chooseReason(reason) {
    set({ notReadyReason: reason });
  },
  chooseDisposition(code) {
    set({ disposition: code });
  },
  notify(kind, text) {
    set({ notice: { kind, text, at: deps.now() } });
  },
  clearNotice() {
    set({ notice: null });
  },
});
