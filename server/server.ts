/**
 * Builds the whole server from a ServerConfig: storage, directory, SIP stack, registrar, call
 * admission and the HTTP app. Tests create it in-process with ephemeral ports; `main.ts` runs it.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { FastifyInstance } from 'fastify';
import type { ServerConfig } from './config.js';
import { buildHttpApp } from './api/app.js';
import { InboundCalls, type CallHandler } from './calls/inbound.js';
import { CallManager, type AccessHandler } from './calls/call-manager.js';
import { CdrStore } from './calls/cdr.js';
import { callControlRoutes, callsRoutes } from './api/routes/calls.js';
import { CallControlError, TransferService, type CallControlDeps, type ControlActor } from './calls/transfer.js';
import { stationFailedNote, ThreeWayService } from './calls/three-way.js';
import { SupervisorService } from './calls/supervisor.js';
import type { PlayItem } from './media/engine/api.js';
import { rooms as socketRooms } from './api/socket/events.js';
import { AuthService } from './api/auth/plugin.js';
import { attachSocketServer, type SocketHub } from './api/socket/index.js';
import { createMediaEngine, type MediaEngine } from './media/engine/index.js';
import type { EndpointKindFactory } from './media/engine/api.js';
import path from 'node:path';
import { Acd } from './acd/acd.js';
import { AcdService } from './acd/service.js';
import { AcdCallBridge } from './calls/acd-bridge.js';
import { awaitAnswer, OutboundCalls, OutboundRefused } from './calls/outbound.js';
import type { UacLeg } from './calls/sip-leg.js';
import { IvrAccessHandler } from './calls/ivr-access.js';
import { defaultCalendar, DEFAULT_HOTLINE_HOURS } from './calendar/index.js';
import { ivrCalendarFrom } from './ivr/adapters.js';
import { IvrEngine } from './ivr/engine.js';
import { FlowRegistry } from './ivr/registry.js';
import { IvrStore } from './ivr/services.js';
import { caseLookupFrom, voicemailSinkFrom } from './ivr/adapters.js';
import { CaseRepository } from './cases/repository.js';
import type { CaseType } from './cases/workflow.js';
import { KbRepository } from './kb/repository.js';
// --- merchant stations (issue 7) ---
import { MediationStore } from './cases/mediation.js';
import {
  MerchantCallBoard,
  MerchantRepository,
  MerchantStationResolver,
  type StationResolver,
} from './merchants/index.js';
import { merchantRoutes } from './api/routes/merchants.js';
import { attachCaseSocket, caseRoutes, type CaseSocket } from './api/routes/cases.js';
import { kbRoutes } from './api/routes/kb.js';
import { seatCredentialsRoutes } from './api/routes/seat-credentials.js';
import { leadSeatRoutes } from './api/routes/lead-seats.js';
import { staticRoutes } from './api/routes/static.js';
import { metricsRoutes } from './api/routes/metrics.js';
import { reportRoutes } from './api/routes/reports.js';
import { MetricsService } from './metrics/service.js';
import type { IvrServices } from './ivr/port.js';
import { Directory } from './directory/directory.js';
import { seedDemo, type DemoSeed } from './directory/seed.js';
import { DigestAuthenticator } from './sip/auth/digest.js';
import { Registrar } from './sip/registrar/registrar.js';
import { SipStack } from './sip/stack.js';
import { loadTlsContext } from './sip/transport/index.js';
import { RequestAuthenticator } from './sip/ua/authenticate.js';
import { SipDefence } from './sip/ua/defence.js';
import { openDatabase, type Database } from './storage/database.js';
import { systemClock, type Clock } from './util/clock.js';
import { createLogger } from './util/log.js';
// --- ops (issue 9): admission control, graceful shutdown ---
import { AdmissionControl, ProcessProbes, type AdmissionLimits, type LoadProbes } from './ops/overload.js';
import { loadOpsConfig, type OpsConfig, type RetentionConfig } from './ops/config.js';
import { gracefulShutdown, type ShutdownReport } from './ops/shutdown.js';
import { RecordingAudit } from './ops/recording-audit.js';
import { RetentionJob } from './ops/retention.js';
import { recordingsRoutes } from './api/routes/recordings.js';

export const SERVER_NAME = 'hotline12315/0.1';

export interface HotlineServerOverrides {
  clock?: Clock;
  /** Call control for admitted INVITEs; default: the CallManager. */
  callHandler?: CallHandler;
  /** The IVR for access numbers. */
  accessHandler?: AccessHandler;
  /** 'inline' puts the media engine on the main thread (tests that need a FakeClock-free inline engine). */
  mediaThread?: 'worker' | 'inline';
  /** Wall clock for business hours and dates read back by the IVR (tests pin it to a working day). */
  wallClock?: () => Date;
  /** Directory of IVR flows; default ivr-flows/ beside the package. */
  ivrFlowsDir?: string;
  /** Faster scrypt for tests. */
  scrypt?: { N: number; r: number; p: number };
  /** Ops settings over the environment's (issue 9): admission limits, drain, retention. */
  ops?: { admission?: Partial<AdmissionLimits>; drainTimeoutMs?: number; retention?: Partial<RetentionConfig> };
  /** Load probes for admission control; default the process's own (event-loop delay, CPU, calls). */
  loadProbes?: LoadProbes;
  /** Merchant stations for three-way calls; default: the id is a registered station extension. */
  stations?: StationResolver;
  /** The agent hangs up while the station rings: consumer back to the queue (default) or kept for the station. */
  threeWayAgentHangup?: 'queue' | 'keep';
}

export interface HotlineServer {
  readonly config: ServerConfig;
  readonly db: Database;
  readonly directory: Directory;
  readonly sip: SipStack;
  readonly registrar: Registrar;
  readonly engine: MediaEngine;
  readonly calls: CallManager;
  readonly acd: AcdService;
  readonly ivr: IvrEngine;
  readonly flows: FlowRegistry;
  readonly ivrStore: IvrStore;
  readonly cases: CaseRepository;
  readonly kb: KbRepository;
  /** 维权站 directory, the three-way announcements to stations, mediation outcomes (issue 7). */
  readonly merchants: MerchantRepository;
  readonly merchantCalls: MerchantCallBoard;
  readonly mediation: MediationStore;
  /** For call control's three-way: station id → extension or external number. */
  readonly stationResolver: StationResolver;
  readonly cdr: CdrStore;
  /** Event log, KPIs, reports, Prometheus and the wallboard feed (issue 8). */
  readonly metrics: MetricsService;
  readonly http: FastifyInstance;
  /** Admission control for new calls (503 + Retry-After when overloaded, full or draining). */
  readonly admission: AdmissionControl;
  readonly ops: OpsConfig;
  readonly recordingAudit: RecordingAudit;
  readonly retention: RetentionJob;
  /** SIGTERM: new calls 503, live calls drain up to drainTimeoutMs, the rest hung up, then close(). */
  shutdown(o?: { drainTimeoutMs?: number }): Promise<ShutdownReport>;
  readonly demoSeed: DemoSeed | null;
  start(): Promise<void>;
  listening(): {
    sip: { transport: string; address: string; port: number }[];
    http: { address: string; port: number } | null;
  };
  close(): Promise<void>;
}

/** Built-in numbers that are not extensions: 9196 echo test, 7000 short benchmark flow, 9100 meet-me room. */
export const SERVICE_NUMBERS = ['9196', '7000', '9100'];

export async function createHotlineServer(
  config: ServerConfig,
  o: HotlineServerOverrides = {},
): Promise<HotlineServer> {
  const clock = o.clock ?? systemClock;
  // Checked first, before anything is opened: a bad certificate stops the start with a clear error. With a
  // certificate the desktop is served over HTTPS and browsers reach SIP over WSS (a secure context is what
  // lets them use the microphone away from localhost).
  const https = config.tls ? loadTlsContext(config.tls.certFile, config.tls.keyFile) : undefined;
  const log = createLogger('server');
  if (config.databaseFile !== ':memory:') fs.mkdirSync(config.dataDir, { recursive: true });
  const db = openDatabase(config.databaseFile);
  const directory = new Directory(db, o.scrypt ? { scrypt: o.scrypt } : {});
  const demoSeed = config.seedDemo
    ? await seedDemo(db, { realm: config.realm, accessNumber: config.accessNumbers[0], scrypt: o.scrypt })
    : null;

  // Trunk gateways are never banned: one misconfigured phone behind them must not cut the hotline off.
  const trunkSources = directory.trunks.list().flatMap((t) => t.allowedSources.filter((x) => !x.includes('/')));
  const defence = new SipDefence(
    {
      exempt: [...trunkSources, ...config.defenceExempt],
      onBan: (e) => log.warn(e, 'SIP source banned after repeated authentication failures'),
    },
    clock,
  );
  const sip = new SipStack({
    defence,
    clock,
    log: createLogger('sip'),
    serverName: SERVER_NAME,
    scannerPolicy: config.scannerPolicy,
    transport: {
      host: config.bindHost,
      advertisedHost: config.advertisedHost,
      udpPort: config.sipPort,
      tcpPort: config.sipPort,
      tls: config.tls && config.sipTlsPort !== null ? { port: config.sipTlsPort, ...config.tls } : undefined,
      rateLimit: config.sipRateLimit,
    },
  });

  const digest = new DigestAuthenticator({
    realm: config.realm,
    secret: config.nonceSecret ?? randomBytes(32),
    clock: { now: () => Date.now() },
    algorithms: config.digestAlgorithms,
  });
  const lookupHa1 = directory.devices.ha1Lookup(config.realm);
  const authenticator = new RequestAuthenticator(digest, lookupHa1, createLogger('sip-auth'), (ip, user, reason) =>
    defence.recordAuthFailure(ip, user, reason),
  );
  // Registrations and CDRs: their own connection, without an fsync per write (see below).
  const locationDb =
    config.databaseFile === ':memory:' ? db : openDatabase(config.databaseFile, { synchronous: 'NORMAL' });
  const registrar = new Registrar({
    db: locationDb,
    domain: config.realm,
    clock,
    logger: createLogger('registrar'),
    supportedExtensions: ['path', 'outbound'],
    maxExpires: config.sipMaxExpires,
  });
  sip.ua.on('REGISTER', (request) => {
    const user = authenticator.authenticate(request);
    if (user === null) return;
    const outcome = registrar.handleRegister(request.req, { extension: user });
    request.reply(outcome.status, {
      reason: outcome.reason,
      headers: outcome.headers.map((h) => [h.name, h.value] as const),
    });
  });

  // CDRs are written twice per call on the event loop: with an fsync each (FULL) they capped call setup
  // near 200/s. In WAL mode NORMAL still survives kill -9; only a power cut can lose the last rows.
  const cdr = new CdrStore(locationDb);
  const interrupted = cdr.markInterrupted(Date.now());
  if (interrupted > 0) log.warn({ interrupted }, 'calls that were live at the last stop are marked interrupted');
  const engine = await createMediaEngine({
    bindAddress: config.bindHost,
    advertiseAddress: config.advertisedHost,
    portMin: config.rtpPortMin,
    portMax: config.rtpPortMax,
    thread: o.mediaThread,
  });
  // Browser agents (JsSIP) bring ICE + DTLS-SRTP: their legs are WebRTC endpoints.
  // werift and its certificate stack are loaded once SIP and HTTP listen (start()), not before: they were
  // a large share of a restart's module loading, and no browser call can come before its seat re-registers.
  // A call that does come first waits for the load here.
  let webRtc: Promise<EndpointKindFactory> | null = null;
  const loadWebRtc = () =>
    (webRtc ??= import('./media/webrtc/endpoint.js').then(async (m) => {
      const kind = m.webRtcEndpointKind({
        hostAddresses: config.webrtc.hostAddresses,
        publicAddress: config.webrtc.publicAddress ?? undefined,
        stunServer: config.webrtc.stunServer ?? undefined,
      });
      // The DTLS certificate, made now rather than by the first agent's call.
      await m.warmUpWebRtc();
      return kind;
    }));
  engine.registerEndpointKind('webrtc', async (opts) => (await loadWebRtc())(opts));
  // IVR: flows from ivr-flows/, services from the calendar and the stores.
  const flows = new FlowRegistry({ dir: o.ivrFlowsDir ?? config.ivrFlowsDir, log: createLogger('ivr'), clock });
  const report = flows.reload();
  if (!report.ok) log.error({ errors: report.errors.map((e) => e.message) }, 'IVR flows have errors');
  const ivrStore = new IvrStore(db);
  const wallClock = o.wallClock ?? (() => new Date());
  const cases = new CaseRepository(db, { now: wallClock });
  if (config.seedDemo) cases.seedDemoUnits();
  const kb = new KbRepository(db);
  kb.seed();
  const merchants = new MerchantRepository(
    db,
    {
      deviceKind: (ext) => directory.devices.get(ext)?.kind ?? null,
      trunkExists: (name) => directory.trunks.get(name) !== null,
    },
    wallClock,
  );
  if (config.seedDemo) merchants.seedDemo();
  const mediation = new MediationStore(db, cases, wallClock);
  const merchantCalls = new MerchantCallBoard({ clock, wallNow: wallClock });
  const stationResolver = new MerchantStationResolver(merchants);
  /** The draft case opened when a call is offered to an agent, by call id (screen pop, survey). */
  const draftOfCall = new Map<string, number>();
  const ivrServices: IvrServices = {
    calendar: ivrCalendarFrom(defaultCalendar(), { default: DEFAULT_HOTLINE_HOURS }),
    cases: caseLookupFrom(cases),
    callbacks: ivrStore,
    surveys: ivrStore,
    voicemail: voicemailSinkFrom(cases),
    wallClock,
  };
  const ivr = new IvrEngine({ flows: () => flows.snapshot(), services: ivrServices, clock, log: createLogger('ivr') });
  const access = new IvrAccessHandler({
    ivr,
    flows,
    engine,
    clock,
    log: createLogger('ivr'),
    voicemailDir: path.join(config.dataDir, 'voicemail'),
    defaultFlow: config.ivrFlow,
    caseIdForCall: (callId) => {
      const id = draftOfCall.get(callId);
      return id === undefined ? null : String(id);
    },
  });

  const calls = new CallManager({
    stack: sip,
    engine,
    registrar,
    cdr,
    clock,
    log: createLogger('calls'),
    realm: config.realm,
    testPrompt: { toneHz: 440, ms: 1000 },
    accessHandler: o.accessHandler ?? access,
    // Issue 4: RTP endpoints made ahead, so an INVITE's path to 200 OK has one media worker round trip, not two.
    endpointReserve: Number(process.env.CALL_ENDPOINT_RESERVE ?? 32) || 0,
  });
  access.calls = calls;

  // ACD: queues and agents; the bridge carries its decisions out over SIP and media.
  const acdBridge = new AcdCallBridge({
    calls,
    // Callbacks (and later agents dialling out) leave through the outbound trunk, if one is configured.
    outbound: new OutboundCalls({
      stack: sip,
      engine,
      registrar,
      directory,
      clock,
      log: createLogger('outbound'),
      realm: config.realm,
      cdr,
    }),
    engine,
    clock,
    log: createLogger('acd'),
    announcements: access.announcements(path.join(config.ivrFlowsDir, 'prompts', 'moh.wav'), 30_000),
    // The desktop opens on a case that already holds the caller, the IVR choice and the call.
    onOffer: (call, agentId) => {
      const category = (call.ivrPath.find((p) => p.startsWith('queue:')) ?? '').slice(6);
      const type: CaseType | undefined =
        category === 'complaint' || category === 'report'
          ? category
          : category === 'consultation'
            ? 'consultation'
            : undefined;
      const draft = cases.createDraftForCall({
        callId: call.id,
        callerNumber: call.callerNumber,
        ivrPath: call.ivrPath,
        queue: call.queue ?? '',
        agentId: acd.store.agent(agentId)?.webUserId ?? null,
        type,
      });
      draftOfCall.set(call.id, draft.id);
      call.onEnd(() => {
        draftOfCall.delete(call.id);
      });
    },
  });
  const acdCore = new Acd({
    clock,
    callControl: acdBridge,
    log: createLogger('acd'),
    wallNow: () => wallClock().getTime(),
  });
  acdBridge.attach(acdCore);
  access.acd = acdBridge;
  const acd = new AcdService({ db, directory, acd: acdCore, log: createLogger('acd') });
  // Metrics: the event log rides on the NORMAL-sync connection with the CDRs (batched, no fsync per event).
  const metrics = new MetricsService({
    acd: acdCore,
    logDb: locationDb,
    caseDb: db,
    clock,
    cdrs: (from, to) => cdr.list({ from, to, limit: 1_000_000 }),
    log: createLogger('metrics'),
    media: () => engine.stats(),
  });

  const envOps = loadOpsConfig(process.env);
  const ops: OpsConfig = {
    admission: { ...envOps.admission, ...o.ops?.admission },
    drainTimeoutMs: o.ops?.drainTimeoutMs ?? envOps.drainTimeoutMs,
    retention: { ...envOps.retention, ...o.ops?.retention },
  };
  const processProbes = o.loadProbes ? null : new ProcessProbes(() => calls.calls.size);
  const admission = new AdmissionControl(o.loadProbes ?? processProbes!, clock, ops.admission);
  const inbound = new InboundCalls({
    gate: admission,
    directory,
    authenticator,
    accessNumbers: config.accessNumbers,
    serviceNumbers: SERVICE_NUMBERS,
    handler: o.callHandler ?? calls,
    log: createLogger('calls'),
  });
  sip.ua.on('INVITE', (request) => inbound.handle(request));

  const startedAt = Date.now();
  const auth = AuthService.create(directory.webUsers, db);
  const http = await buildHttpApp({ health: { startedAt, transports: () => sip.transport.info() }, auth, acd, https });
  await http.register(callsRoutes, { listCalls: () => calls.list() });

  // Transfers, three-way calls, supervisor monitoring: one conference room per call, recorded.
  const recordingsDir = path.join(config.dataDir, 'recordings');
  const holdAnnouncements = access.announcements(path.join(config.ivrFlowsDir, 'prompts', 'moh.wav'), 30_000);
  const transferOut = new OutboundCalls({
    stack: sip,
    engine,
    registrar,
    directory,
    clock,
    log: createLogger('outbound'),
    realm: config.realm,
    cdr,
  });
  const control: CallControlDeps = {
    calls,
    acdBridge,
    acd: acdCore,
    clock,
    log: createLogger('call-control'),
    accessNumbers: config.accessNumbers,
    audit: (actor, action, target, detail) => acd.store.audit(actor, action, target, detail ?? {}),
    // Transfers to outside numbers leave through the trunk, guarded by the transferring seat's dial patterns.
    dialNumber: async (call, number, signal) => {
      const seat = call.agent?.id ? (acdCore.agent(call.agent.id)?.seat ?? null) : null;
      let leg: UacLeg;
      try {
        leg = await transferOut.dialOut(number, { onBehalfOf: seat ?? '', displayName: '12315转接' });
      } catch (err) {
        if (err instanceof OutboundRefused) return { result: 'unavailable', leg: null };
        throw err;
      }
      call.outbound.add(leg);
      leg.once('ended', () => call.outbound.delete(leg));
      const r = await awaitAnswer([leg], { clock, timeoutMs: 30_000, signal });
      const result = r.result === 'answered' || r.result === 'busy' || r.result === 'no-answer' ? r.result : 'failed';
      return { result, leg: r.leg };
    },
    room: {
      engine,
      log: createLogger('call-control'),
      recordingFile: (call) => {
        if (config.databaseFile === ':memory:') return null;
        fs.mkdirSync(recordingsDir, { recursive: true });
        return path.join(recordingsDir, `${call.id}.wav`);
      },
      onRecording: (call, file) => cdr.update(call.id, { recordingFile: file }),
      onHoldChange: (call, held) => metrics.recorder.holdChanged(call.id, held),
      holdItems: async () => {
        const notice: PlayItem[] = [];
        const f = holdAnnouncements.prompt('zh', 'to_agent');
        if (f) notice.push(await engine.loadPrompt(f));
        const music: PlayItem[] = holdAnnouncements.mohFile
          ? [await engine.loadPrompt(holdAnnouncements.mohFile)]
          : [{ silenceMs: 1000 }];
        return { notice, music };
      },
    },
  };
  const toLeadsAnd = (agentId: string | null) => [
    ...(agentId ? [socketRooms.agent(agentId)] : []),
    socketRooms.role('lead'),
    socketRooms.role('admin'),
  ];
  const transfers = new TransferService(control);
  const threeWay = new ThreeWayService({
    ...control,
    stations: o.stations ?? stationResolver,
    agentHangup: o.threeWayAgentHangup ?? (process.env.THREE_WAY_AGENT_HANGUP === 'keep' ? 'keep' : 'queue'),
    publish: (agentId, p) => {
      sockets?.io.to(toLeadsAnd(agentId)).emit('call:conference', p);
      // The station is out of the call: its portal keeps the case for the outcome form, marked ended.
      if (p.state === 'ended' || p.state === 'failed' || p.state === 'two_party') merchantCalls.ended(p.callId);
    },
    onStationFailed: (call, station, reason) => {
      log.info({ call: call.id, station: station.id, reason }, 'station did not join the three-way call');
      // Issue 7: the call returns to two parties with a note on the case.
      try {
        cases.addNoteForCall(call.id, stationFailedNote(station, reason), { id: null, role: 'system' });
      } catch (err) {
        log.warn({ err, call: call.id }, 'three-way note not written');
      }
    },
  });
  const supervisor = new SupervisorService({
    ...control,
    coach: (agentId, p) => {
      if (agentId) sockets?.io.to(socketRooms.agent(agentId)).emit('call:coaching', p);
    },
  });
  const actorOf = (u: { id: number; username: string; role: string }): ControlActor => ({
    username: u.username,
    role: u.role as ControlActor['role'],
    agentId: acd.store.agentByUser(u.id)?.workNo ?? null,
  });
  await http.register(callControlRoutes, {
    control: {
      actor: actorOf,
      transfer: (id, a, target, mode) => transfers.transfer(id, a as ControlActor, target, mode ?? 'cold'),
      transferComplete: (id, a) => transfers.complete(id, a as ControlActor),
      transferCancel: (id, a) => transfers.cancel(id, a as ControlActor),
      threeWay: (id, a, station) => threeWay.start(id, a as ControlActor, station),
      threeWayJoin: (id, a) => threeWay.join(id, a as ControlActor),
      leave: (id, a) => threeWay.leave(id, a as ControlActor),
      rejoin: (id, a) => threeWay.rejoin(id, a as ControlActor),
      end: (id, a) => threeWay.end(id, a as ControlActor),
      monitor: (id, a, mode, seat) => supervisor.monitor(id, a as ControlActor, mode, seat),
      monitorStop: (id, a) => supervisor.stop(id, a as ControlActor),
      errorOf: (err) =>
        err instanceof CallControlError ? { status: err.status, code: err.code, message: err.message } : null,
    },
  });
  await http.register(caseRoutes, {
    cases,
    queuesOf: (userId) => Object.keys(acd.store.agentByUser(userId)?.queues ?? {}),
  });
  await http.register(kbRoutes, { kb });
  await http.register(seatCredentialsRoutes, { acd, directory, realm: config.realm });
  // --- lead screens (issue 8 UI): a lead signs an agent in at a seat ---
  await http.register(leadSeatRoutes, { acd, directory });
  // --- ops (issue 9): recordings behind roles + audit; retention purge ---
  const recordingAudit = new RecordingAudit(db);
  await http.register(recordingsRoutes, {
    recordingOf: (callId) => cdr.get(callId)?.recordingFile ?? null,
    agentOf: (callId) => {
      try {
        return cases.getByCall(callId).agentId;
      } catch {
        return null;
      }
    },
    audit: (e) => recordingAudit.record(e),
  });
  const retention = new RetentionJob({
    cdrDb: locationDb,
    audit: recordingAudit,
    flush: () => cdr.flush(),
    config: ops.retention,
    clock,
    log: createLogger('retention'),
  });
  await http.register(merchantRoutes, {
    merchants,
    board: merchantCalls,
    cases,
    mediation,
    directory,
    realm: config.realm,
    queuesOf: (userId) => Object.keys(acd.store.agentByUser(userId)?.queues ?? {}),
    wallNow: wallClock,
  });
  await http.register(metricsRoutes, { metrics, scrapeToken: process.env.METRICS_TOKEN ?? null });
  await http.register(reportRoutes, { metrics });
  await http.register(staticRoutes, {});

  let sockets: SocketHub | null = null;
  let caseSocket: CaseSocket | null = null;
  let closed: Promise<void> | null = null;
  return {
    config,
    db,
    directory,
    sip,
    registrar,
    engine,
    calls,
    acd,
    ivr,
    flows,
    ivrStore,
    cases,
    kb,
    merchants,
    merchantCalls,
    mediation,
    stationResolver,
    cdr,
    metrics,
    http,
    demoSeed,
    admission,
    ops,
    recordingAudit,
    retention,
    shutdown(this: HotlineServer, so: { drainTimeoutMs?: number } = {}) {
      return gracefulShutdown(
        {
          drain: () => admission.drain(),
          liveCalls: () => calls.calls.size,
          hangupAll: () => calls.close(),
          close: () => this.close(),
        },
        { drainTimeoutMs: so.drainTimeoutMs ?? ops.drainTimeoutMs },
        clock,
        log,
      );
    },
    async start() {
      admission.start();
      retention.start();
      await sip.listen();
      await http.listen({ host: config.bindHost, port: config.httpPort });
      sip.attachWebSocket(http.server, '/sip', https !== undefined);
      sockets = attachSocketServer(http.server, {
        auth,
        acd,
        wallboard: { snapshot: () => metrics.wallboard(), onChange: (fn) => metrics.onWallboardChange(fn), clock },
      });
      // The case form's live autosave, on the same socket.io server (namespace /cases).
      caseSocket = attachCaseSocket(sockets.io, {
        auth,
        cases,
        queuesOf: (userId) => Object.keys(acd.store.agentByUser(userId)?.queues ?? {}),
      });
      log.info({ sip: sip.transport.info() }, 'listening');
      loadWebRtc().catch((err: unknown) => log.error({ err }, 'WebRTC (werift) failed to load'));
    },
    listening() {
      const addr = http.server.address();
      return {
        sip: sip.transport.info().map(({ transport, address, port }) => ({ transport, address, port })),
        http: addr && typeof addr === 'object' ? { address: addr.address, port: addr.port } : null,
      };
    },
    close() {
      closed ??= (async () => {
        admission.close();
        processProbes?.close();
        retention.close();
        await calls.close();
        caseSocket?.close();
        await sockets?.close();
        acdCore.close();
        metrics.close();
        flows.close();
        await http.close();
        await sip.close();
        await engine.close();
        registrar.close();
        cdr.close();
        merchantCalls.close();
        cases.close();
        if (locationDb !== db) locationDb.close();
        db.close();
      })();
      return closed;
    },
  };
}
