/** Media worker entry: an EngineCore in its own thread, driven by the ticker port and by messages. */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { createLogger } from '../../util/log.js';
import type { MediaEngineOptions } from './api.js';
import type { FromWorker, ToWorker } from './channels.js';
import { toWireError } from './client.js';
import { EngineCore } from './core.js';
import { PortTickSource } from './ticker.js';

const { opts, tickPort } = workerData as { opts: MediaEngineOptions; tickPort: MessagePort };
const port = parentPort!;
const post = (m: FromWorker) => port.postMessage(m);

const core = new EngineCore(opts, {
  clock: { now: () => performance.now(), setTimeout: () => ({ id: 0 }), clearTimeout: () => undefined },
  ticks: new PortTickSource(tickPort),
  emit: (e) => post({ t: 'evt', e }),
  log: createLogger('media-worker'),
  thread: 'worker',
});

port.on('message', (m: ToWorker) => {
  if (m.t === 'pkt') {
    core.externalPacket(m.ep, Buffer.from(m.buf.buffer, m.buf.byteOffset, m.buf.byteLength));
    return;
  }
  let r: unknown;
  try {
    r = core.handle(m.cmd, m.args);
  } catch (err) {
    post({ t: 'res', id: m.id, ok: false, error: toWireError(err) });
    return;
  }
  Promise.resolve(r).then(
    (value) => post({ t: 'res', id: m.id, ok: true, value }),
    (err: unknown) => post({ t: 'res', id: m.id, ok: false, error: toWireError(err) }),
  );
});
post({ t: 'ready' });
