import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root, from server/config.ts or dist/server/config.js. */
function packageRoot(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  while (path.basename(dir) !== 'server' && path.dirname(dir) !== dir) dir = path.dirname(dir);
  dir = path.dirname(dir);
  return path.basename(dir) === 'dist' ? path.dirname(dir) : dir;
}

/**
 * Server configuration from the environment. The names SIP_PORT, HTTP_PORT and DATA_DIR are part of
 * the product's contract (README); the rest have defaults that run the embedded demo.
 */
export interface ServerConfig {
  dataDir: string;
  /** SQLite file; ':memory:' only in unit tests. */
  databaseFile: string;
  /** Address the SIP and HTTP sockets bind to. */
  bindHost: string;
  /** Address written into Via, Contact and SDP. Behind NAT set PUBLIC_ADDRESS. */
  advertisedHost: string;
  sipPort: number;
  sipTlsPort: number | null;
  httpPort: number;
  tls: { certFile: string; keyFile: string } | null;
  realm: string;
  accessNumbers: string[];
  /** What a request from a known scanner (User-Agent friendly-scanner, sipvicious ...) gets. */
  scannerPolicy: 'drop' | 'reject';
  /** Per source IP: SIP messages per second, and burst. */
  sipRateLimit: { perSecond: number; burst: number };
  /** Longest registration the registrar grants (§10.3 step 7 may shorten a requested Expires), s. */
  sipMaxExpires: number;
  rtpPortMin: number;
  rtpPortMax: number;
  seedDemo: boolean;
  /** ICE for browser agents: host candidates offered, optional 1:1 NAT address and STUN server. */
  webrtc: { hostAddresses: string[]; publicAddress: string | null; stunServer: string | null };
  /** IVR flows directory and the flow that access numbers run. */
  ivrFlowsDir: string;
  ivrFlow: string;
  /** Addresses never banned by the SIP defence (besides trunk sources). */
  defenceExempt: string[];
  /** Secret for stateless digest nonces; random per process unless set (then nonces survive a restart). */
  nonceSecret: string | null;
  /**
   * Digest challenge order, preferred first. Default MD5 alone: JsSIP (our browser softphone) reads
   * only the first challenge and knows only MD5, and libre-based phones (baresip) fail the whole
   * REGISTER when any challenge names an algorithm they lack. Set "SHA-256,MD5" when every device
   * handles RFC 8760.
   */
  digestAlgorithms: ('MD5' | 'SHA-256')[];
}

function int(env: NodeJS.ProcessEnv, name: string, dflt: number): number {
  const v = env[name];
  if (v === undefined || v === '') return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535)
    throw new Error(`${name} must be an integer port or count, got "${v}"`);
  return n;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ServerConfig {
  const dataDir = path.resolve(env.DATA_DIR ?? './data');
  const bindHost = env.SIP_HOST ?? env.BIND_HOST ?? '0.0.0.0';
  const certFile = env.TLS_CERT;
  const keyFile = env.TLS_KEY;
  if ((certFile && !keyFile) || (!certFile && keyFile)) throw new Error('TLS_CERT and TLS_KEY must be set together');
  const tls = certFile && keyFile ? { certFile, keyFile } : null;
  const policy = env.SCANNER_POLICY ?? 'drop';
  if (policy !== 'drop' && policy !== 'reject')
    throw new Error(`SCANNER_POLICY must be drop or reject, got "${policy}"`);
  return {
    dataDir,
    databaseFile: env.DATABASE_FILE ?? path.join(dataDir, 'hotline.sqlite'),
    bindHost,
    advertisedHost: env.PUBLIC_ADDRESS ?? (bindHost === '0.0.0.0' ? '127.0.0.1' : bindHost),
    sipPort: int(env, 'SIP_PORT', 5060),
    sipTlsPort: tls ? int(env, 'SIP_TLS_PORT', 5061) : null,
    httpPort: int(env, 'HTTP_PORT', 8080),
    tls,
    realm: env.SIP_REALM ?? '12315.local',
    accessNumbers: (env.ACCESS_NUMBERS ?? '12315')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
    scannerPolicy: policy,
    sipRateLimit: { perSecond: int(env, 'SIP_RATE_PER_SECOND', 200), burst: int(env, 'SIP_RATE_BURST', 400) },
    sipMaxExpires: int(env, 'SIP_MAX_EXPIRES', 3600),
    rtpPortMin: int(env, 'RTP_PORT_MIN', 20000),
    rtpPortMax: int(env, 'RTP_PORT_MAX', 29999),
    seedDemo: (env.SEED_DEMO ?? '1') !== '0',
    nonceSecret: env.SIP_NONCE_SECRET ?? null,
    webrtc: {
      hostAddresses: (env.WEBRTC_HOST_ADDRESSES ?? (bindHost === '0.0.0.0' ? '127.0.0.1' : bindHost))
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
      publicAddress: env.WEBRTC_PUBLIC_ADDRESS ?? env.PUBLIC_ADDRESS ?? null,
      stunServer: env.WEBRTC_STUN ?? null,
    },
    ivrFlowsDir: path.resolve(env.IVR_FLOWS_DIR ?? path.join(packageRoot(), 'ivr-flows')),
    ivrFlow: env.IVR_FLOW ?? '12315',
    defenceExempt: (env.SIP_DEFENCE_EXEMPT ?? '')
      .split(',')
      .map((x) => x.trim())
      .filter(Boolean),
    digestAlgorithms: parseAlgorithms(env.SIP_DIGEST_ALGORITHMS ?? 'MD5'),
  };
}

function parseAlgorithms(v: string): ('MD5' | 'SHA-256')[] {
  const list = v.split(',').map((s) => s.trim().toUpperCase());
  for (const a of list)
    if (a !== 'MD5' && a !== 'SHA-256') throw new Error(`SIP_DIGEST_ALGORITHMS: unknown algorithm "${a}"`);
  if (list.length === 0) throw new Error('SIP_DIGEST_ALGORITHMS must name at least one algorithm');
  return list as ('MD5' | 'SHA-256')[];
}
