import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.js';
import { ControllerContext } from './components/context.js';
import { noticeTimings } from './components/IncomingCall.js';
import { DesktopController } from './lib/desktop.js';
import { createDesktopStore } from './store/index.js';
import './styles.css';

const store = createDesktopStore({
  now: () => performance.now(),
  storage: window.sessionStorage,
  warn: (msg, detail) => console.warn(`[desktop] ${msg}`, detail ?? ''),
});
const params = new URLSearchParams(location.search);
const controller = new DesktopController({
  store,
  audio: document.getElementById('remote-audio') as HTMLAudioElement,
  storage: window.sessionStorage,
  wsOrigin: `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}`,
  // ?rawAudio=1: no echo cancellation / AGC, so test tones keep their level (the e2e tone check).
  audioConstraints:
    params.get('rawAudio') === '1'
      ? { echoCancellation: false, noiseSuppression: false, autoGainControl: false }
      : true,
});
// Read-only handle for diagnostics and the browser tests.
Object.assign(window, { __desktop: { store, controller, noticeTimings } });

// A network loss: the socket and JsSIP reconnect by themselves; 'online' only makes it sooner.
window.addEventListener('online', () => controller.resume());
window.addEventListener('beforeunload', () => controller.close());
controller.resume();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <ControllerContext.Provider value={controller}>
      <App />
    </ControllerContext.Provider>
  </StrictMode>,
);
