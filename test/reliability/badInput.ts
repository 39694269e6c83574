// Generated malformed requests for every route (SPEC §8, §9), from a seeded PRNG.
// Each case says whether it must be refused (4xx) or only must not fail (any non-5xx):
// bodies that reach a writing route always carry a "poison" the mutations cannot remove
// (a stale version, an app key that is not the URL's, a role that does not exist), so no
// generated request can legitimately change the store.
import { gzipSync, deflateSync } from 'node:zlib';
import type { Rng } from './lib';

export type Expect = 'error' | 'any';

export interface BadCase {
  id: number;
  /** The route (SPEC §9 table) the case aims at. */
  route: string;
  kind: string;
  method: string;
  path: string | Buffer;
  headers: Array<[string, string]>;
  body?: Buffer;
  autoLength?: boolean;
  /** Which token (or "none"/a bad one from another loopback address). */
  auth: string;
  /** Loopback source address when not 127.0.0.1 (bad credentials are sent from elsewhere). */
  from?: string;
  rawBytes?: Buffer;
  expect: Expect;
}

export interface Fixture {
  apps: string[];
  stages: string[];
  /** orders' settings: name -> { type, isSecret } */
  settings: Record<string, { type: string; isSecret: boolean }>;
  /** current version per `${app}/${stage}/${name}` (unchanged while nothing applies) */
  versions: Record<string, number>;
  revision: Record<string, number>;
  definitions: Record<string, unknown>;
  tokens: { admin: string; dev: string; op: string; rt: string; revoked: string };
  tokenIds: { admin: string; dev: string; op: string; rt: string; revoked: string };
}

export const ROUTES = [
  'GET /health',
  'GET /openapi.json',
  'GET /stages',
  'GET /apps',
  'GET /apps/:app',
  'POST /apps/:app/publish',
  'GET /apps/:app/stages/:stage/settings',
  'PATCH /apps/:app/stages/:stage/settings',
  'GET /apps/:app/audit',
  'GET /audit',
  'GET /audit/verify',
  'POST /tokens',
  'GET /tokens',
  'DELETE /tokens/:id',
  'GET /runtime/settings',
  '(no such route)',
] as const;
type Route = (typeof ROUTES)[number];

const enc = encodeURIComponent;
const P = '/api/v1';

/** Odd path segments, as they appear on the wire. */
export const ODD_SEGMENTS = [
  '..',
  '.',
  '%2e%2e',
  '%2E%2E',
  '%2e',
  '..%2f..%2ftokens',
  '%2e%2e%2f%2e%2e%2ftokens',
  '..%5c..%5ctokens',
  '%00',
  'orders%00',
  '%00orders',
  'orders%2f..',
  '%252e%252e',
  '%c0%ae%c0%ae',
  '%ff',
  '%fe%ff',
  '%E0%A4%A',
  '%',
  'a%2',
  '%u002e',
  enc('ördérs'),
  enc('订单'),
  enc('😀'),
  enc('\u202eorders'),
  enc('\ufeff') + 'orders',
  enc('\u0000'),
  'ORDERS',
  'Orders',
  'orders%20',
  '%20orders',
  enc("orders' OR '1'='1"),
  enc('orders"; DROP TABLE apps; --'),
  enc('1; DELETE FROM stage_values'),
  enc("' UNION SELECT hash FROM tokens --"),
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '%5f%5fproto%5f%5f',
  'a'.repeat(300),
  'b'.repeat(5000),
  enc('x'.repeat(100) + 'é'),
  '*',
  '%2a',
  'orders;qa',
  'orders,billing',
  '~',
  '$',
  '@',
  '!',
  'tok_0000000000000000',
  'null',
  'undefined',
  '0',
  '-1',
  '1e999',
];

const SQL = [
  "'; DROP TABLE stage_values; --",
  '" OR ""="',
  "1' OR '1'='1",
  "x'); DELETE FROM audit; --",
  'UNION SELECT * FROM tokens',
  "'||(SELECT hash FROM tokens LIMIT 1)||'",
  '`; PRAGMA writable_schema=1; --',
];

/** Odd strings for names and values inside bodies. */
export const ODD_STRINGS = [
  '',
  ' ',
  '..',
  '../../etc/passwd',
  '%2e%2e',
  '\u0000',
  'a\u0000b',
  '__proto__',
  'constructor',
  'prototype',
  'ördérs',
  '订单',
  '😀',
  '\ud800',
  '\udfff\ud800',
  '\u202e\u202d',
  '\ufeff',
  'PaymentApiKey ',
  'paymentapikey',
  'PAYMENTAPIKEY',
  'x'.repeat(100),
  'y'.repeat(101),
  'z'.repeat(5000),
  '<script>alert(1)</script>',
  '${process.env}',
  '{{constructor.constructor("x")()}}',
  ...SQL,
];

function wrongTypedValues(): unknown[] {
  return [0, -1, 1.5, 1e308, -0, 2 ** 53 + 1, true, false, null, [], [1, 'x'], {}, { a: 1 }, 'str', '', '1', 'true', 'null'];
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

/** An object with an own property named like a prototype key (JSON.stringify writes it). */
function withKey(obj: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  Object.defineProperty(obj, key, { value, enumerable: true, configurable: true, writable: true });
  return obj;
}

function nest(value: unknown, depth: number, rng: Rng): unknown {
  let v = value;
  const asArray = rng.chance(0.5);
  for (let i = 0; i < depth; i++) v = asArray ? [v] : { a: v };
  return v;
}

/** Deep nesting as text (no recursion in JSON.stringify). */
function deepText(depth: number, asArray: boolean, inner = '1'): string {
  return asArray ? '['.repeat(depth) + inner + ']'.repeat(depth) : '{"a":'.repeat(depth) + inner + '}'.repeat(depth);
}

type Json = unknown;

interface NodeRef {
  parent: Record<string, Json> | Json[] | null;
  key: string | number | null;
  value: Json;
}

function nodes(root: Json): NodeRef[] {
  const out: NodeRef[] = [{ parent: null, key: null, value: root }];
  const stack: Json[] = [root];
  for (let guard = 0; stack.length && guard < 100_000; guard++) {
    const v = stack.pop();
    if (Array.isArray(v)) v.forEach((item, i) => (out.push({ parent: v, key: i, value: item }), stack.push(item)));
    else if (v && typeof v === 'object') {
      for (const [k, item] of Object.entries(v)) {
        out.push({ parent: v as Record<string, Json>, key: k, value: item });
        stack.push(item);
      }
    }
  }
  return out;
}

function typeOf(v: Json): string {
  return v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v;
}

/**
 * Structural mutations: delete a key, retype a node (never to its own type), add an
 * unknown or prototype key, wrap a node, nest it deeply. Array elements are never deleted,
 * so the template's poison survives.
 */
export function mutate(template: Json, rng: Rng): { root: Json; ops: string[] } {
  let root = clone(template);
  const ops: string[] = [];
  const n = rng.range(1, 3);
  for (let i = 0; i < n; i++) {
    const all = nodes(root);
    const target = rng.pick(all);
    const set = (v: Json) => {
      if (target.parent === null) root = v;
      else if (Array.isArray(target.parent)) target.parent[target.key as number] = v;
      else target.parent[target.key as string] = v;
    };
    const op = rng.weighted([
      [3, 'delete-key'],
      [4, 'retype'],
      [3, 'add-key'],
      [2, 'proto-key'],
      [1, 'wrap'],
      [1, 'nest'],
    ] as const);
    if (op === 'delete-key') {
      if (target.parent && !Array.isArray(target.parent)) {
        delete target.parent[target.key as string];
        ops.push(`delete ${String(target.key)}`);
      } else ops.push('delete (skipped)');
    } else if (op === 'retype') {
      const from = typeOf(target.value);
      const choices = wrongTypedValues().filter((v) => typeOf(v) !== from);
      const v = rng.pick(choices);
      set(v);
      ops.push(`retype ${String(target.key)} ${from}->${typeOf(v)}`);
    } else if (op === 'add-key' || op === 'proto-key') {
      const obj = nodes(root)
        .map((r) => r.value)
        .filter((v): v is Record<string, Json> => !!v && typeof v === 'object' && !Array.isArray(v));
      if (obj.length === 0) {
        ops.push(`${op} (no object)`);
        continue;
      }
      const o = rng.pick(obj);
      const key = op === 'proto-key' ? rng.pick(['__proto__', 'constructor', 'prototype']) : rng.pick(['extra', 'isSceret', 'Name', 'value ', 'admin', 'role', ...ODD_STRINGS.filter((s) => s.length < 50)]);
      const value = op === 'proto-key' ? rng.pick([{ admin: true }, { prototype: { polluted: 1 } }, 'x', null, [1]]) : rng.pick(wrongTypedValues());
      withKey(o, key, value);
      ops.push(`${op} ${JSON.stringify(key).slice(0, 20)}`);
    } else if (op === 'wrap') {
      set(rng.chance(0.5) ? [target.value] : { value: target.value });
      ops.push(`wrap ${String(target.key)}`);
    } else {
      const depth = rng.pick([34, 40, 100, 1000]);
      set(nest(target.value, depth, rng));
      ops.push(`nest ${String(target.key)} x${depth}`);
    }
  }
  return { root, ops };
}

/** Byte-level damage to JSON text: truncation, stray bytes, invalid UTF-8. */
export function corruptText(text: string, rng: Rng): { bytes: Buffer; op: string } {
  const buf = Buffer.from(text, 'utf8');
  const at = rng.int(Math.max(1, buf.length));
  const op = rng.pick(['truncate', 'insert-byte', 'invalid-utf8', 'overlong', 'surrogate', 'bom', 'nul', 'trailing-garbage', 'single-quotes', 'comment', 'nan'] as const);
  const ins = (b: Buffer) => Buffer.concat([buf.subarray(0, at), b, buf.subarray(at)]);
  switch (op) {
    case 'truncate':
      return { bytes: buf.subarray(0, Math.max(1, at)), op };
    case 'insert-byte':
      return { bytes: ins(Buffer.from([rng.pick([0x7b, 0x7d, 0x5b, 0x5d, 0x2c, 0x3a, 0x22, 0x5c, 0x00, 0x01, 0x7f])])), op };
    case 'invalid-utf8': {
      // Inside a string literal, so only the decoder can object.
      const q = buf.indexOf(0x22, at) >= 0 ? buf.indexOf(0x22, at) + 1 : buf.indexOf(0x22) + 1;
      return { bytes: Buffer.concat([buf.subarray(0, q), Buffer.from([rng.pick([0xff, 0xfe, 0x80, 0xc3])]), buf.subarray(q)]), op };
    }
    case 'overlong': {
      const q = buf.indexOf(0x22) + 1;
      return { bytes: Buffer.concat([buf.subarray(0, q), Buffer.from([0xc0, 0xae, 0xe0, 0x80, 0xaf]), buf.subarray(q)]), op };
    }
    case 'surrogate': {
      const q = buf.indexOf(0x22) + 1;
      return { bytes: Buffer.concat([buf.subarray(0, q), Buffer.from([0xed, 0xa0, 0x80]), buf.subarray(q)]), op };
    }
    case 'bom':
      return { bytes: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf, 0xef, 0xbb, 0xbf]), buf]), op };
    case 'nul':
      return { bytes: Buffer.concat([buf, Buffer.from([0])]), op };
    case 'trailing-garbage':
      return { bytes: Buffer.concat([buf, Buffer.from(rng.pick([',', '}', ' x', '{}', '\u2028']), 'utf8')]), op };
    case 'single-quotes':
      return { bytes: Buffer.from(text.replace(/"/g, "'"), 'utf8'), op };
    case 'comment':
      return { bytes: Buffer.from(`/* c */${text}`, 'utf8'), op };
    case 'nan':
      return { bytes: Buffer.from(text.replace(/\d+/, 'NaN'), 'utf8'), op };
  }
}

// ---- the generator -----------------------------------------------------------------------

export class CaseGenerator {
  private id = 0;
  private badAuthUses = 0;
  private addressIndex = 0;

  constructor(
    private readonly rng: Rng,
    private readonly fx: Fixture,
  ) {}

  /** A loopback address other than 127.0.0.1, changed every 25 uses so some cross the limit (20). */
  private otherAddress(): string {
    if (this.badAuthUses++ % 25 === 0) this.addressIndex++;
    const i = this.addressIndex;
    return `127.${2 + ((i >> 16) & 0x3f)}.${(i >> 8) & 255}.${(i & 255) || 1}`;
  }

  private json(v: unknown): Buffer {
    return Buffer.from(JSON.stringify(v), 'utf8');
  }

  private ver(app: string, stage: string, name: string) {
    return this.fx.versions[`${app}/${stage}/${name}`] ?? 0;
  }

  private settingNames() {
    return Object.keys(this.fx.settings);
  }

  /** A PATCH body whose every change is stale (version + 1000 or more). */
  patchTemplate(stage = 'qa'): Json {
    const r = this.rng;
    const names = this.settingNames();
    const count = r.range(1, 3);
    const picked = new Set<string>();
    for (let i = 0; i < count; i++) picked.add(r.pick(names));
    return {
      changes: [...picked].map((name) => ({
        name,
        value: r.chance(0.2) ? null : r.pick(['fuzz', 'x'.repeat(r.range(1, 300)), '42', ...ODD_STRINGS.filter((s) => s.length < 200)]),
        baseVersion: this.ver('orders', stage, name) + 1000 + r.int(1000),
      })),
    };
  }

  /** Valid definitions for another app key: sent to /apps/orders/publish they are refused (422). */
  publishTemplate(): Json {
    const defs = clone(this.fx.definitions.orders) as { app: { key: string; name: string } };
    defs.app.key = this.rng.pick(['orders-elsewhere', 'billing', 'zz', 'orders2']);
    return { definitions: defs, baseRevision: this.fx.revision.orders, dryRun: false };
  }

  /** A token request with a role that does not exist (400). */
  tokenTemplate(): Json {
    return { name: 'fuzz', role: this.rng.pick(['superuser', 'root', 'Admin', 'ADMIN', '', 'admin ', 'runtime\u0000']), apps: ['orders'], stages: ['qa'] };
  }

  private base(route: Route, kind: string, method: string, path: string | Buffer, expect: Expect, extra: Partial<BadCase> = {}): BadCase {
    return { id: ++this.id, route, kind, method, path, headers: [], auth: 'admin', expect, ...extra };
  }

  private withBody(c: BadCase, body: Buffer, contentType: string | null = 'application/json'): BadCase {
    c.body = body;
    if (contentType !== null) c.headers.push(['Content-Type', contentType]);
    return c;
  }

  /** The route's canonical path, method and a poisoned body when it takes one. */
  private canonical(route: Route): { method: string; path: string; body?: () => Json; writes: boolean } {
    const r = this.rng;
    const stage = r.pick(this.fx.stages);
    switch (route) {
      case 'GET /health':
        return { method: 'GET', path: `${P}/health`, writes: false };
      case 'GET /openapi.json':
        return { method: 'GET', path: `${P}/openapi.json`, writes: false };
      case 'GET /stages':
        return { method: 'GET', path: `${P}/stages`, writes: false };
      case 'GET /apps':
        return { method: 'GET', path: `${P}/apps`, writes: false };
      case 'GET /apps/:app':
        return { method: 'GET', path: `${P}/apps/${r.pick(this.fx.apps)}`, writes: false };
      case 'POST /apps/:app/publish':
        return { method: 'POST', path: `${P}/apps/orders/publish`, body: () => this.publishTemplate(), writes: true };
      case 'GET /apps/:app/stages/:stage/settings':
        return { method: 'GET', path: `${P}/apps/${r.pick(this.fx.apps)}/stages/${stage}/settings`, writes: false };
      case 'PATCH /apps/:app/stages/:stage/settings':
        return { method: 'PATCH', path: `${P}/apps/orders/stages/${stage}/settings`, body: () => this.patchTemplate(stage), writes: true };
      case 'GET /apps/:app/audit':
        return { method: 'GET', path: `${P}/apps/${r.pick(this.fx.apps)}/audit`, writes: false };
      case 'GET /audit':
        return { method: 'GET', path: `${P}/audit`, writes: false };
      case 'GET /audit/verify':
        return { method: 'GET', path: `${P}/audit/verify`, writes: false };
      case 'POST /tokens':
        return { method: 'POST', path: `${P}/tokens`, body: () => this.tokenTemplate(), writes: true };
      case 'GET /tokens':
        return { method: 'GET', path: `${P}/tokens`, writes: false };
      case 'DELETE /tokens/:id':
        // The only admin token: revoking it is refused (409).
        return { method: 'DELETE', path: `${P}/tokens/${this.fx.tokenIds.admin}`, writes: true };
      case 'GET /runtime/settings':
        return { method: 'GET', path: `${P}/runtime/settings`, writes: false };
      case '(no such route)':
        return { method: r.pick(['GET', 'POST', 'PATCH']), path: r.pick([`${P}/nope`, `${P}/apps/orders/stages`, `${P}/apps/orders/settings`, `${P}/tokens/x/y`, `${P}/stages/qa`, '/api/v2/apps', `${P}`, `${P}/`, '/', '/admin', '/api/v1/../../etc/passwd']), writes: false };
    }
  }

  next(route: Route): BadCase {
    const r = this.rng;
    const c = this.canonical(route);
    const allowed = route === 'GET /runtime/settings' ? 'rt' : 'admin';
    const kinds: Array<readonly [number, string]> = [
      [3, 'wrong-method'],
      [2, 'query-junk'],
      [3, 'bad-auth'],
      [2, 'wrong-role'],
      [2, 'content-type'],
      [1, 'content-encoding'],
      [2, 'invalid-json'],
      [1, 'huge'],
      [1, 'deep'],
      [2, 'proto'],
      [1, 'framing'],
    ];
    if (route.includes(':app') || route.includes(':stage') || route.includes(':id')) kinds.push([5, 'odd-name'], [1, 'path-trick']);
    if (c.body) kinds.push([8, 'mutate']);
    if (route === 'PATCH /apps/:app/stages/:stage/settings') kinds.push([3, 'patch-shape'], [3, 'patch-unknown'], [2, 'patch-stale'], [4, 'patch-invalid'], [1, 'patch-dup'], [1, 'patch-empty'], [1, 'patch-too-many']);
    if (route === 'POST /apps/:app/publish') kinds.push([3, 'publish-shape'], [5, 'publish-rules'], [1, 'publish-mismatch'], [1, 'publish-stale'], [1, 'publish-dryrun'], [1, 'publish-same']);
    if (route === 'POST /tokens') kinds.push([4, 'token-shape'], [3, 'token-rules']);
    if (route === 'DELETE /tokens/:id') kinds.push([3, 'token-id']);
    const kind = r.weighted(kinds);
    const noAuthRoute = route === 'GET /health' || route === 'GET /openapi.json';
    const bodyOrEmpty = () => (c.body ? this.json(c.body()) : this.json(r.pick([{}, [], { a: 1 }, 'x', 1, null])));
    // A GET/DELETE route answers 200/204 to a well-formed JSON body it ignores: only "any".
    const bodyExpect: Expect = c.writes && route !== 'DELETE /tokens/:id' ? 'error' : route === 'DELETE /tokens/:id' ? 'error' : 'any';

    switch (kind) {
      case 'wrong-method': {
        const methods = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', 'HEAD', 'TRACE'].filter((m) => m !== c.method);
        const method = r.pick(methods);
        // Paths with a GET route too: GET and HEAD on them are reads.
        const hasGet = c.method === 'GET' || route === 'POST /tokens' || route === 'PATCH /apps/:app/stages/:stage/settings';
        const harmless = method === 'OPTIONS' || ((method === 'HEAD' || method === 'GET') && hasGet) || route === '(no such route)' || noAuthRoute;
        const cs = this.base(route, kind, method, c.path, harmless ? 'any' : 'error');
        if (r.chance(0.5) && method !== 'GET' && method !== 'HEAD') this.withBody(cs, bodyOrEmpty());
        return cs;
      }
      case 'query-junk': {
        const q = r.pick([
          'limit=abc',
          'limit=0',
          'limit=100000',
          'limit=-5',
          'limit=1.5',
          'limit=1e3',
          'before=-1',
          'before=1e999',
          'before=1%20OR%201%3D1',
          'limit[]=1',
          'limit=1&limit=2',
          '__proto__[admin]=1',
          'constructor[prototype][x]=1',
          'a=%ff',
          'a=%E0%A4%A',
          `x=${'q'.repeat(3000)}`,
          'app=..%2f..',
          'stage=production&app=billing',
          `before=${enc("1; DROP TABLE audit")}`,
        ]);
        const auditRoute = route === 'GET /audit' || route === 'GET /apps/:app/audit';
        // limit=1e3 coerces to 1000 (valid); unknown parameters are refused by the audit routes.
        const badQuery = q !== 'limit=1e3';
        return this.base(route, kind, c.method, `${c.path}?${q}`, auditRoute && badQuery ? 'error' : c.writes ? 'error' : 'any');
      }
      case 'bad-auth': {
        const token = this.fx.tokens.admin;
        const header = r.pick<string | null>([
          null,
          '',
          'Bearer',
          'Bearer ',
          `Bearer ${token}x`,
          `Bearer ${token.slice(0, -1)}`,
          // (`bearer <token>` and `Bearer  <token>` are valid: the scheme is case-insensitive and
          // 1*SP may follow it, RFC 9110 §11.4; these are not.)
          `Bearer${token}`,
          `Basic ${Buffer.from(`admin:${token}`).toString('base64')}`,
          `Bearer ${token} extra`,
          `Bearer\t${token}`,
          `Bearer ${this.fx.tokens.revoked}`,
          `Bearer odcp_${'A'.repeat(43)}`,
          `Bearer ${'x'.repeat(201)}`,
          `Bearer ${'y'.repeat(8000)}`,
          "Bearer ' OR '1'='1",
          'Bearer %00',
          'Token abc',
        ]);
        const cs = this.base(route, kind, c.method, c.path, noAuthRoute || route === '(no such route)' ? 'any' : 'error', { auth: header === null ? 'none' : 'bad', from: this.otherAddress() });
        if (header !== null) cs.headers.push(['Authorization', header]);
        if (c.body) this.withBody(cs, bodyOrEmpty());
        return cs;
      }
      case 'wrong-role': {
        const who = r.pick(['dev', 'op', 'rt'] as const);
        // Which role may not use this route (or is out of scope for it): expected 403.
        const forbidden =
          (route === 'GET /runtime/settings' && who !== 'rt') ||
          (who === 'rt' && route !== 'GET /runtime/settings' && !noAuthRoute && route !== '(no such route)') ||
          (['GET /audit', 'GET /audit/verify', 'POST /tokens', 'GET /tokens', 'DELETE /tokens/:id'].includes(route) && who !== 'rt') ||
          (who === 'op' && (route === 'POST /apps/:app/publish' || route === 'GET /apps/:app/audit'));
        let path = c.path;
        let expect: Expect = forbidden ? 'error' : c.writes ? 'error' : 'any';
        // The developer is scoped to orders/qa: point it elsewhere.
        if (who === 'dev' && route.includes(':app')) {
          path = path.replace('/apps/orders/', '/apps/billing/').replace(/\/apps\/orders$/, '/apps/billing');
          if (route.includes(':stage')) path = path.replace(/\/stages\/[^/]+\//, '/stages/production/');
          expect = 'error';
        }
        const cs = this.base(route, kind, c.method, path, expect, { auth: who });
        if (c.body) this.withBody(cs, bodyOrEmpty());
        return cs;
      }
      case 'content-type': {
        const type = r.pick<string | null>([
          null,
          'text/plain',
          'text/json',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
          'application/xml',
          'json',
          'application/json; charset=latin1',
          'application/json; charset=iso-8859-1',
          'application/json; charset=utf-16',
          'application/json; charset=nope',
          'application/octet-stream',
          '*/*',
          'application/json-patch+json',
          'APPLICATION/JSON',
          'application/json;;;',
          'application/json, text/plain',
        ]);
        // JSON by type; a utf-16 charset is accepted too (body-parser decodes any utf-*).
        const isJson = type !== null && /^application\/json(;|$)|^application\/[a-z0-9.+-]+\+json$/i.test(type.split(',')[0]!.trim()) && !/charset=(latin1|iso|nope)/.test(type);
        const cs = this.base(route, kind, c.method === 'GET' ? r.pick(['GET', c.method]) : c.method, c.path, 'error');
        this.withBody(cs, r.chance(0.5) ? bodyOrEmpty() : Buffer.from('name=x&role=admin'), type);
        if (noAuthRoute || route === '(no such route)') cs.expect = 'any';
        else if (isJson && !c.writes) cs.expect = 'any';
        else if (isJson && c.writes && route === 'DELETE /tokens/:id') cs.expect = 'error';
        return cs;
      }
      case 'content-encoding': {
        const body = bodyOrEmpty();
        const variant = r.pick(['gzip-garbage', 'gzip-bomb', 'deflate-bomb', 'gzip-valid', 'deflate-valid', 'br-garbage', 'compress', 'identity', 'gzip, gzip', 'x-unknown'] as const);
        let bytes: Buffer;
        let encoding: string;
        let expect: Expect = 'error';
        switch (variant) {
          case 'gzip-garbage':
            [bytes, encoding] = [Buffer.from('not gzip at all'), 'gzip'];
            break;
          case 'gzip-bomb':
            [bytes, encoding] = [gzipSync(Buffer.alloc(16 * 1024 * 1024, 0x20)), 'gzip'];
            break;
          case 'deflate-bomb':
            [bytes, encoding] = [deflateSync(Buffer.alloc(16 * 1024 * 1024, 0x5b)), 'deflate'];
            break;
          case 'gzip-valid':
            [bytes, encoding] = [gzipSync(body), 'gzip'];
            expect = c.writes ? 'error' : 'any';
            break;
          case 'deflate-valid':
            [bytes, encoding] = [deflateSync(body), 'deflate'];
            expect = c.writes ? 'error' : 'any';
            break;
          case 'br-garbage':
            [bytes, encoding] = [Buffer.from([1, 2, 3, 4, 5]), 'br'];
            break;
          case 'identity':
            [bytes, encoding] = [body, 'identity'];
            expect = c.writes ? 'error' : 'any';
            break;
          default:
            [bytes, encoding] = [body, variant];
        }
        const cs = this.withBody(this.base(route, `${kind}:${variant}`, c.method === 'GET' ? r.pick(['GET', 'POST']) : c.method, c.path, noAuthRoute || route === '(no such route)' ? 'any' : expect), bytes);
        cs.headers.push(['Content-Encoding', encoding]);
        return cs;
      }
      case 'invalid-json': {
        const text = JSON.stringify(c.body ? c.body() : { changes: [] });
        const { bytes, op } = corruptText(text, r);
        // Some damage keeps the text valid JSON (a DEL byte inside a string): only writes must fail.
        return this.withBody(this.base(route, `${kind}:${op}`, c.method, c.path, c.writes ? 'error' : 'any'), bytes);
      }
      case 'huge': {
        const variant = r.pick(['over-1mib', 'just-under-1mib', 'big-string-field', 'many-keys', 'chunked-over'] as const);
        let bytes: Buffer;
        const cs = this.base(route, `${kind}:${variant}`, c.method === 'GET' ? 'POST' : c.method, c.path, 'error');
        if (variant === 'over-1mib') bytes = Buffer.from(JSON.stringify({ pad: 'p'.repeat(1024 * 1024 + r.int(100_000)) }));
        else if (variant === 'just-under-1mib') {
          const tpl = (c.body ? c.body() : {}) as Record<string, unknown>;
          bytes = Buffer.from(JSON.stringify({ ...(tpl as object), pad: 'q'.repeat(1024 * 1024 - 2000) }));
        } else if (variant === 'big-string-field') {
          const tpl = (c.body ? c.body() : { changes: [] }) as { changes?: Array<{ value: unknown }> };
          if (tpl.changes?.[0]) tpl.changes[0].value = 'v'.repeat(r.pick([2001, 48 * 1024 + 1, 900_000]));
          bytes = this.json(tpl);
        } else if (variant === 'many-keys') {
          const o: Record<string, number> = {};
          for (let i = 0; i < 50_000; i++) o[`k${i}`] = i;
          bytes = this.json(o);
        } else {
          bytes = Buffer.from(JSON.stringify({ pad: 'c'.repeat(1100 * 1024) }));
          cs.headers.push(['Transfer-Encoding', 'chunked']);
          const chunks: Buffer[] = [];
          for (let i = 0; i < bytes.length; i += 64 * 1024) {
            const part = bytes.subarray(i, i + 64 * 1024);
            chunks.push(Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n'));
          }
          chunks.push(Buffer.from('0\r\n\r\n'));
          bytes = Buffer.concat(chunks);
          cs.autoLength = false;
        }
        this.withBody(cs, bytes);
        if (noAuthRoute || route === '(no such route)') cs.expect = 'any';
        return cs;
      }
      case 'deep': {
        const depth = r.pick([34, 64, 500, 10_000, 100_000, 400_000]);
        const asArray = r.chance(0.5);
        const inner = c.body ? JSON.stringify(c.body()) : '1';
        const text = r.chance(0.5) ? deepText(depth, asArray, inner) : `{"changes":${deepText(depth, asArray, inner)}}`;
        return this.withBody(this.base(route, `${kind}:${depth}`, c.method === 'GET' ? r.pick(['GET', 'POST', 'PATCH']) : c.method, c.path, noAuthRoute || route === '(no such route)' ? 'any' : 'error'), Buffer.from(text));
      }
      case 'proto': {
        const tpl = (c.body ? c.body() : {}) as Record<string, unknown>;
        const key = r.pick(['__proto__', 'constructor', 'prototype']);
        const variant = r.pick(['top', 'nested', 'in-array', 'text'] as const);
        let bytes: Buffer;
        if (variant === 'text') {
          bytes = Buffer.from(`{"${key}":{"admin":true,"role":"admin","polluted":"yes"},${JSON.stringify(tpl).slice(1)}`.replace(/,}$/, '}'));
        } else {
          const holder: Record<string, unknown> = variant === 'top' ? tpl : {};
          withKey(holder, key, key === 'constructor' ? { prototype: { polluted: true } } : { admin: true, isSecret: false });
          if (variant === 'nested') {
            const changes = (tpl as { changes?: unknown[] }).changes;
            if (Array.isArray(changes) && changes[0] && typeof changes[0] === 'object') withKey(changes[0] as Record<string, unknown>, key, { x: 1 });
            else withKey(tpl, 'x', holder);
          }
          if (variant === 'in-array') withKey(tpl, 'list', [1, holder]);
          bytes = this.json(tpl);
        }
        return this.withBody(this.base(route, `${kind}:${key}:${variant}`, c.method === 'GET' ? r.pick(['GET', c.method]) : c.method, c.path, noAuthRoute || route === '(no such route)' ? 'any' : 'error'), bytes);
      }
      case 'framing': {
        const target = typeof c.path === 'string' ? c.path : '/api/v1/apps';
        const auth = `Authorization: Bearer ${this.fx.tokens.admin}\r\n`;
        const variant = r.pick([
          'bad-request-line',
          'unknown-method',
          'header-too-large',
          'bad-header-name',
          'cl-and-te',
          'bad-chunk',
          'raw-8bit-path',
          'absolute-form',
          'asterisk-form',
          'http10',
          'no-host',
          'double-cl',
          'obs-fold',
          'bad-cl',
          'short-cl',
        ] as const);
        let raw: string | Buffer;
        let expect: Expect = 'error';
        switch (variant) {
          case 'bad-request-line':
            raw = `GARBAGE\r\n\r\n`;
            break;
          case 'unknown-method':
            raw = `FOO ${target} HTTP/1.1\r\nHost: x\r\n${auth}Connection: close\r\n\r\n`;
            break;
          case 'header-too-large':
            raw = `GET ${target} HTTP/1.1\r\nHost: x\r\n${auth}X-Big: ${'h'.repeat(20_000)}\r\nConnection: close\r\n\r\n`;
            break;
          case 'bad-header-name':
            raw = `GET ${target} HTTP/1.1\r\nHost: x\r\n${auth}Bad Header(): 1\r\nConnection: close\r\n\r\n`;
            break;
          case 'cl-and-te':
            raw = `POST ${target} HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n2\r\n{}\r\n0\r\n\r\n`;
            break;
          case 'bad-chunk':
            raw = `POST ${target} HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`;
            break;
          case 'raw-8bit-path':
            raw = Buffer.concat([Buffer.from(`GET ${P}/apps/`), Buffer.from([0xff, 0xfe, 0xc3, 0x28]), Buffer.from(` HTTP/1.1\r\nHost: x\r\n${auth}Connection: close\r\n\r\n`)]);
            break;
          case 'absolute-form':
            raw = `GET http://evil.invalid${target} HTTP/1.1\r\nHost: x\r\n${auth}Connection: close\r\n\r\n`;
            expect = 'any';
            break;
          case 'asterisk-form':
            raw = `GET * HTTP/1.1\r\nHost: x\r\n${auth}Connection: close\r\n\r\n`;
            break;
          case 'http10':
            raw = `GET ${target} HTTP/1.0\r\n${auth}\r\n`;
            expect = 'any';
            break;
          case 'no-host':
            raw = `GET ${target} HTTP/1.1\r\n${auth}Connection: close\r\n\r\n`;
            break;
          case 'double-cl':
            raw = `POST ${target} HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 2\r\nContent-Length: 3\r\nConnection: close\r\n\r\n{} `;
            break;
          case 'obs-fold':
            raw = `GET ${target} HTTP/1.1\r\nHost: x\r\n${auth}X-Folded: a\r\n b\r\nConnection: close\r\n\r\n`;
            break;
          case 'bad-cl':
            raw = `POST ${target} HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: abc\r\nConnection: close\r\n\r\n{}`;
            break;
          case 'short-cl':
            raw = `POST ${target} HTTP/1.1\r\nHost: x\r\n${auth}Content-Type: application/json\r\nContent-Length: 5\r\nConnection: close\r\n\r\n{"changes":[]}`;
            break;
        }
        return this.base(route, `${kind}:${variant}`, 'RAW', target, expect, { rawBytes: Buffer.isBuffer(raw) ? raw : Buffer.from(raw, 'latin1'), from: this.otherAddress(), auth: 'admin' });
      }
      case 'odd-name':
      case 'path-trick': {
        const odd = r.pick(ODD_SEGMENTS);
        let path = c.path;
        let expect: Expect = 'error';
        if (kind === 'path-trick') {
          const tricks = [
            [`${c.path}/`, 'any'],
            [c.path.replace('/api/v1/', '/api/v1//'), 'any'],
            [c.path.replace('/api/v1/', '/api/v1/./'), 'any'],
            [c.path.replace('/api/v1/', '/api/v1/x/../'), 'any'],
            [c.path.replace('/api/v1/', '/API/V1/'), 'any'],
            [c.path.replace('/apps/', '/apps/%2F'), 'error'],
            [c.path.replace('/apps/', '/apps/..;/'), 'any'],
            [`${c.path}%2f..%2f..%2ftokens`, 'error'],
            [`${c.path}#fragment`, 'any'],
            [`${c.path}%00`, 'error'],
            [c.path.replace(/\//g, '\\'), 'any'],
          ] as const;
          const [p, e] = r.pick(tricks);
          path = p;
          // A per-app audit of an app that does not exist is an empty list, not an error.
          expect = c.writes ? 'error' : route === 'GET /apps/:app/audit' ? 'any' : e;
        } else if (route === 'DELETE /tokens/:id') {
          path = `${P}/tokens/${odd}`;
        } else {
          const where = route.includes(':stage') ? r.pick(['app', 'stage'] as const) : 'app';
          path = where === 'app' ? c.path.replace(/\/apps\/[^/]+/, `/apps/${odd}`) : c.path.replace(/\/stages\/[^/]+/, `/stages/${odd}`);
          // A per-app audit of an app that does not exist is an empty list, not an error.
          if (route === 'GET /apps/:app/audit' || ['ORDERS', 'Orders'].includes(odd)) expect = route === 'GET /apps/:app/audit' ? 'any' : 'error';
        }
        const cs = this.base(route, `${kind}`, c.method, path, expect);
        if (c.body) this.withBody(cs, this.json(c.body()));
        return cs;
      }
      case 'mutate': {
        const { root, ops } = mutate(c.body!(), r);
        let bytes = this.json(root);
        if (r.chance(0.2)) bytes = corruptText(bytes.toString('utf8'), r).bytes;
        return this.withBody(this.base(route, `${kind}:${ops.join(',').slice(0, 60)}`, c.method, c.path, 'error'), bytes);
      }
      default:
        return this.routeSpecific(route, kind, c.path);
    }
  }

  private routeSpecific(route: Route, kind: string, path: string): BadCase {
    const r = this.rng;
    const names = this.settingNames();
    const stage = /\/stages\/([^/]+)\//.exec(path)?.[1] ?? 'qa';
    const v = (name: string) => this.ver('orders', stage, name);
    const body = (b: unknown) => this.withBody(this.base(route, kind, route.split(' ')[0]!, path, 'error'), this.json(b));
    switch (kind) {
      case 'patch-shape':
        return body(
          r.pick<unknown>([
            [],
            'changes',
            42,
            null,
            true,
            {},
            { changes: null },
            { changes: {} },
            { changes: 'PaymentApiKey=x' },
            { changes: [null] },
            { changes: [[]] },
            { changes: ['x'] },
            { changes: [{}] },
            { changes: [{ name: 'Greeting' }] },
            { changes: [{ name: 'Greeting', value: 'x' }] },
            { changes: [{ name: 'Greeting', baseVersion: v('Greeting') }] },
            { changes: [{ name: 42, value: 'x', baseVersion: 0 }] },
            { changes: [{ name: 'Greeting', value: 42, baseVersion: v('Greeting') }] },
            { changes: [{ name: 'Greeting', value: true, baseVersion: v('Greeting') }] },
            { changes: [{ name: 'Greeting', value: ['x'], baseVersion: v('Greeting') }] },
            { changes: [{ name: 'Greeting', value: { v: 'x' }, baseVersion: v('Greeting') }] },
            { changes: [{ name: 'Greeting', value: 'x', baseVersion: '0' }] },
            { changes: [{ name: 'Greeting', value: 'x', baseVersion: -1 }] },
            { changes: [{ name: 'Greeting', value: 'x', baseVersion: 0.5 }] },
            { changes: [{ name: 'Greeting', value: 'x', baseVersion: 1e308 }] },
            { changes: [{ name: 'Greeting', value: 'x', baseVersion: null }] },
            { changes: [{ name: 'Greeting', value: 'x', baseVersion: v('Greeting'), extra: 1 }] },
            { changes: [{ name: 'Greeting', value: 'x', baseVersion: v('Greeting'), isSecret: false }] },
            { changes: [], extra: true },
            { changes: [], dryRun: true },
            { change: [{ name: 'Greeting', value: 'x', baseVersion: v('Greeting') }] },
            { Changes: [{ name: 'Greeting', value: 'x', baseVersion: v('Greeting') }] },
            { changes: [{ name: '', value: 'x', baseVersion: 0 }] },
            { changes: [{ name: 'n'.repeat(101), value: 'x', baseVersion: 0 }] },
          ]),
        );
      case 'patch-unknown': {
        const unknown = r.pick(ODD_STRINGS.filter((s) => s.length >= 1 && s.length <= 100 && !names.includes(s)));
        const changes = [{ name: unknown, value: r.pick(['x', null, '1']), baseVersion: 0 }];
        if (r.chance(0.5)) changes.unshift({ name: 'Greeting', value: 'valid but not applied', baseVersion: v('Greeting') });
        return body({ changes });
      }
      case 'patch-stale': {
        const name = r.pick(names);
        const changes: Array<{ name: string; value: string | null; baseVersion: number }> = [{ name, value: 'stale', baseVersion: v(name) === 0 ? 1 + r.int(5) : r.pick([0, v(name) - 1, v(name) + 1]) }];
        if (r.chance(0.5)) changes.push({ name: names.find((n) => n !== name)!, value: null, baseVersion: v(names.find((n) => n !== name)!) });
        return body({ changes });
      }
      case 'patch-invalid': {
        const invalid: Array<[string, string]> = [];
        for (const [name, def] of Object.entries(this.fx.settings)) {
          const bad = INVALID_VALUES[def.type] ?? [];
          for (const b of bad) invalid.push([name, b]);
          if (!def.isSecret) invalid.push([name, 'n'.repeat(2001)]);
          else invalid.push([name, 's'.repeat(48 * 1024 + 1)], [name, 'é'.repeat(24 * 1024 + 1)]);
        }
        const [name, value] = r.pick(invalid);
        const changes = [{ name, value, baseVersion: v(name) }];
        // All or nothing: a valid change in the same batch is not applied either.
        const other = names.find((n) => n !== name && this.fx.settings[n]!.type === 'Text')!;
        if (r.chance(0.6)) changes.splice(r.int(2), 0, { name: other, value: `applied? ${r.hex(4)}`, baseVersion: v(other) });
        return body({ changes });
      }
      case 'patch-dup': {
        const name = r.pick(names);
        return body({ changes: [{ name, value: 'a', baseVersion: v(name) }, { name, value: 'b', baseVersion: v(name) }] });
      }
      case 'patch-empty':
        return { ...body({ changes: [] }), expect: 'any' };
      case 'patch-too-many': {
        const changes = Array.from({ length: 10_001 }, (_, i) => ({ name: `N${i}`, value: 'x', baseVersion: 0 }));
        return body({ changes });
      }
      case 'publish-shape':
        return body(
          r.pick<unknown>([
            {},
            [],
            'orders',
            { definitions: null },
            { definitions: 'x' },
            { definitions: [] },
            { definitions: {} },
            { definitions: { app: { key: 'orders' } } },
            { definitions: { app: { key: 'orders', name: 'Orders' } } },
            { definitions: { app: { key: 'orders', name: 'Orders' }, settings: {} } },
            { definitions: { app: { key: 'orders', name: 'Orders' }, settings: [null] } },
            { definitions: { app: { key: 'orders', name: 'Orders' }, settings: [{ name: 'A' }] } },
            { definitions: { app: { key: 'orders', name: 'Orders' }, settings: [{ name: 'A', type: 'Blob' }] } },
            { definitions: { app: { key: 'orders', name: 'Orders' }, settings: [{ name: 'A', type: 'text' }] } },
            { definitions: { app: { key: 'orders', name: 'Orders' }, settings: [{ name: 'A', type: 'Text', isSceret: true }] } },
            { definitions: { app: { key: 'orders', name: 'Orders' }, settings: [{ name: 'A', type: 'Text', isSecret: 'yes' }] } },
            { definitions: { app: { key: 'orders', name: 'Orders' }, settings: [{ name: 'A', type: 'Integer', defaultValue: 3 }] } },
            { definitions: { app: { key: 'orders', name: 'Orders' }, settings: [{ name: 1, type: 'Text' }] } },
            { definitions: { app: { key: 'orders', name: 'Orders', extra: 1 }, settings: [] } },
            { definitions: { app: { key: 1, name: 'Orders' }, settings: [] } },
            { definitions: { $schema: 5, app: { key: 'orders', name: 'Orders' }, settings: [] } },
            { definitions: this.fx.definitions.orders, baseRevision: '1' },
            { definitions: this.fx.definitions.orders, baseRevision: -1 },
            { definitions: this.fx.definitions.orders, baseRevision: 1.5 },
            { definitions: this.fx.definitions.orders, dryRun: 'true' },
            { definitions: this.fx.definitions.orders, dryRun: 1 },
            { definitions: this.fx.definitions.orders, force: true },
            { definition: this.fx.definitions.orders },
          ]),
        );
      case 'publish-rules': {
        const base = clone(this.fx.definitions.orders) as { app: { key: string; name: string }; settings: Array<Record<string, unknown>> };
        const variant = r.pick([
          'bad-name',
          'dup-name',
          'long-description',
          'bad-default',
          'secret-default',
          'blank-app-name',
          'long-app-name',
          'bad-app-key',
        ] as const);
        let target = path;
        switch (variant) {
          case 'bad-name':
            base.settings.push({ name: r.pick(['1abc', '_x', 'a-b', 'a b', 'é', '', 'n'.repeat(101), '..', '__proto__x$', "x'; DROP TABLE apps; --", '😀']), type: 'Text' });
            break;
          case 'dup-name':
            base.settings.push({ name: (base.settings[0]!.name as string).toUpperCase(), type: 'Text' });
            break;
          case 'long-description':
            base.settings.push({ name: 'LongDescription', type: 'Text', description: 'd'.repeat(2001) });
            break;
          case 'bad-default': {
            const type = r.pick(Object.keys(INVALID_VALUES));
            base.settings.push({ name: 'BadDefault', type, defaultValue: r.pick(INVALID_VALUES[type]!) });
            break;
          }
          case 'secret-default':
            base.settings.push({ name: 'SecretWithDefault', type: 'Text', isSecret: true, defaultValue: 'must-not-be-stored' });
            break;
          case 'blank-app-name':
            base.app.name = r.pick(['', ' ', '\t']);
            break;
          case 'long-app-name':
            base.app.name = 'n'.repeat(201);
            break;
          case 'bad-app-key': {
            const key = r.pick(['Orders', '1orders', 'orders_x', 'a'.repeat(65), 'ördérs', '-orders', '..', 'orders.', "o'rders"]);
            base.app.key = key;
            target = `${P}/apps/${enc(key)}/publish`;
            break;
          }
        }
        const cs = this.withBody(this.base(route, `${kind}:${variant}`, 'POST', target, 'error'), this.json({ definitions: base, dryRun: r.chance(0.3) }));
        return cs;
      }
      case 'publish-mismatch':
        return body(this.publishTemplate());
      case 'publish-stale': {
        const base = clone(this.fx.definitions.orders) as { app: { name: string } };
        base.app.name = `Renamed ${r.hex(3)}`;
        return body({ definitions: base, baseRevision: (this.fx.revision.orders ?? 1) + 1 + r.int(5) });
      }
      case 'publish-dryrun': {
        const base = clone(this.fx.definitions.orders) as { settings: Array<Record<string, unknown>> };
        base.settings = base.settings.slice(1).reverse();
        return { ...body({ definitions: base, dryRun: true, baseRevision: this.fx.revision.orders }), expect: 'any' };
      }
      case 'publish-same':
        return { ...body({ definitions: this.fx.definitions.orders }), expect: 'any' };
      case 'token-shape':
        return body(
          r.pick<unknown>([
            {},
            [],
            'admin',
            { name: 'x' },
            { role: 'operator' },
            { name: '', role: 'operator' },
            { name: 'n'.repeat(101), role: 'operator' },
            { name: 5, role: 'operator' },
            { name: 'x', role: 'operator', apps: 'orders' },
            { name: 'x', role: 'operator', apps: '**' },
            { name: 'x', role: 'operator', apps: [1] },
            { name: 'x', role: 'operator', apps: [''] },
            { name: 'x', role: 'operator', stages: {} },
            { name: 'x', role: 'operator', token: 'odcp_chosen' },
            { name: 'x', role: 'operator', id: 'tok_mine' },
            { name: 'x', role: ['admin'] },
            { name: 'x', role: null },
            { name: 'x', role: 'operator', apps: Array.from({ length: 1001 }, (_, i) => `a${i}`) },
          ]),
        );
      case 'token-rules':
        return body(
          r.pick<unknown>([
            { name: 'rt', role: 'runtime' },
            { name: 'rt', role: 'runtime', apps: '*', stages: ['qa'] },
            { name: 'rt', role: 'runtime', apps: ['orders'], stages: '*' },
            { name: 'rt', role: 'runtime', apps: ['orders', 'billing'], stages: ['qa'] },
            { name: 'rt', role: 'runtime', apps: ['orders'], stages: ['qa', 'production'] },
            { name: 'rt', role: 'runtime', apps: [], stages: [] },
            { name: 'op', role: 'operator', stages: ['staging'] },
            { name: 'op', role: 'operator', stages: ['QA'] },
            { name: 'op', role: 'developer', stages: ['qa', '..'] },
          ]),
        );
      case 'token-id': {
        const id = r.pick([this.fx.tokenIds.revoked, `${this.fx.tokenIds.dev}x`, this.fx.tokenIds.dev.toUpperCase(), 'tok_', '%2e%2e', enc("tok_' OR 1=1 --"), enc(this.fx.tokens.dev)]);
        return this.base(route, kind, 'DELETE', `${P}/tokens/${id}`, 'error');
      }
    }
    throw new Error(`no generator for ${kind}`);
  }
}

/** Values that break §2's rules per type. */
export const INVALID_VALUES: Record<string, string[]> = {
  Integer: ['abc', '2147483648', '-2147483649', '1e3', ' 5', '5 ', '1.0', '０', '0x10', '', '+', '--1'],
  LongInteger: ['9223372036854775808', '1.5', 'x'],
  Decimal: ['1e5', '1,5', '.', 'NaN', 'Infinity', '1.2.3'],
  Currency: ['$5', '5 EUR', '1e2'],
  Boolean: ['true', 'false', 'TRUE', '1', 'yes', ''],
  Date: ['2023-02-30', '2023-13-01', '23-01-01', '2023/01/01', '2023-1-1'],
  Time: ['24:00:00', '12:60:00', '12:00', '12:00:00Z'],
  DateTime: ['2023-01-01', '2023-01-01T25:00:00', '2023-01-01T00:00:00+24:00', '2023-01-01 00:00:00'],
  Email: ['a@b', 'no-at', 'a@@b.c', 'a b@c.d', '@b.c', 'x'.repeat(250) + '@b.cd'],
  PhoneNumber: ['12', 'abc', '+', '1'.repeat(33), '12a'],
};
