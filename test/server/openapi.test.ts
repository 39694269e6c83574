// The OpenAPI document the server serves (issue 17): client generators accept it. It lints
// clean under redocly.yaml (recommended-strict: zero warnings, OpenAPI 3.1 structure, an
// operationId on every operation, info.license, 4xx as problem details), and every 4xx (and
// 304) an operation really answers is one the document lists for it.
import { spawn } from 'node:child_process';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { newCanary, removeDir, ROOT, startPortal, tempDir, type Portal } from '../support/portal';

type Operation = { operationId?: string; responses: Record<string, { content?: Record<string, unknown> }> };
type Document = { openapi: string; info: { license?: { name?: string; identifier?: string } }; paths: Record<string, Record<string, Operation>> };

interface LintResult {
  totals: { errors: number; warnings: number };
  problems: Array<{ ruleId: string; severity: string; message: string; location?: Array<{ pointer?: string }> }>;
}

/** `redocly lint` (the pinned devDependency) on a file, with the project's redocly.yaml. */
function lint(file: string): Promise<LintResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(ROOT, 'node_modules/.bin/redocly'), ['lint', file, '--config', path.join(ROOT, 'redocly.yaml'), '--format=json'], {
      cwd: path.dirname(file),
      env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
    child.on('close', () => {
      clearTimeout(timer);
      try {
        resolve(JSON.parse(out) as LintResult);
      } catch {
        reject(new Error(`redocly lint printed no JSON report:\n${out}\n${err}`));
      }
    });
  });
}

const describeProblems = (r: LintResult) => r.problems.map((p) => `${p.severity} ${p.ruleId} at ${p.location?.[0]?.pointer ?? '?'}: ${p.message}`).join('\n');

/** One raw HTTP request, so a test can leave out Host, send any bytes, or pick a source address. */
function send(
  portal: Portal,
  method: string,
  route: string,
  opts: { token?: string | null; body?: string | Buffer; headers?: Record<string, string>; localAddress?: string; noHost?: boolean } = {},
): Promise<{ status: number; contentType: string }> {
  const url = new URL(`${portal.url}/api/v1${route}`);
  const headers: Record<string, string> = { ...(opts.headers ?? {}) };
  const token = opts.token === undefined ? portal.adminToken : opts.token;
  if (token) headers.authorization = `Bearer ${token}`;
  if (opts.body !== undefined) {
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(Buffer.byteLength(opts.body));
  }
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: url.hostname, port: Number(url.port), path: url.pathname + url.search, method, headers, agent: false, setHost: !opts.noHost, localAddress: opts.localAddress },
      (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? '') }));
      },
    );
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe('the OpenAPI document', () => {
  let portal: Portal;
  let work: string;
  let doc: Document;
  let file: string;

  before(async () => {
    work = tempDir('odc-openapi-');
    portal = await startPortal({ dataDir: path.join(work, 'data') });
    const res = await portal.api('GET', '/openapi.json', { token: null });
    assert.equal(res.status, 200, res.text);
    doc = res.body as Document;
    file = path.join(work, 'openapi.json');
    fs.writeFileSync(file, res.text);
  });

  after(async () => {
    await portal?.stop();
    if (work) removeDir(work);
  });

  test('lints clean with redocly at zero warnings, as OpenAPI 3.1', async () => {
    assert.match(doc.openapi, /^3\.1\.\d+$/);
    const result = await lint(file);
    assert.deepEqual({ errors: result.totals.errors, warnings: result.totals.warnings }, { errors: 0, warnings: 0 }, describeProblems(result));

    // The lint is live: the same document missing an operationId, its license, a problem
    // schema on a 4xx, or with a field OpenAPI 3.1 does not have, fails on each.
    const broken = structuredClone(doc) as Document & { paths: Record<string, Record<string, Operation & { bogus?: number }>> };
    delete broken.info.license;
    delete broken.paths['/apps']!.get!.operationId;
    broken.paths['/apps']!.get!.responses['401'] = { content: { 'application/json': { schema: { type: 'object' } } } };
    broken.paths['/stages']!.get!.bogus = 1;
    const brokenFile = path.join(work, 'broken.json');
    fs.writeFileSync(brokenFile, JSON.stringify(broken));
    const rules = new Set((await lint(brokenFile)).problems.map((p) => p.ruleId));
    for (const rule of ['info-license', 'operation-operationId', 'operation-4xx-problem-details-rfc7807', 'struct']) assert.ok(rules.has(rule), `the lint reports ${rule} (got ${[...rules].join(', ')})`);
  });

  test('every operation has a unique operationId; info names the license', () => {
    const ids = Object.values(doc.paths).flatMap((ops) => Object.values(ops).map((op) => op.operationId));
    assert.ok(ids.length >= 15, `${ids.length} operations`);
    for (const id of ids) assert.match(id ?? '', /^[a-z][A-Za-z]+$/, 'an operationId a generator can use as a method name');
    assert.equal(new Set(ids).size, ids.length, 'operationIds are unique');
    assert.deepEqual(doc.info.license, { name: 'MIT', identifier: 'MIT' });
    const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { license: string };
    assert.equal(doc.info.license?.identifier, pkg.license, "the package's license");
  });

  test('every 4xx and 304 an operation answers is documented for it, as problem details', async () => {
    const definitions = { app: { key: 'orders', name: 'Orders' }, settings: [{ name: 'MaxRetries', type: 'Integer', defaultValue: '3' }] };
    assert.equal((await portal.api('POST', '/apps/orders/publish', { body: { definitions } })).status, 200);
    const token = async (body: Record<string, unknown>) => {
      const res = await portal.api('POST', '/tokens', { body: { name: newCanary('t'), ...body } });
      assert.equal(res.status, 201, res.text);
      return res.body as { id: string; token: string };
    };
    const operator = await token({ role: 'operator', stages: ['production'] });
    const runtime = await token({ role: 'runtime', apps: ['orders'], stages: ['qa'] });
    const bogus = `odcp_${newCanary('bogus')}`;
    // Its own loopback address, blocked by the failed-sign-in limiter, for the 429 case.
    const blocked = '127.0.0.83';
    for (let i = 0; i < 25; i++) await send(portal, 'GET', '/apps', { token: bogus, localAddress: blocked });
    assert.equal((await send(portal, 'GET', '/apps', { token: bogus, localAddress: blocked })).status, 429, 'the limiter blocks the address');

    const undocumented: string[] = [];
    const seen = new Map<string, Set<number>>();
    for (const [template, ops] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const label = `${method.toUpperCase()} ${template}`;
        const fill = (p: Record<string, string> = {}) =>
          template.replace(/\{(\w+)\}/g, (_, name: string) => p[name] ?? ({ app: 'orders', stage: 'qa', id: operator.id } as Record<string, string>)[name]!);
        const hasBody = method === 'post' || method === 'patch';
        const owner = template === '/runtime/settings' ? runtime.token : portal.adminToken;
        const attempts: Array<Parameters<typeof send>[3] & { route?: string }> = [
          {},
          { token: owner },
          // Failed sign-ins from addresses of their own, away from the client the other requests use.
          { token: null, localAddress: '127.0.0.85' },
          { token: bogus, localAddress: '127.0.0.84' },
          { token: bogus, localAddress: blocked },
          { token: runtime.token },
          { token: operator.token },
          { token: owner, noHost: true },
          { token: owner, route: fill({ app: 'ghost', stage: 'nostage', id: 'tok_0000000000000000' }) },
          { token: owner, route: fill({ app: '%E0%A4%A', stage: '%ff' }) },
          { token: owner, route: `${fill()}?limit=0&before=x` },
        ];
        if (template === '/runtime/settings') {
          const first = await fetch(`${portal.url}/api/v1/runtime/settings`, { headers: { authorization: `Bearer ${runtime.token}` } });
          await first.arrayBuffer();
          attempts.push({ token: owner, headers: { 'if-none-match': first.headers.get('etag') ?? '' } });
        }
        if (template === '/tokens/{id}') attempts.push({ token: owner, route: fill({ id: (await portal.api('GET', '/tokens')).body.tokens[0].id }) });
        if (hasBody) {
          const valid: Record<string, unknown> = {
            '/apps/{app}/publish': { definitions },
            '/apps/{app}/stages/{stage}/settings': { changes: [{ name: 'MaxRetries', value: '4', baseVersion: 0 }] },
            '/tokens': { name: 'x', role: 'operator' },
          };
          const invalid: Record<string, unknown[]> = {
            '/apps/{app}/publish': [{ definitions: { ...definitions, app: { key: 'other', name: 'Other' } } }, { definitions, baseRevision: 99 }, { definitions: { ...definitions, settings: [{ name: 'X', type: 'Nope' }] } }],
            '/apps/{app}/stages/{stage}/settings': [{ changes: [{ name: 'MaxRetries', value: 'four', baseVersion: 0 }] }, { changes: [{ name: 'MaxRetries', value: '5', baseVersion: 99 }] }, { changes: [{ name: 'Ghost', value: '5', baseVersion: 0 }] }],
            '/tokens': [{ name: 'x', role: 'runtime' }, { name: 'x', role: 'operator', stages: ['nostage'] }],
          };
          attempts.push(
            { token: owner, body: JSON.stringify(valid[template]) },
            { token: owner, body: '{"a":', headers: { 'content-type': 'application/json' } },
            { token: owner, body: JSON.stringify(valid[template]), headers: { 'content-type': 'text/plain' } },
            { token: owner, body: JSON.stringify({ pad: 'x'.repeat(1_100_000) }) },
            { token: owner, body: JSON.stringify({ unexpected: true }) },
            ...(invalid[template] ?? []).map((b) => ({ token: owner, body: JSON.stringify(b) })),
          );
        }
        for (const a of attempts) {
          const route = a.route ?? fill();
          const res = await send(portal, method.toUpperCase(), route, a);
          seen.set(label, (seen.get(label) ?? new Set()).add(res.status));
          if (res.status < 300 || res.status >= 500) continue;
          const documented = op.responses[String(res.status)];
          if (!documented) undocumented.push(`${label} answered ${res.status} (${method.toUpperCase()} ${route}) but the document does not list it`);
          else if (res.status >= 400 && !documented.content?.['application/problem+json']) undocumented.push(`${label} ${res.status} is not documented as problem details`);
        }
      }
    }
    assert.deepEqual(undocumented, []);
    // The exploration reached the answers it is meant to check.
    const all = new Set([...seen.values()].flatMap((s) => [...s]));
    for (const status of [304, 400, 401, 403, 404, 409, 413, 415, 422, 429]) assert.ok(all.has(status), `some operation answered ${status}`);
  });
});
