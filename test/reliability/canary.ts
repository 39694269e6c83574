// The canary hunt, reusable: give it one or more recognisable values and the surfaces to
// search (each a function that collects labelled text or bytes when the hunt runs), and it
// reports every place any encoded form of any canary shows up.
//
//   const report = await huntCanary({ canary, surfaces: [...serverSurfaces({ portal, recorder }), mySurface] });
//   assert.deepEqual(report.hits, []);
//
// The extension and webview suites add their own surfaces (webview DOM, state, logs, the
// workspace files) with `textSurface` / `fileSurface` / a custom `collect`.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { canaryForms, filesUnder, type ApiResponse, type Portal } from '../support/portal';

export interface SurfaceItem {
  /** Where this came from: a file path, "GET /apps/x -> 200 body", "server log"... */
  label: string;
  content: string | Buffer;
}

export interface CanarySurface {
  name: string;
  /** Called when the hunt runs, so files and logs are read at that moment. */
  collect(): Promise<SurfaceItem[]> | SurfaceItem[];
}

export interface CanaryHit {
  surface: string;
  item: string;
  canary: string;
  form: string;
  /** Byte offset of the first hit in the item, and a little context around it (latin1). */
  offset: number;
  context: string;
}

export interface HuntReport {
  canaries: number;
  forms: number;
  surfaces: Array<{ name: string; items: number; bytes: number }>;
  itemsSearched: number;
  bytesSearched: number;
  hits: CanaryHit[];
}

/**
 * A canary with a unique random core and characters that every encoding changes
 * (so the raw, URL, JSON and HTML forms differ and each is searched).
 */
export function makeCanary(label = 'CANARY'): string {
  return `${label}-${randomBytes(12).toString('hex')}-<&"'/\\ é+=%>`;
}

/** The random core of a makeCanary value (any encoding that keeps alphanumerics keeps it). */
function coreOf(canary: string): string | null {
  return /[0-9a-f]{24}/.exec(canary)?.[0] ?? null;
}

/** base64 of `bytes` at the three alignments it can have inside a longer base64 text. */
function base64Alignments(bytes: Buffer): string[] {
  const out: string[] = [];
  for (const k of [0, 1, 2]) {
    const enc = Buffer.concat([Buffer.alloc(k), bytes]).toString('base64');
    // Drop the first group when it mixes in the prefix and the last one (padding / what follows).
    const inner = enc.slice(k === 0 ? 0 : 4, enc.length - 4);
    if (inner.length >= 12) out.push(inner, inner.replace(/\+/g, '-').replace(/\//g, '_'));
  }
  return out;
}

/** Every form a leaked value could take, as byte patterns (`name` says which). */
export function huntForms(canary: string): Array<{ name: string; bytes: Buffer }> {
  const forms = new Map<string, string | Buffer>();
  const add = (name: string, v: string | Buffer) => {
    const len = typeof v === 'string' ? v.length : v.length;
    if (len >= 8) forms.set(name, v);
  };
  const utf8 = Buffer.from(canary, 'utf8');
  add('raw', canary);
  add('utf-16le', Buffer.from(canary, 'utf16le'));
  add('hex', utf8.toString('hex'));
  add('HEX', utf8.toString('hex').toUpperCase());
  base64Alignments(utf8).forEach((v, i) => add(`base64#${i}`, v));
  add('url-encoded', encodeURIComponent(canary));
  add('form-encoded', encodeURIComponent(canary).replace(/%20/g, '+'));
  add('json-escaped', JSON.stringify(canary).slice(1, -1));
  add('json-ascii-escaped', JSON.stringify(canary).slice(1, -1).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  const html = (q: string) => canary.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, q);
  add('html-escaped', html('&#39;'));
  add('html-escaped-x27', html('&#x27;'));
  canaryForms(canary).forEach((v, i) => add(`support#${i}`, v));
  const core = coreOf(canary);
  if (core) {
    add('core', core);
    add('core-hex', Buffer.from(core).toString('hex'));
    base64Alignments(Buffer.from(core)).forEach((v, i) => add(`core-base64#${i}`, v));
  }
  // Deduplicate by content, keeping the first name.
  const seen = new Set<string>();
  const out: Array<{ name: string; bytes: Buffer }> = [];
  for (const [name, v] of forms) {
    const bytes = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
    const key = bytes.toString('hex');
    if (seen.has(key)) continue;
    seen.add(key);
    out.push({ name, bytes });
  }
  return out;
}

/** Searches every surface for every form of every canary. */
export async function huntCanary(opts: { canary: string | string[]; surfaces: CanarySurface[] }): Promise<HuntReport> {
  const canaries = Array.isArray(opts.canary) ? opts.canary : [opts.canary];
  const patterns = canaries.map((c) => ({ canary: c, forms: huntForms(c) }));
  const report: HuntReport = { canaries: canaries.length, forms: 0, surfaces: [], itemsSearched: 0, bytesSearched: 0, hits: [] };
  report.forms = patterns.reduce((n, p) => n + p.forms.length, 0);
  for (const surface of opts.surfaces) {
    const items = await surface.collect();
    let bytes = 0;
    for (const item of items) {
      const buf = typeof item.content === 'string' ? Buffer.from(item.content, 'utf8') : item.content;
      bytes += buf.length;
      for (const { canary, forms } of patterns) {
        for (const form of forms) {
          const at = buf.indexOf(form.bytes);
          if (at >= 0) {
            report.hits.push({
              surface: surface.name,
              item: item.label,
              canary,
              form: form.name,
              offset: at,
              context: buf.subarray(Math.max(0, at - 40), at + form.bytes.length + 40).toString('latin1'),
            });
          }
        }
      }
    }
    report.surfaces.push({ name: surface.name, items: items.length, bytes });
    report.itemsSearched += items.length;
    report.bytesSearched += bytes;
  }
  return report;
}

export function describeHits(hits: CanaryHit[]): string {
  return hits.map((h) => `${h.surface} / ${h.item}: ${h.form} form of ${h.canary.slice(0, 40)} at ${h.offset}: ${JSON.stringify(h.context)}`).join('\n');
}

// ---- surface builders -------------------------------------------------------------------

export function textSurface(name: string, get: () => string | Buffer | Array<string | Buffer>): CanarySurface {
  return {
    name,
    collect() {
      const v = get();
      const list = Array.isArray(v) ? v : [v];
      return list.map((content, i) => ({ label: list.length > 1 ? `${name} #${i}` : name, content }));
    },
  };
}

/** Files (read at hunt time); missing ones are skipped. Directories are walked. */
export function fileSurface(name: string, paths: () => string[]): CanarySurface {
  return {
    name,
    collect() {
      const items: SurfaceItem[] = [];
      for (const p of paths()) {
        let files: string[] = [];
        try {
          files = fs.statSync(p).isDirectory() ? filesUnder(p) : [p];
        } catch {
          continue; // gone (a WAL after a checkpoint, a journal between transactions)
        }
        for (const f of files) {
          try {
            items.push({ label: f, content: fs.readFileSync(f) });
          } catch {
            // removed between listing and reading
          }
        }
      }
      return items;
    },
  };
}

/** Records every answer (status line, headers, body) of the requests a test makes. */
export class ResponseRecorder {
  readonly items: SurfaceItem[] = [];
  private n = 0;
  add(label: string, content: string | Buffer) {
    this.items.push({ label: `#${++this.n} ${label}`, content });
  }
  /** Records a fetch-style answer from portal.api / apiFrom. */
  record(label: string, res: Pick<ApiResponse, 'status' | 'headers' | 'text'>) {
    const headers: string[] = [];
    res.headers.forEach((v, k) => headers.push(`${k}: ${v}`));
    this.add(`${label} -> ${res.status} headers`, headers.join('\n'));
    this.add(`${label} -> ${res.status} body`, res.text);
  }
  surface(name = 'HTTP responses (bodies and headers)'): CanarySurface {
    return { name, collect: () => this.items };
  }
}

/**
 * portal.api that records every answer except the runtime read's (the one route that
 * returns a secret in clear, to the app's own identity).
 */
export function recordingApi(portal: Portal, recorder: ResponseRecorder): Portal['api'] {
  return async (method, route, opts) => {
    const res = await portal.api(method, route, opts);
    if (!/\/runtime\//.test(route)) recorder.record(`${method} ${route.slice(0, 120)}`, res);
    return res;
  };
}

/** All audit records through the API, every page (GET /api/v1/audit?limit=1000&before=). */
export async function allAuditEvents(api: Portal['api'], token?: string): Promise<Array<Record<string, unknown>>> {
  const events: Array<Record<string, unknown>> = [];
  let before: number | undefined;
  for (let page = 0; page < 10_000; page++) {
    const res = await api('GET', `/audit?limit=1000${before === undefined ? '' : `&before=${before}`}`, token === undefined ? {} : { token });
    if (res.status !== 200) throw new Error(`GET /audit answered ${res.status}: ${res.text.slice(0, 200)}`);
    const list = (res.body as { events: Array<Record<string, unknown>> }).events;
    events.push(...list);
    if (list.length < 1000) break;
    before = list[list.length - 1]!.id as number;
  }
  return events;
}

/**
 * The server's surfaces: recorded answers, the server log, the audit records (read through
 * the API when the hunt runs, if the server is up), the store's files (db, WAL, SHM, journal)
 * and every file under the data dir.
 */
export function serverSurfaces(opts: { portal: Portal; recorder?: ResponseRecorder; audit?: boolean; extraDirs?: string[] }): CanarySurface[] {
  const { portal } = opts;
  const db = path.join(portal.dataDir, 'portal.db');
  const surfaces: CanarySurface[] = [];
  if (opts.recorder) surfaces.push(opts.recorder.surface());
  surfaces.push(textSurface('server log (stdout+stderr)', () => portal.output()));
  if (opts.audit !== false) {
    surfaces.push({
      name: 'audit records (GET /api/v1/audit, all pages)',
      async collect() {
        if (portal.proc.exitCode !== null || portal.proc.signalCode !== null) return [];
        const api = opts.recorder ? recordingApi(portal, opts.recorder) : portal.api.bind(portal);
        const events = await allAuditEvents(api);
        return [{ label: `${events.length} audit events`, content: JSON.stringify(events) }];
      },
    });
  }
  surfaces.push(fileSurface('store files (portal.db, -wal, -shm, -journal)', () => [db, `${db}-wal`, `${db}-shm`, `${db}-journal`]));
  surfaces.push(fileSurface('every file under the data dir', () => [portal.dataDir, ...(opts.extraDirs ?? [])]));
  return surfaces;
}
