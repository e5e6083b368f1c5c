/** Media worker entry: an EngineCore in its own thread, driven by the ticker port and by messages. */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
import { createLogger } from '../../util/log.js';
import type { MediaEngineOptions } from './api.js';
import type { FromWorker, ToWorker } from './channels.js';
import { toWireError } from './client.js';
import { EngineCore, FRAME_MS } from './core.js';
import { pinThisThread, raiseThisThread } from './realtime.js';
import { PortTickSource, SelfPacedTickSource } from './ticker.js';

const { opts, tickPort } = workerData as { opts: MediaEngineOptions; tickPort: MessagePort | null };
const phases = Math.max(1, Math.min(20, Math.floor(opts.phases ?? 4)));
const port = parentPort!;
const post = (m: FromWorker) => port.postMessage(m);

const log = createLogger('media-worker');
if (opts.realtimePriority) {
  const why = raiseThisThread(opts.realtimePriority);
  if (why) log.warn({ priority: opts.realtimePriority, why }, 'media worker keeps ordinary scheduling');
}
if (opts.cpus) {
  const why = pinThisThread(opts.cpus);
  if (why) log.warn({ cpus: opts.cpus, why }, 'media worker runs on any CPU');
}
const core = new EngineCore(opts, {
  clock: { now: () => performance.now(), setTimeout: () => ({ id: 0 }), clearTimeout: () => undefined },
  ticks: tickPort
    ? new PortTickSource(tickPort, (why) => log.warn({ why }, 'media ticker keeps ordinary scheduling'))
    : new SelfPacedTickSource(FRAME_MS / phases, opts.pacingGuardMs ?? 1.5, (err) =>
        log.error({ err }, 'media tick failed'),
      ),
  emit: (e) => post({ t: 'evt', e }),
  log,
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
