import { createContext, useContext } from 'react';
import { useDesktop } from '../components/context.js';
import type { LeadController } from './controller.js';
import { leadText, type LeadKey } from './i18n.js';

export const LeadContext = createContext<LeadController | null>(null);

export function useLead(): LeadController {
  const c = useContext(LeadContext);
  if (!c) throw new Error('LeadController missing');
  return c;
}

export function useLeadT(): (key: LeadKey, params?: Record<string, string | number>) => string {
  const lang = useDesktop((s) => s.lang);
  return (key, params) => leadText(lang, key, params);
}
