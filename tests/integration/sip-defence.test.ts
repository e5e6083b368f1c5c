/**
 * SIP defence against Debian's SIPVicious (svwar: extension scanner, svcrack: password cracker).
 *
 * The server here is composed in the test the way server/sip/stack.ts + server/server.ts compose
 * it, plus the defence wiring they do not have yet (see docs/reliability.md): digest failures feed
 * SipDefence, and a banned source's messages are dropped before the transaction layer (the
 * production wiring drops them before parsing, in the transport).
 *
 * SIPVicious announces itself (User-Agent: friendly-scanner) and the stack drops such requests
 * unanswered. Real attackers change that header, so the tools also run "disguised": a tiny
 * wrapper replaces the default User-Agent of svhelper.makeRequest. The wrapper also lowers the
 * tools' fixed 10 s socket timeout (how long they wait for stragglers) to keep the test short,
 * and binds them to the attacker's loopback address (their own -b option is ignored in 0.3.3).
 */
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InboundCalls } from '../../server/calls/inbound.js';
import { Directory } from '../../server/directory/directory.js';
import { seedDemo } from '../../server/directory/seed.js';
import { DigestAuthenticator } from '../../server/sip/auth/digest.js';
import { DialogLayer } from '../../server/sip/dialogs/layer.js';
import { createResponse } from '../../server/sip/message/build.js';
import { SipRequest, type SipMessage } from '../../server/sip/message/message.js';
import type { Endpoint } from '../../server/sip/message/types.js';
import { Registrar } from '../../server/sip/registrar/registrar.js';
import { TransactionLayer } from '../../server/sip/transactions/layer.js';
import { TransportLayer } from '../../server/sip/transport/index.js';
import { RequestAuthenticator } from '../../server/sip/ua/authenticate.js';
import { SipDefence, type SipDefenceOptions } from '../../server/sip/ua/defence.js';
import { isScannerUserAgent } from '../../server/sip/ua/scanner.js';
import { UserAgentCore } from '../../server/sip/ua/user-agent-core.js';
import { openDatabase, type Database } from '../../server/storage/database.js';
import { systemClock } from '../../server/util/clock.js';
import { createLogger } from '../../server/util/log.js';
import { freeUdpPort } from '../helpers/ports.js';
import { makeTempDir, removeTempDir, trackChild } from '../helpers/tmp.js';
import { TEST_SCRYPT } from '../helpers/server.js';

const REALM = '12315.local';
const SIPVICIOUS_PATH = '/usr/share/sipvicious';

interface DefendedServer {
  port: number;
  defence: SipDefence;
  /** statuses counts distinct answered transactions; a retransmitted response is counted once. */
  counters: {
    answered: number;
    statuses: Map<number, number>;
    scannersDropped: number;
    /** Distinct requests carrying credentials that got past the defence (retransmissions once). */
    guessesAdmitted: Set<string>;
  };
  close(): Promise<void>;
}

let db: Database;
let directory: Directory;
let dataDir: string;
let workDir: string;
let wrapper: string;

beforeAll(async () => {
  dataDir = makeTempDir('defence-data-');
  workDir = makeTempDir('defence-work-');
  db = openDatabase(path.join(dataDir, 'hotline.sqlite'));
  directory = new Directory(db, { scrypt: TEST_SCRYPT });
  await seedDemo(db, { realm: REALM, accessNumber: '12315', scrypt: TEST_SCRYPT });
  wrapper = path.join(workDir, 'sv.py');
  fs.writeFileSync(
    wrapper,
    [
      'import socket, sys',
      `sys.path.insert(0, ${JSON.stringify(SIPVICIOUS_PATH)})`,
      'tool, ua, bind_ip = sys.argv[1], sys.argv[2], sys.argv[3]',
      // svwar/svcrack 0.3.3 accept -b but never pass it to the scanner: pin the source address here.
      '_bind = socket.socket.bind',
      'socket.socket.bind = lambda self, a: _bind(self, (bind_ip, a[1]) if a[0] in ("", "0.0.0.0") else a)',
      'if ua != "-":',
      '    from sipvicious.libs import svhelper',
      '    d = list(svhelper.makeRequest.__defaults__)',
      '    d[d.index("friendly-scanner")] = ua',
      '    svhelper.makeRequest.__defaults__ = tuple(d)',
      '_settimeout = socket.socket.settimeout',
      'socket.socket.settimeout = lambda self, t: _settimeout(self, None if t is None else min(t, 1.5))',
      'import importlib',
      'mod = importlib.import_module("sipvicious." + tool)',
      'sys.argv = [tool, "-x", bind_ip] + sys.argv[4:]',
      'mod.main()',
    ].join('\n'),
  );
});

afterAll(() => {
  db?.close();
  if (dataDir) removeTempDir(dataDir);
  if (workDir) removeTempDir(workDir);
});

/** The SIP stack of server/sip/stack.ts with the registrar and INVITE admission of server/server.ts, defended. */
async function startDefended(opts: Partial<SipDefenceOptions>): Promise<DefendedServer> {
  const clock = systemClock;
  const log = createLogger('defence-test');
  const defence = new SipDefence(opts, clock);
  const counters = {
    answered: 0,
    statuses: new Map<number, number>(),
    scannersDropped: 0,
    guessesAdmitted: new Set<string>(),
  };
  const answeredKeys = new Set<string>();
  const port = await freeUdpPort();
  const send = (msg: SipMessage, dest: Endpoint) => {
    if (!msg.isRequest) {
      const st = (msg as unknown as { status: number }).status;
      // A loaded machine makes svcrack retransmit guesses and the transaction layer repeats its
      // answer (RFC 3261 §17.2.1); the same response to the same transaction is one answer.
      const key = `${st} ${msg.headers.get('Via')} ${msg.headers.get('CSeq')}`;
      if (!answeredKeys.has(key)) {
        answeredKeys.add(key);
        counters.answered++;
        counters.statuses.set(st, (counters.statuses.get(st) ?? 0) + 1);
      }
    }
    const p = msg.isRequest ? transport.send(msg as SipRequest, dest) : transport.sendResponse(msg as never, dest);
    p.catch(() => undefined);
  };
  const transport: TransportLayer = new TransportLayer({
    host: '127.0.0.1',
    udpPort: port,
    clock,
    log,
    onMessage: (msg) => {
      // Production wiring: TransportLayerOptions.admit, consulted before parsing.
      if (msg.source && !defence.admit(msg.source.address)) return;
      if (msg instanceof SipRequest && isScannerUserAgent(msg.headers.get('User-Agent'))) {
        counters.scannersDropped++;
        return;
      }
      if (msg instanceof SipRequest && msg.headers.get('Authorization'))
        counters.guessesAdmitted.add(`${msg.headers.get('Via')} ${msg.headers.get('CSeq')}`);
      transactions.receive(msg);
    },
  });
  const dialogs = new DialogLayer({ clock, log });
  const transactions: TransactionLayer = new TransactionLayer({
    clock,
    log,
    send,
    reliable: (dest) => transport.reliable(dest),
    onRequest: (req, tx) => {
      // Production wiring: per-source INVITE cap before the UA core spends anything on it.
      if (req.method === 'INVITE' && req.toTag === null && req.source) {
        const lease = defence.acquire('invite', req.source.address, () => !tx.isTerminated);
        if (!lease) {
          const res = createResponse(req, 503, 'Service Unavailable');
          res.headers.add('Retry-After', '30');
          tx.respond(res);
          return;
        }
      }
      ua.receiveRequest(req, tx);
    },
    onStrayResponse: () => undefined,
    onStrayAck: (ack) => dialogs.receiveAck(ack),
  });
  const ua: UserAgentCore = new UserAgentCore({
    transactions,
    dialogs,
    log,
    serverName: 'hotline12315/test',
    checks: { supportedExtensions: ['path', 'outbound'], acceptedContentTypes: ['application/sdp'] },
  });
  const digest = new DigestAuthenticator({
    realm: REALM,
    secret: 'defence-test-secret',
    clock: { now: () => Date.now() },
    algorithms: ['MD5'],
  });
  const authenticator = new RequestAuthenticator(
    digest,
    directory.devices.ha1Lookup(REALM),
    log,
    defence.recordAuthFailure,
  );
  const registrar = new Registrar({ db, domain: REALM, clock, logger: log, supportedExtensions: ['path'] });
  ua.on('REGISTER', (request) => {
    const user = authenticator.authenticate(request);
    if (user === null) return;
    const outcome = registrar.handleRegister(request.req, { extension: user });
    request.reply(outcome.status, {
      reason: outcome.reason,
      headers: outcome.headers.map((h) => [h.name, h.value] as const),
    });
  });
  const inbound = new InboundCalls({
    directory,
    authenticator,
    accessNumbers: ['12315'],
    serviceNumbers: ['9196', '7000'],
    handler: { offer: (request) => void request.reply(480) },
    log,
  });
  ua.on('INVITE', (request) => inbound.handle(request));
  await transport.listen();
  return {
    port,
    defence,
    counters,
    async close() {
      dialogs.close();
      transactions.close();
      await transport.close();
      registrar.close();
      defence.close();
    },
  };
}

interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs svwar/svcrack bound to `bindIp`; `userAgent` '-' keeps SIPVicious' own. */
function sipvicious(tool: 'svwar' | 'svcrack', userAgent: string, args: string[], bindIp = SCAN_IP) {
  return new Promise<ToolResult>((resolve, reject) => {
    const child = spawn('python3', [wrapper, tool, userAgent, bindIp, ...args], {
      cwd: workDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    trackChild(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const kill = setTimeout(() => child.kill('SIGKILL'), 25_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(kill);
      resolve({ code, stdout, stderr });
    });
  });
}

/** One OPTIONS from `bindIp`; resolves with the status line received within `waitMs`, or null. */
async function optionsFrom(bindIp: string, port: number, waitMs = 400): Promise<string | null> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, bindIp, r));
  const lp = sock.address().port;
  const msg = [
    `OPTIONS sip:127.0.0.1:${port} SIP/2.0`,
    `Via: SIP/2.0/UDP ${bindIp}:${lp};branch=z9hG4bK-${Math.random().toString(36).slice(2)};rport`,
    'Max-Forwards: 70',
    `From: <sip:probe@${bindIp}>;tag=p${lp}`,
    `To: <sip:12315@127.0.0.1>`,
    `Call-ID: probe-${lp}-${Date.now()}`,
    'CSeq: 1 OPTIONS',
    'User-Agent: Yealink SIP-T46S',
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  const got = new Promise<string | null>((resolve) => {
    const t = setTimeout(() => resolve(null), waitMs);
    sock.on('message', (m) => {
      clearTimeout(t);
      resolve(m.toString().split('\r\n')[0]!);
    });
  });
  sock.send(msg, port, '127.0.0.1');
  const r = await got;
  sock.close();
  return r;
}

const DISGUISE = 'Yealink SIP-T46S 66.85.0.5';
/**
 * The attacker's address. Not 127.0.0.1: the demo seed trusts 127.0.0.1 as a trunk gateway, and a
 * trunk is told 404 for numbers that are not its DIDs or seats (it is trusted by address, and a
 * real carrier needs the 404 to stop routing).
 */
const SCAN_IP = '127.0.0.3';
const seats = Array.from({ length: 10 }, (_, i) => String(8001 + i));

let server: DefendedServer | null = null;
afterEach(async () => {
  await server?.close();
  server = null;
});

describe('svwar (extension scanner)', () => {
  it('as itself (friendly-scanner) gets no answer at all', async () => {
    server = await startDefended({});
    const r = await sipvicious('svwar', '-', ['-p', String(server.port), '-e', '8000-8012', '127.0.0.1']);
    expect(r.stderr).toMatch(/No server response|timed out/);
    expect(r.stderr).toMatch(/found nothing/);
    expect(r.stdout).not.toMatch(/800\d/);
    expect(server.counters.answered).toBe(0);
    expect(server.counters.scannersDropped).toBeGreaterThan(0);
  });

  it.each(['REGISTER', 'INVITE', 'OPTIONS'])(
    'disguised, %s over 7990–8015 (the demo seats are 8001–8010): finds no extension',
    async (method) => {
      server = await startDefended({});
      const r = await sipvicious('svwar', DISGUISE, [
        '--force',
        '-m',
        method,
        '--maximumtime',
        '2',
        '-p',
        String(server.port),
        '-e',
        '7990-8015',
        '127.0.0.1',
      ]);
      expect(r.stderr).toMatch(/found nothing/);
      for (const ext of seats) expect(r.stdout).not.toContain(ext);
      // It was answered, always alike. (Against REGISTER and INVITE it gives up after the first
      // extension: the answer equals the one for its random probe and is not a 404.)
      expect(server.counters.answered).toBeGreaterThanOrEqual(method === 'OPTIONS' ? 27 : 2);
      expect([...server.counters.statuses.keys()]).toEqual([method === 'OPTIONS' ? 200 : 401]);
      // Unauthenticated requests are not failures: scanning earns no ban.
      expect(server.defence.stats.bansIssued).toBe(0);
    },
  );
});

describe('svcrack (password guessing)', () => {
  function dictionary(name: string, correctAt: number, size: number): string {
    const words = Array.from({ length: size }, (_, i) => `guess${i}`);
    words[correctAt] = 'demo8001';
    const file = path.join(workDir, name);
    fs.writeFileSync(file, words.join('\n') + '\n');
    return file;
  }

  it('control: with the password early in its list it cracks 8001 (the tool works against us)', async () => {
    server = await startDefended({});
    const r = await sipvicious('svcrack', DISGUISE, [
      '-u',
      '8001',
      '-d',
      dictionary('early.txt', 4, 40),
      '--maximumtime',
      '2',
      '-p',
      String(server.port),
      '127.0.0.1',
    ]);
    expect(r.stdout).toContain('demo8001');
    // 4 wrong guesses at least. On a loaded machine svcrack sends a guess again in a new transaction when
    // our 401 is slow to reach it, so the count can climb; the point of the control is that it cracked.
    expect(server.defence.stats.authFailures).toBeGreaterThanOrEqual(4);
  });

  it('is banned after 10 failures: later guesses get no answer, the password is not found', async () => {
    server = await startDefended({});
    const r = await sipvicious('svcrack', DISGUISE, [
      '-u',
      '8001',
      '-d',
      dictionary('late.txt', 30, 60),
      '--maximumtime',
      '2',
      '-p',
      String(server.port),
      '127.0.0.1',
    ]);
    expect(r.stdout).not.toContain('demo8001');
    expect(r.stderr).toMatch(/since we last received a response|found nothing/);
    const d = server.defence;
    expect(d.stats.authFailures).toBe(10);
    expect(d.stats.bansIssued).toBe(1);
    expect(d.bans().map((b) => b.address)).toEqual([SCAN_IP]);
    expect(d.stats.bannedDrops).toBeGreaterThan(0);
    // Exactly 10 guesses reached the registrar and each got its 401; nothing after the ban. A loaded
    // machine makes svcrack send its unauthenticated probe again, so the 401s may be one or two more.
    expect(server.counters.guessesAdmitted.size).toBe(10);
    expect(server.counters.statuses.get(401)).toBeGreaterThanOrEqual(11);
    expect(server.counters.statuses.get(200)).toBeUndefined();

    // The banned address gets nothing, even for OPTIONS; another address is served as usual.
    expect(await optionsFrom(SCAN_IP, server.port)).toBeNull();
    expect(await optionsFrom('127.0.0.2', server.port)).toMatch(/^SIP\/2\.0 200/);
  });

  it('an exempt address (a trunk gateway) is never banned', async () => {
    server = await startDefended({ exempt: [SCAN_IP] });
    const r = await sipvicious('svcrack', DISGUISE, [
      '-u',
      '8001',
      '-d',
      dictionary('exempt.txt', 14, 20),
      '--maximumtime',
      '2',
      '-p',
      String(server.port),
      '127.0.0.1',
    ]);
    expect(r.stdout).toContain('demo8001');
    expect(server.defence.stats.bansIssued).toBe(0);
    expect(server.defence.stats.authFailures).toBeGreaterThanOrEqual(14);
  });
});

describe('INVITE cap per source', () => {
  it('answers 503 to INVITEs beyond the cap while earlier ones are pending; other sources unaffected', async () => {
    server = await startDefended({ maxInvitesPerSource: 3 });
    // Six INVITEs from one address, never ACKed: each 401 keeps its transaction alive until
    // Timer H (64·T1, §17.2.1), so the fourth and later exceed the cap of 3.
    const statuses = await invites(SCAN_IP, server.port, 6);
    expect(statuses.filter((s) => s === 401)).toHaveLength(3);
    expect(statuses.filter((s) => s === 503)).toHaveLength(3);
    expect(server.defence.stats.invitesRefused).toBe(3);
    expect(server.defence.held('invite', SCAN_IP)).toBe(3);
    expect(await invites('127.0.0.2', server.port, 1)).toEqual([401]);
  });
});

/** Sends `n` INVITEs (distinct transactions) from `bindIp`; the first status of each, in order. */
async function invites(bindIp: string, port: number, n: number): Promise<number[]> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, bindIp, r));
  const lp = sock.address().port;
  const first = new Map<string, number>();
  sock.on('message', (m) => {
    const text = m.toString();
    const callId = /\r\nCall-ID: *([^\r]+)/i.exec(text)?.[1];
    const status = Number(text.slice(8, 11));
    if (callId && status >= 200 && !first.has(callId)) first.set(callId, status);
  });
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const callId = `cap-${lp}-${i}`;
    ids.push(callId);
    const msg = [
      `INVITE sip:12315@127.0.0.1:${port} SIP/2.0`,
      `Via: SIP/2.0/UDP ${bindIp}:${lp};branch=z9hG4bK-cap${i}-${lp};rport`,
      'Max-Forwards: 70',
      `From: <sip:13800000000@${bindIp}>;tag=c${i}`,
      'To: <sip:12315@127.0.0.1>',
      `Call-ID: ${callId}`,
      'CSeq: 1 INVITE',
      `Contact: <sip:13800000000@${bindIp}:${lp}>`,
      'Content-Length: 0',
      '',
      '',
    ].join('\r\n');
    sock.send(msg, port, '127.0.0.1');
    // One at a time, so the order of admission is the order of sending.
    const deadline = Date.now() + 1000;
    while (!first.has(callId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  }
  sock.close();
  return ids.map((id) => first.get(id) ?? 0);
}
