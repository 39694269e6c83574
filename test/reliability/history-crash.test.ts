// Issue 14 item 11, crashes during restores and promotes (SPEC §12, §13): kill -9 the server at
// random moments while a workload restores old versions (secrets included, restored inside the
// server) and promotes whole stages (dry run, then the apply with its versions). After every
// kill: integrity_check ok; the operation in flight is all or nothing (values, versions and the
// kept history equal the model before it or after it); every current secret decrypts (the
// run-time read of each stage); the audit chain verifies and counts one write per version. At
// the end, the oldest kept version of every secret is restored and read back: old ciphertexts
// decrypt too.
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { ensureServerBuilt, removeDir, startPortal, tempDir, type Portal } from '../support/portal';
import { createToken, publish } from './fixtures';
import { BASE_SEED, formatHistogram, histogram, integrityCheck, reportFigures, Rng, SIZES, sleep, withReadOnlyDb } from './lib';

const APP = 'history';
const STAGES = ['development', 'qa', 'production'];
const SECRETS = Array.from({ length: 10 }, (_, i) => `Secret${String(i + 1).padStart(2, '0')}`);
const PLAINS = Array.from({ length: 10 }, (_, i) => `Plain${String(i + 1).padStart(2, '0')}`);
const NAMES = [...SECRETS, ...PLAINS];
const DEFS = {
  app: { key: APP, name: 'History crash' },
  settings: [...SECRETS.map((name) => ({ name, type: 'Text', isSecret: true })), ...PLAINS.map((name) => ({ name, type: 'Text', defaultValue: `default-${name}` }))],
};
const isSecret = (name: string) => SECRETS.includes(name);

interface Pair {
  version: number;
  value: string | null;
  /** Every version's value (what a restore of it writes back). */
  versions: Record<number, string | null>;
}
type State = Record<string, Pair>; // `${stage}/${name}`
const clone = (s: State): State => JSON.parse(JSON.stringify(s)) as State;
const pairOf = (s: State, stage: string, name: string): Pair => s[`${stage}/${name}`] ?? { version: 0, value: null, versions: {} };
function write(s: State, stage: string, name: string, value: string | null): void {
  const p = pairOf(s, stage, name);
  s[`${stage}/${name}`] = { version: p.version + 1, value, versions: { ...p.versions, [p.version + 1]: value } };
}

/** Values and versions only (what the store can be compared on). */
function describeDiff(actual: Record<string, { version: number; value: string | null; kept: number }>, expected: State): string {
  const lines: string[] = [];
  for (const k of new Set([...Object.keys(actual), ...Object.keys(expected)])) {
    const a = actual[k] ?? { version: 0, value: null, kept: 0 };
    const e = expected[k] ?? { version: 0, value: null, versions: {} };
    // The newest kept history entry is the current write (every write keeps one).
    if (a.version !== e.version || a.value !== e.value || (e.version > 0 && a.kept !== e.version)) lines.push(`${k}: v${a.version} ${JSON.stringify(a.value)} (history to v${a.kept}) != v${e.version} ${JSON.stringify(e.value)}`);
  }
  return lines.sort().slice(0, 10).join('; ') + (lines.length > 10 ? ` (+${lines.length - 10})` : '');
}

let portal: Portal | null = null;
let workDir = '';
after(async () => {
  if (portal) await portal.stop();
  if (workDir) removeDir(workDir);
});

test(`crashes: ${SIZES.kills} kill -9 during restores and promotes (seed ${BASE_SEED})`, { timeout: 60 * 60_000 }, async () => {
  ensureServerBuilt();
  const rng = new Rng(BASE_SEED).fork(7);
  workDir = tempDir('odc-history-crash-');
  const dataDir = path.join(workDir, 'data');
  const dbFile = path.join(dataDir, 'portal.db');
  portal = await startPortal({ dataDir });
  const adminToken = portal.adminToken;
  const api = (...args: Parameters<Portal['api']>) => portal!.api(...args);
  await publish(api, DEFS);
  const runtime: Record<string, string> = {};
  for (const stage of STAGES) runtime[stage] = (await createToken(api, { name: `runtime ${stage}`, role: 'runtime', apps: [APP], stages: [stage] })).token;

  let model: State = {};
  let pending: { label: string; post: State } | null = null;
  let generation = 0;
  const figures = { kills: 0, restarts: 0, restores: 0, promotes: 0, promotedValues: 0, opsInFlight: 0, landedPre: 0, landedPost: 0, oldVersionsRestored: 0 };
  const opLog: string[] = [];
  const failures: string[] = [];
  const httpErrors: string[] = [];

  async function save(stage: string, values: Record<string, string | null>): Promise<void> {
    const changes = Object.entries(values).map(([name, value]) => ({ name, value, baseVersion: pairOf(model, stage, name).version }));
    const post = clone(model);
    for (const [name, value] of Object.entries(values)) write(post, stage, name, value);
    pending = { label: `save ${stage}`, post };
    const res = await api('PATCH', `/apps/${APP}/stages/${stage}/settings`, { body: { changes } });
    if (res.status !== 200) throw new Error(`save answered ${res.status}: ${res.text.slice(0, 200)}`);
    model = post;
    pending = null;
  }

  async function restore(stage: string, name: string): Promise<void> {
    const current = pairOf(model, stage, name);
    const hist = await api('GET', `/apps/${APP}/stages/${stage}/settings/${name}/history`);
    if (hist.status !== 200) throw new Error(`history answered ${hist.status}: ${hist.text.slice(0, 200)}`);
    const older = (hist.body.entries as Array<{ version: number }>).filter((e) => e.version !== current.version);
    if (older.length === 0) return;
    const version = rng.pick(older).version;
    const post = clone(model);
    write(post, stage, name, current.versions[version] ?? null);
    pending = { label: `restore ${stage}/${name} v${version}`, post };
    const res = await api('POST', `/apps/${APP}/stages/${stage}/settings/${name}/restore`, { body: { version, baseVersion: current.version } });
    if (res.status !== 200) throw new Error(`restore answered ${res.status}: ${res.text.slice(0, 200)}`);
    model = post;
    pending = null;
    figures.restores++;
  }

  async function promote(from: string, to: string): Promise<void> {
    const dry = await api('POST', `/apps/${APP}/promote`, { body: { from, to, dryRun: true } });
    if (dry.status !== 200) throw new Error(`promote preview answered ${dry.status}: ${dry.text.slice(0, 200)}`);
    const changes = dry.body.changes as Array<{ name: string; action: 'set' | 'clear' }>;
    const post = clone(model);
    for (const c of changes) write(post, to, c.name, c.action === 'set' ? pairOf(model, from, c.name).value : null);
    pending = { label: `promote ${from}->${to} (${changes.length})`, post };
    const res = await api('POST', `/apps/${APP}/promote`, { body: { from, to, baseVersions: dry.body.baseVersions } });
    if (res.status !== 200) throw new Error(`promote answered ${res.status}: ${res.text.slice(0, 200)}`);
    model = post;
    pending = null;
    figures.promotes++;
    figures.promotedValues += changes.length;
  }

  /** New values in a stage (some cleared), so there is something to promote and to restore. */
  async function churn(stage: string): Promise<void> {
    const gen = ++generation;
    const values: Record<string, string | null> = {};
    for (const name of rng.chance(0.5) ? NAMES : NAMES.filter(() => rng.chance(0.5))) values[name] = rng.chance(0.1) ? null : `g${gen}-${name}-${stage}`;
    if (Object.keys(values).length) await save(stage, values);
  }

  function workload(): { stop: () => void; done: Promise<void> } {
    let stopped = false;
    const done = (async () => {
      for (let i = 0; i < 5000 && !stopped; i++) {
        try {
          const r = rng.range(0, 9);
          if (r < 2) await churn(rng.pick(STAGES));
          else if (r < 6) await restore(rng.pick(STAGES), rng.pick(NAMES));
          else {
            const a = rng.range(0, STAGES.length - 1);
            const b = (a + 1 + rng.range(0, STAGES.length - 2)) % STAGES.length;
            await promote(STAGES[a]!, STAGES[b]!);
          }
        } catch (err) {
          const msg = (err as Error).message;
          // A killed server: the fetch fails (connection reset or refused). Anything else is a failure.
          if (!/fetch failed|ECONNRESET|ECONNREFUSED|socket|other side closed/i.test(msg + String((err as { cause?: unknown }).cause ?? ''))) httpErrors.push(msg);
          return;
        }
      }
    })();
    return { stop: () => (stopped = true), done };
  }

  /** The store as it is: versions, values (secrets through the run-time read), newest kept history version. */
  async function actual(label: string): Promise<Record<string, { version: number; value: string | null; kept: number }>> {
    const runtimeValues: Record<string, Record<string, string | null>> = {};
    for (const stage of STAGES) {
      const res = await api('GET', '/runtime/settings', { token: runtime[stage]! });
      if (res.status !== 200) failures.push(`${label}: runtime read ${stage} answered ${res.status} (a secret does not decrypt?): ${res.text.slice(0, 200)}`);
      else runtimeValues[stage] = res.body.settings as Record<string, string | null>;
    }
    const { rows, kept } = withReadOnlyDb(dbFile, (db) => ({
      rows: db.prepare('SELECT stage, name, version, plain, secret IS NOT NULL AS has_secret FROM stage_values WHERE app_key = ?').all(APP) as Array<{ stage: string; name: string; version: number; plain: string | null; has_secret: number }>,
      kept: db.prepare('SELECT stage, name, MAX(version) AS top, COUNT(*) AS n FROM value_history WHERE app_key = ? GROUP BY stage, name').all(APP) as Array<{ stage: string; name: string; top: number; n: number }>,
    }));
    const keptOf = new Map(kept.map((k) => [`${k.stage}/${k.name}`, k]));
    const out: Record<string, { version: number; value: string | null; kept: number }> = {};
    for (const r of rows) {
      if (isSecret(r.name) && r.plain !== null) failures.push(`${label}: ${r.stage}/${r.name} is secret but has a plaintext value`);
      const value = r.has_secret ? (runtimeValues[r.stage]?.[r.name] ?? '<missing from the run-time read>') : r.plain;
      const k = keptOf.get(`${r.stage}/${r.name}`);
      if (k && k.n > 20) failures.push(`${label}: ${r.stage}/${r.name} keeps ${k.n} versions (more than 20)`);
      if (r.version > 0 || value !== null) out[`${r.stage}/${r.name}`] = { version: r.version, value, kept: k?.top ?? 0 };
    }
    return out;
  }

  function auditAgreement(state: State): string[] {
    const rows = withReadOnlyDb(dbFile, (db) => db.prepare("SELECT stage, setting, COUNT(*) AS n FROM audit WHERE outcome = 'ok' AND app = ? AND action LIKE 'value.%' GROUP BY stage, setting").all(APP)) as Array<{ stage: string; setting: string; n: number }>;
    const writes = new Map(rows.map((r) => [`${r.stage}/${r.setting}`, r.n]));
    const problems: string[] = [];
    for (const k of new Set([...writes.keys(), ...Object.keys(state)])) {
      const v = state[k]?.version ?? 0;
      if ((writes.get(k) ?? 0) !== v) problems.push(`${k}: version ${v} but ${writes.get(k) ?? 0} audited writes`);
    }
    return problems;
  }

  async function verify(label: string): Promise<void> {
    const integrity = integrityCheck(dbFile);
    if (integrity !== 'ok') failures.push(`${label}: integrity_check: ${integrity}`);
    const state = await actual(label);
    const pre = describeDiff(state, model);
    if (pending) {
      figures.opsInFlight++;
      const post = describeDiff(state, pending.post);
      if (post === '') {
        model = pending.post;
        figures.landedPost++;
        if (pending.label.startsWith('restore')) figures.restores++;
        if (pending.label.startsWith('promote')) figures.promotes++;
      } else if (pre === '') figures.landedPre++;
      else failures.push(`${label}: in-flight ${pending.label} is neither all nor nothing: vs before: ${pre} | vs after: ${post}`);
      opLog.push(pending.label.split(' ')[0]!);
      pending = null;
    } else if (pre !== '') failures.push(`${label}: the store differs from the acknowledged writes: ${pre}`);
    for (const p of auditAgreement(model)) failures.push(`${label}: audit disagrees: ${p}`);
    const chain = await api('GET', '/audit/verify');
    if (chain.status !== 200 || chain.body.ok !== true) failures.push(`${label}: audit chain: ${chain.status} ${chain.text.slice(0, 200)}`);
  }

  // Every stage gets a few rounds of values first, so there is history to restore.
  for (let round = 0; round < 3; round++) for (const stage of STAGES) await churn(stage);
  await verify('after the first values');
  assert.equal(failures.length, 0, failures.join('\n'));

  const started = Date.now();
  for (let i = 0; i < SIZES.kills; i++) {
    const w = workload();
    const delay = rng.range(20, 600);
    await sleep(delay);
    await portal.kill9();
    figures.kills++;
    w.stop();
    await w.done;
    portal = await startPortal({ dataDir, adminToken });
    figures.restarts++;
    await verify(`kill ${i + 1}/${SIZES.kills} after ${delay} ms`);
    if (failures.length > 20) break;
  }

  // Old ciphertexts decrypt: restore each secret's oldest kept version and read it at run time.
  for (const stage of STAGES) {
    for (const name of SECRETS) {
      const current = pairOf(model, stage, name);
      if (current.version === 0) continue;
      const hist = await api('GET', `/apps/${APP}/stages/${stage}/settings/${name}/history`);
      const entries = hist.body.entries as Array<{ version: number; hasValue: boolean }>;
      const oldest = entries.filter((e) => e.hasValue && e.version !== current.version).at(-1);
      if (!oldest) continue;
      const res = await api('POST', `/apps/${APP}/stages/${stage}/settings/${name}/restore`, { body: { version: oldest.version, baseVersion: pairOf(model, stage, name).version } });
      if (res.status !== 200) {
        failures.push(`restoring ${stage}/${name} v${oldest.version} answered ${res.status}: ${res.text.slice(0, 200)}`);
        continue;
      }
      write(model, stage, name, pairOf(model, stage, name).versions[oldest.version] ?? null);
      figures.oldVersionsRestored++;
    }
  }
  await verify('after restoring the oldest kept secrets');
  const seconds = (Date.now() - started) / 1000;

  reportFigures('history crashes', {
    'kills survived': figures.kills,
    restarts: figures.restarts,
    'operations in flight at a kill': `${figures.opsInFlight} (landed all: ${figures.landedPost}, landed nothing: ${figures.landedPre}): ${formatHistogram(histogram(opLog))}`,
    'restores applied': figures.restores,
    'promotes applied': `${figures.promotes} (${figures.promotedValues} values)`,
    'oldest kept secret versions restored and read back': figures.oldVersionsRestored,
    'integrity_check / all-or-nothing / audit / decrypt failures': failures.length,
    'unexpected HTTP errors in the workload': httpErrors.length,
    'duration s': seconds.toFixed(1),
  });
  if (failures.length) console.log(`failures (seed ${BASE_SEED}):\n${failures.slice(0, 30).join('\n')}`);
  if (httpErrors.length) console.log(`workload errors:\n${httpErrors.slice(0, 10).join('\n')}`);
  assert.deepEqual(failures, []);
  assert.deepEqual(httpErrors, []);
  assert.ok(figures.kills >= SIZES.kills, `only ${figures.kills} kills of ${SIZES.kills}`);
  assert.ok(figures.restores > 0 && figures.promotes > 0, 'the workload restored and promoted');
});
