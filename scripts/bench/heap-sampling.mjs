/**
 * Allocation sampling for a running server, objects that GC already collected included (what a scavenge has to
 * deal with, not only what is left at the end). Preload it:
 *   node --import ./scripts/bench/heap-sampling.mjs dist/server/main.js      (or scripts/serve.sh --import …)
 * then `kill -USR1 <pid>` starts sampling and `kill -USR2 <pid>` writes HEAP_PROFILE_OUT
 * (default /tmp/hotline.heapprofile); summarise with scripts/bench/heap-profile-summary.mjs.
 * Main thread only (the inspector session is this isolate's).
 */
import fs from 'node:fs';
import inspector from 'node:inspector';

const out = process.env.HEAP_PROFILE_OUT || '/tmp/hotline.heapprofile';
const session = new inspector.Session();
session.connect();
const post = (method, params) =>
  new Promise((resolve, reject) => session.post(method, params, (err, r) => (err ? reject(err) : resolve(r))));

process.on('SIGUSR1', () => {
  post('HeapProfiler.enable')
    .then(() =>
      post('HeapProfiler.startSampling', {
        samplingInterval: 4096,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      }),
    )
    .then(() => console.error(`heap sampling started (pid ${process.pid})`))
    .catch((err) => console.error('heap sampling failed to start', err));
});
process.on('SIGUSR2', () => {
  post('HeapProfiler.stopSampling')
    .then((r) => {
      fs.writeFileSync(out, JSON.stringify(r.profile));
      console.error(`heap profile written to ${out}`);
    })
    .catch((err) => console.error('heap sampling failed to stop', err));
});
