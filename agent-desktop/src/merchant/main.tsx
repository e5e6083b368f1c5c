import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '../styles.css';
import './merchant.css';
import { MerchantApp, PortalContext } from './MerchantApp.js';
import { MerchantPortal } from './portal.js';
import { createMerchantStore } from './store.js';

const store = createMerchantStore();
const portal = new MerchantPortal(store, {
  audio: document.getElementById('remote-audio') as HTMLAudioElement,
  storage: window.sessionStorage,
  wsOrigin: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`,
});
// Read-only handle for diagnostics and the browser tests.
Object.assign(window, { __merchant: { store, portal } });
window.addEventListener('beforeunload', () => portal.close());
void portal.resume();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <PortalContext.Provider value={portal}>
      <MerchantApp />
    </PortalContext.Provider>
  </StrictMode>,
);
