// Shared helpers for the reliability suite (test/reliability): run sizes, a seeded PRNG,
// a raw HTTP/1.1 client on loopback (full control over bytes, paths and headers), the
// store's logical content read straight from SQLite, process RSS and the figures report.
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as net from 'node:net';

// ---- sizes ------------------------------------------------------------------------------

/** `RELIABILITY_FULL=1` (npm run test:reliability) runs the full sizes; npm test runs the reduced ones. */
export const FULL = process.env.RELIABILITY_FULL === '1';

function envInt(name: string, reduced: number, full: number): number {
  const raw = process.env[name];
  const n = raw === undefined || raw === '' ? NaN : Number(raw);
  return Number.isInteger(n) && n > 0 ? n : FULL ? full : reduced;
}

export const SIZES = {
  badRequests: envInt('RELIABILITY_BAD_REQUESTS', 600, 5000),
  kills: envInt('RELIABILITY_KILLS', 10, 100),
  loadConnections: envInt('RELIABILITY_LOAD_CONNECTIONS', 64, 256),
  loadSeconds: envInt('RELIABILITY_LOAD_SECONDS', 8, 60),
  rotationRounds: envInt('RELIABILITY_ROTATION_ROUNDS', 4, 20),
  floodAddresses: envInt('RELIABILITY_FLOOD_ADDRESSES', 600, 11_000),
  floodSeconds: envInt('RELIABILITY_FLOOD_SECONDS', 6, 30),
};

/** One base seed per run, printed so a failure reproduces: RELIABILITY_SEED=<n>. */
export const BASE_SEED = (() => {
  const raw = process.env.RELIABILITY_SEED;
  if (raw && /^\d+$/.test(raw)) return Number(raw) >>> 0;
  return (Date.now() ^ (process.pid << 16)) >>> 0;
})();

// ---- seeded PRNG (sfc32, seeded through splitmix32) -------------------------------------

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(readonly seed: number) {
    let s = seed >>> 0;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.float();
  }
  /** [0, 1) */
  float(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) >>> 0;
    return t / 4294967296;
  }
  /** integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }
  /** integer in [lo, hi] */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.float() < p;
  }
  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error('pick from an empty list');
    return items[this.int(items.length)]!;
  }
  /** Picks by weight: [[weight, value], ...]. */
  weighted<T>(items: ReadonlyArray<readonly [number, T]>): T {
    const total = items.reduce((n, [w]) => n + w, 0);
    let x = this.float() * total;
    for (const [w, v] of items) {
      x -= w;
      if (x < 0) return v;
    }
    return items[items.length - 1]![1];
  }
  hex(bytes: number): string {
    let s = '';
    for (let i = 0; i < bytes; i++) s += this.int(256).toString(16).padStart(2, '0');
    return s;
  }
  /** A child generator, so one part's draws do not shift another's. */
  fork(salt: number): Rng {
    return new Rng((this.seed ^ Math.imul(salt + 1, 0x27d4eb2d)) >>> 0);
  }
}

// ---- raw HTTP/1.1 over a loopback socket -------------------------------------------------

export interface RawResponse {
  status: number;
  statusText: string;
  /** Lower-case header names; repeated headers joined with ", ". */
  headers: Record<string, string>;
  /** The head as received, for header searches. */
  head: string;
  body: Buffer;
  text: string;
  ms: number;
}

export interface RawRequest {
  port: number;
  method: string;
  /** The request target, sent byte for byte (no normalisation of "..", no escaping). */
  path: string | Buffer;
  headers?: Array<[string, string]>;
  body?: Buffer | string;
  /** Adds Content-Length for the body unless the headers already carry one (or Transfer-Encoding). */
  autoLength?: boolean;
  /** Loopback source address (127.0.0.x): the server's failed-auth limiter counts per client. */
  localAddress?: string;
  timeoutMs?: number;
  /** Replaces the whole request with these bytes (malformed request lines and framing). */
  rawBytes?: Buffer;
}

export class HttpClientError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpClientError';
  }
}

export function buildRequestBytes(r: RawRequest): Buffer {
  if (r.rawBytes) return r.rawBytes;
  const body = r.body === undefined ? undefined : Buffer.isBuffer(r.body) ? r.body : Buffer.from(r.body, 'utf8');
  const headers = [...(r.headers ?? [])];
  const has = (name: string) => headers.some(([k]) => k.toLowerCase() === name);
  if (!has('host')) headers.unshift(['Host', `127.0.0.1:${r.port}`]);
  if (body !== undefined && r.autoLength !== false && !has('content-length') && !has('transfer-encoding')) headers.push(['Content-Length', String(body.length)]);
  const head = Buffer.concat([
    Buffer.from(`${r.method} `, 'latin1'),
    Buffer.isBuffer(r.path) ? r.path : Buffer.from(r.path, 'latin1'),
    Buffer.from(` HTTP/1.1\r\n${headers.map(([k, v]) => `${k}: ${v}`).join('\r\n')}\r\n\r\n`, 'latin1'),
  ]);
  return body === undefined ? head : Buffer.concat([head, body]);
}

function dechunk(buf: Buffer): Buffer {
  const parts: Buffer[] = [];
  let i = 0;
  for (let guard = 0; guard < 1_000_000 && i < buf.length; guard++) {
    const eol = buf.indexOf('\r\n', i, 'latin1');
    if (eol < 0) break;
    const size = parseInt(buf.subarray(i, eol).toString('latin1').split(';')[0]!.trim(), 16);
    if (!Number.isFinite(size) || size === 0) break;
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    i = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
}

/** Parses the first response in `data`; null while it is incomplete. */
export function parseResponse(data: Buffer, ended: boolean, noBody = false): Omit<RawResponse, 'ms'> | null {
  const end = data.indexOf('\r\n\r\n', 0, 'latin1');
  if (end < 0) return null;
  const head = data.subarray(0, end).toString('latin1');
  const [statusLine, ...lines] = head.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/.exec(statusLine ?? '');
  if (!m) throw new HttpClientError('EBADRESPONSE', `not an HTTP response: ${JSON.stringify((statusLine ?? '').slice(0, 80))}`);
  const status = Number(m[1]);
  if (status === 100) {
    // 100 Continue, then the real response.
    return parseResponse(data.subarray(end + 4), ended, noBody);
  }
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const k = line.slice(0, colon).trim().toLowerCase();
    const v = line.slice(colon + 1).trim();
    headers[k] = headers[k] === undefined ? v : `${headers[k]}, ${v}`;
  }
  const rest = data.subarray(end + 4);
  let body: Buffer;
  if (noBody) {
    body = Buffer.alloc(0);
  } else if ((headers['transfer-encoding'] ?? '').toLowerCase().includes('chunked')) {
    if (!ended && rest.indexOf('0\r\n\r\n', 0, 'latin1') < 0) return null;
    body = dechunk(rest);
  } else if (headers['content-length'] !== undefined) {
    const n = Number(headers['content-length']);
    if (rest.length < n) {
      if (!ended) return null;
      throw new HttpClientError('ETRUNCATED', `response body truncated: ${rest.length} of ${n} bytes`);
    }
    body = rest.subarray(0, n);
  } else if (status === 204 || status === 304) {
    body = Buffer.alloc(0);
  } else {
    if (!ended) return null;
    body = rest;
  }
  return { status, statusText: m[2] ?? '', headers, head, body, text: body.toString('utf8') };
}

/**
 * One request on its own connection, read until the answer is complete (by its framing),
 * then the connection is dropped. No "Connection: close": with it, Node's server closes
 * without reading a body a route ignored, and the reset can swallow the answer.
 * The client never half-closes (a FIN makes Node's server drop a request still in progress);
 * a write error after the server answered (it may close before reading a refused body)
 * still returns the answer.
 */
export function rawRequest(r: RawRequest): Promise<RawResponse> {
  const bytes = buildRequestBytes(r);
  const started = performance.now();
  const timeoutMs = r.timeoutMs ?? 15_000;
  const isHead = r.method === 'HEAD';
  return new Promise((resolve, reject) => {
    let data = Buffer.alloc(0);
    let settled = false;
    const socket = net.connect({ host: '127.0.0.1', port: r.port, localAddress: r.localAddress });
    const settle = (parsed: Omit<RawResponse, 'ms'> | null, err: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      if (parsed) resolve({ ...parsed, ms: performance.now() - started });
      else reject(err ?? new HttpClientError('ENORESPONSE', 'the connection closed without a response'));
    };
    const tryParse = (ended: boolean, err: Error | null) => {
      if (settled) return;
      try {
        const parsed = data.length ? parseResponse(data, ended, isHead) : null;
        if (parsed || ended) settle(parsed, err);
      } catch (e) {
        settle(null, e as Error);
      }
    };
    const timer = setTimeout(() => settle(null, new HttpClientError('ETIMEDOUT', `no complete response in ${timeoutMs} ms`)), timeoutMs);
    socket.on('data', (d: Buffer) => {
      data = Buffer.concat([data, d]);
      tryParse(false, null);
    });
    socket.on('end', () => tryParse(true, null));
    socket.on('close', () => tryParse(true, null));
    socket.on('error', (e: NodeJS.ErrnoException) => tryParse(true, new HttpClientError(e.code ?? 'ESOCKET', e.message)));
    socket.on('connect', () => {
      // Large bodies in slices, so an early answer is read while the rest is still going out.
      const slice = 64 * 1024;
      let offset = 0;
      const pump = () => {
        while (offset < bytes.length && !settled) {
          const chunk = bytes.subarray(offset, offset + slice);
          offset += chunk.length;
          if (!socket.write(chunk)) {
            socket.once('drain', pump);
            return;
          }
        }
      };
      pump();
    });
  });
}

// ---- the store's logical content, read straight from SQLite --------------------------------

function openReadOnly(file: string): Database.Database {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  return db;
}

function cell(v: unknown): unknown {
  return Buffer.isBuffer(v) ? `x'${v.toString('hex')}'` : v;
}

/**
 * Every table's rows (except `exclude`), sorted, blobs as hex: equal dumps = equal logical
 * content. The audit's own bookkeeping in `meta` (keys `audit_*`, e.g. the signed chain head)
 * moves with every audit record, so it goes with the audit table.
 */
export function dumpStore(file: string, exclude: string[] = ['audit']): Record<string, unknown[]> {
  const db = openReadOnly(file);
  try {
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name").all() as Array<{ name: string }>;
    const out: Record<string, unknown[]> = {};
    out['~schema'] = db.prepare('SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name').all();
    out['~user_version'] = [db.pragma('user_version', { simple: true })];
    for (const { name } of tables) {
      if (exclude.includes(name)) continue;
      const cols = (db.prepare(`PRAGMA table_info("${name}")`).all() as Array<{ name: string }>).map((c) => `"${c.name}"`);
      const rows = db.prepare(`SELECT * FROM "${name}" ORDER BY ${cols.join(', ')}`).all() as Array<Record<string, unknown>>;
      const kept = exclude.includes('audit') && name === 'meta' ? rows.filter((r) => !String(r.key).startsWith('audit_')) : rows;
      out[name] = kept.map((row) => Object.fromEntries(Object.entries(row).map(([k, v]) => [k, cell(v)])));
    }
    return out;
  } finally {
    db.close();
  }
}

export interface AuditRowLite {
  id: number;
  action: string;
  outcome: string;
  app: string | null;
  stage: string | null;
  setting: string | null;
  revision: number | null;
  version: number | null;
  detail: string | null;
}

export function auditRows(file: string, afterId = 0): AuditRowLite[] {
  const db = openReadOnly(file);
  try {
    return db.prepare('SELECT id, action, outcome, app, stage, setting, revision, version, detail FROM audit WHERE id > ? ORDER BY id').all(afterId) as AuditRowLite[];
  } finally {
    db.close();
  }
}

export function withReadOnlyDb<T>(file: string, fn: (db: Database.Database) => T): T {
  const db = openReadOnly(file);
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

export function integrityCheck(file: string): string {
  return withReadOnlyDb(file, (db) => (db.pragma('integrity_check') as Array<{ integrity_check: string }>).map((r) => r.integrity_check).join('; '));
}

// ---- process memory ---------------------------------------------------------------------------

/** Resident set size of a process in KiB, from /proc (Linux). */
export function rssKiB(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  if (!m) throw new Error(`no VmRSS for pid ${pid}`);
  return Number(m[1]);
}

// ---- figures --------------------------------------------------------------------------------

export type Figures = Record<string, string | number | boolean>;

/**
 * Prints a part's figures and, when `RELIABILITY_REPORT` names a file (scripts/reliability.mjs),
 * appends them as one JSON line for the summary table.
 */
export function reportFigures(part: string, figures: Figures): void {
  const lines = Object.entries(figures).map(([k, v]) => `  ${k}: ${v}`);
  // "#"-less lines: node's test runner passes them through as diagnostics.
  console.log(`[reliability] ${part} (${FULL ? 'full' : 'reduced'} run, seed ${BASE_SEED})\n${lines.join('\n')}`);
  const file = process.env.RELIABILITY_REPORT;
  if (file) fs.appendFileSync(file, JSON.stringify({ part, full: FULL, seed: BASE_SEED, figures }) + '\n');
}

export function histogram(values: Iterable<string | number>): Record<string, number> {
  const h: Record<string, number> = {};
  for (const v of values) h[String(v)] = (h[String(v)] ?? 0) + 1;
  return Object.fromEntries(Object.entries(h).sort(([a], [b]) => a.localeCompare(b)));
}

export function formatHistogram(h: Record<string, number>): string {
  return Object.entries(h)
    .map(([k, n]) => `${k}:${n}`)
    .join(' ');
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Problem details check (SPEC §8): content type, and a body with status, title and detail. */
export function problemIssue(res: { status: number; headers: Record<string, string>; text: string }, method: string): string | null {
  const type = res.headers['content-type'] ?? '';
  if (!/^application\/problem\+json(;|$)/i.test(type)) return `content-type is ${JSON.stringify(type)}, not application/problem+json`;
  if (method === 'HEAD') return null;
  let body: unknown;
  try {
    body = JSON.parse(res.text);
  } catch {
    return `body is not JSON: ${JSON.stringify(res.text.slice(0, 120))}`;
  }
  const b = body as { status?: unknown; title?: unknown; detail?: unknown };
  if (b.status !== res.status) return `body status ${String(b.status)} differs from HTTP ${res.status}`;
  if (typeof b.title !== 'string' || b.title === '') return 'no title';
  if (typeof b.detail !== 'string' || b.detail === '') return 'no detail';
  return null;
}
