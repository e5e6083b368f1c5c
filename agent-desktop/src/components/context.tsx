import { createContext, useContext, useEffect, useState } from 'react';
import { useStore } from 'zustand';
import type { DesktopController } from '../lib/desktop.js';
import { translate, type MsgKey } from '../lib/i18n.js';
import type { DesktopState } from '../store/index.js';

export const ControllerContext = createContext<DesktopController | null>(null);

export function useController(): DesktopController {
  const c = useContext(ControllerContext);
  if (!c) throw new Error('DesktopController missing');
  return c;
}

export function useDesktop<T>(selector: (s: DesktopState) => T): T {
  return useStore(useController().store, selector);
}

export function useT(): (key: MsgKey, params?: Record<string, string | number>) => string {
  const lang = useDesktop((s) => s.lang);
  return (key, params) => translate(lang, key, params);
}

/** Local clock that re-renders every `ms` (timers in the state bar, call and wrap-up). */
export function useNow(ms = 500): number {
  const [now, setNow] = useState(() => performance.now());
  useEffect(() => {
    const t = setInterval(() => setNow(performance.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}
