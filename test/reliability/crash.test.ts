// Part 2, crashes: kill -9 the server at random moments during publishes (including
// secret -> non-secret deletions), batch saves and key rotations, and kill -9 the
// `odc-portal rotate-key` command mid-way (at random moments and at the two narrow
// windows: key staged / store re-wrapped). After every kill: integrity_check ok, the
// operation in flight is all or nothing (the store equals the model before it or after it,
// versions and values included, deletions exactly per the plan), the audit chain verifies
// and agrees with the data, every secret decrypts, and the server starts with whichever
// master key is current.
// The same on the PostgreSQL store (issue 13 item 11), with PORTAL_MASTER_KEY as the key source;
// integrity is amcheck over every index, and every value, secret or not, is read back through the
// run-time API. Rotation there is `rotate-key --database-url URL` with PORTAL_MASTER_KEY (old) and
// PORTAL_NEW_MASTER_KEY (new), the operator then swapping the variable: the CLI is killed at random
// moments and at two narrow points (before its COMMIT is sent / after it is acknowledged), and the
// server while the CLI rotates. The store is then under the old key (rolled back) or the new one
// (committed), never neither: the instance starts with that key, and a start with the other one is
// refused with a message naming the mismatch.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { masterKeyId } from '../../server/crypto/envelope';
import { cliEnv, ensureServerBuilt, removeDir, ROOT, startExpectingFailure, tempDir, type Portal } from '../support/portal';
import { createToken, publish } from './fixtures';
import { BASE_SEED, formatHistogram, histogram, reportFigures, Rng, SIZES, sleep } from './lib';
import { STORES, storeUnderTest } from './stores';

const APP = 'cycle';
const STAGES = ['development', 'qa', 'production'];
const KEYS = Array.from({ length: 16 }, (_, i) => `Key${String(i + 1).padStart(2, '0')}`);
const PLAINS = Array.from({ length: 16 }, (_, i) => `Plain${String(i + 1).padStart(2, '0')}`);
const FLIPS = ['Flip1', 'Flip2', 'Flip3', 'Flip4'];
const GONE = ['Gone1', 'Gone2', 'Gone3'];

type Mode = 'A' | 'B';
interface Def {
  name: string;
  type: string;
  isSecret?: boolean;
  description?: string;
  defaultValue?: string;
}
/** A: flips secret, Gone* present, Typed is Text. B: flips plain, Gone* removed, Typed is Integer. */
function definitions(mode: Mode) {
  const settings: Def[] = [
    ...FLIPS.map((name) => ({ name, type: 'Text', isSecret: mode === 'A' })),
    ...(mode === 'A' ? [{ name: 'Gone1', type: 'Text' }, { name: 'Gone2', type: 'Text', defaultValue: 'd' }, { name: 'Gone3', type: 'Text', isSecret: true }] : []),
    { name: 'Typed', type: mode === 'A' ? 'Text' : 'Integer' },
    ...KEYS.map((name) => ({ name, type: 'Text', isSecret: true })),
    ...PLAINS.map((name) => ({ name, type: 'Text', defaultValue: `default-${name}` })),
  ];
  return { app: { key: APP, name: 'Crash cycle' }, settings };
}
const DEFS = { A: definitions('A'), B: definitions('B') };
const isSecretIn = (mode: Mode, name: string) => !!DEFS[mode].settings.find((s) => s.name === name)?.isSecret;
const definedIn = (mode: Mode, name: string) => DEFS[mode].settings.some((s) => s.name === name);

// ---- the model -------------------------------------------------------------------------------

interface Pair {
  version: number;
  value: string | null;
}
interface State {
  mode: Mode;
  revision: number;
  pairs: Record<string, Pair>; // `${stage}/${name}`
}
const clone = (s: State): State => JSON.parse(JSON.stringify(s)) as State;
const pairOf = (s: State, stage: string, name: string): Pair => s.pairs[`${stage}/${name}`] ?? { version: 0, value: null };

function expectedDeletions(s: State, to: Mode): string[] {
  const out: string[] = [];
  const from = s.mode;
  for (const def of DEFS[from].settings) {
    for (const stage of STAGES) {
      const p = pairOf(s, stage, def.name);
      if (p.value === null) continue;
      let reason: string | null = null;
      if (!definedIn(to, def.name)) reason = 'removed';
      else if (isSecretIn(from, def.name) && !isSecretIn(to, def.name)) reason = 'secret-to-non-secret';
      else if (!isSecretIn(from, def.name) && isSecretIn(to, def.name)) reason = 'non-secret-to-secret';
      else if (def.name === 'Typed' && to === 'B' && !/^[+-]?\d+$/.test(p.value)) reason = 'invalid-for-type';
      if (reason) out.push(`${def.name}@${stage}:${reason}`);
    }
  }
  return out.sort();
}

function describeDiff(actual: State, expected: State): string {
  const lines: string[] = [];
  if (actual.mode !== expected.mode) lines.push(`mode ${actual.mode} != ${expected.mode}`);
  if (actual.revision !== expected.revision) lines.push(`revision ${actual.revision} != ${expected.revision}`);
  const keys = new Set([...Object.keys(actual.pairs), ...Object.keys(expected.pairs)]);
  for (const k of [...keys].sort()) {
    const a = actual.pairs[k] ?? { version: 0, value: null };
    const e = expected.pairs[k] ?? { version: 0, value: null };
    if (a.version !== e.version || a.value !== e.value) lines.push(`${k}: v${a.version} ${JSON.stringify(a.value)} != v${e.version} ${JSON.stringify(e.value)}`);
  }
  return lines.slice(0, 12).join('; ') + (lines.length > 12 ? ` (+${lines.length - 12})` : '');
}

function sameState(a: State, b: State): boolean {
  return describeDiff(a, b) === '';
}

// ---- the test ----------------------------------------------------------------------------------

const cleanups: Array<() => Promise<void>> = [];
after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

for (const kind of STORES) test(`crashes on ${kind}: ${SIZES.kills} kill -9 during publishes, batch saves and key rotation (seed ${BASE_SEED})`, { timeout: 60 * 60_000 }, async () => {
  ensureServerBuilt();
  const rng = new Rng(BASE_SEED).fork(2);
  const workDir = tempDir('odc-crash-');
  const dataDir = path.join(workDir, 'data');
  const store = await storeUnderTest(kind, dataDir);
  let portal: Portal | null = await store.start();
  cleanups.push(async () => {
    if (portal) await portal.stop();
    removeDir(workDir);
  });
  const adminToken = portal.adminToken;
  // PostgreSQL: the master key the store is under (the operator's PORTAL_MASTER_KEY), and the key
  // a start must be refused with (the other side of the last rotation), if any.
  let pgKey = kind === 'postgres' ? store.env().PORTAL_MASTER_KEY! : '';
  let pgWrongKey: string | null = null;
  const keyIdOf = (base64: string) => masterKeyId(Buffer.from(base64, 'base64'));
  const api = (...args: Parameters<Portal['api']>) => portal!.api(...args);

  await publish(api, DEFS.A);
  const runtime: Record<string, string> = {};
  for (const stage of STAGES) runtime[stage] = (await createToken(api, { name: `runtime ${stage}`, role: 'runtime', apps: [APP], stages: [stage] })).token;

  let model: State = { mode: 'A', revision: 1, pairs: {} };
  let pending: { label: string; post: State } | null = null;
  let generation = 0;
  let rotationsCommitted = 0;
  const figures = {
    kills: 0,
    serverKills: 0,
    cliKills: 0,
    injectedCliKills: 0,
    restarts: 0,
    landedPre: 0,
    landedPost: 0,
    batchesApplied: 0,
    publishesApplied: 0,
    deletionsApplied: 0,
    opsInFlight: 0,
    staleNextKeyFiles: 0,
    rotationsRolledBack: 0,
    wrongKeyRefusals: 0,
  };
  const scenarioLog: string[] = [];
  const failures: string[] = [];
  const httpErrors: string[] = [];

  // ---- operations (sequential; `pending` is the one in flight) ----

  async function batch(stage: string): Promise<boolean> {
    const gen = ++generation;
    const names = DEFS[model.mode].settings.map((s) => s.name);
    const changes = names.map((name) => {
      const p = pairOf(model, stage, name);
      let value: string | null = `g${gen}-${name}-${stage}`;
      if (name === 'Typed') value = model.mode === 'B' || rng.chance(0.5) ? String(gen) : `abc-g${gen}`;
      if (rng.chance(0.1)) value = null;
      return { name, value, baseVersion: p.version };
    });
    const post = clone(model);
    for (const c of changes) post.pairs[`${stage}/${c.name}`] = { version: c.baseVersion + 1, value: c.value };
    pending = { label: `batch g${gen} ${stage} (${changes.length} changes)`, post };
    const res = await api('PATCH', `/apps/${APP}/stages/${stage}/settings`, { body: { changes } });
    if (res.status !== 200) throw new Error(`batch answered ${res.status}: ${res.text.slice(0, 200)}`);
    model = post;
    pending = null;
    figures.batchesApplied++;
    return true;
  }

  async function publishToggle(): Promise<boolean> {
    const to: Mode = model.mode === 'A' ? 'B' : 'A';
    const expected = expectedDeletions(model, to);
    const dry = await api('POST', `/apps/${APP}/publish`, { body: { definitions: DEFS[to], baseRevision: model.revision, dryRun: true } });
    if (dry.status !== 200) throw new Error(`dry run answered ${dry.status}: ${dry.text.slice(0, 200)}`);
    const planned = (dry.body.plan.deletions as Array<{ setting: string; stage: string; reason: string }>).map((d) => `${d.setting}@${d.stage}:${d.reason}`).sort();
    if (JSON.stringify(planned) !== JSON.stringify(expected)) failures.push(`dry-run plan ${model.mode}->${to} differs: ${planned.join(',')} vs expected ${expected.join(',')}`);
    const post = clone(model);
    post.mode = to;
    post.revision = model.revision + 1;
    for (const d of dry.body.plan.deletions as Array<{ setting: string; stage: string }>) {
      const p = pairOf(model, d.stage, d.setting);
      post.pairs[`${d.stage}/${d.setting}`] = { version: p.version + 1, value: null };
    }
    pending = { label: `publish ${model.mode}->${to} r${post.revision} (${planned.length} deletions)`, post };
    const res = await api('POST', `/apps/${APP}/publish`, { body: { definitions: DEFS[to], baseRevision: model.revision } });
    if (res.status !== 200) throw new Error(`publish answered ${res.status}: ${res.text.slice(0, 200)}`);
    const applied = (res.body.plan.deletions as Array<{ setting: string; stage: string; reason: string }>).map((d) => `${d.setting}@${d.stage}:${d.reason}`).sort();
    if (JSON.stringify(applied) !== JSON.stringify(planned)) failures.push(`publish applied ${applied.join(',')} but planned ${planned.join(',')}`);
    model = post;
    pending = null;
    figures.publishesApplied++;
    figures.deletionsApplied += planned.length;
    return true;
  }

  /** Runs operations until stopped or the server stops answering; bounded in count. */
  function workload(kind: 'batch' | 'publish'): { stop: () => void; done: Promise<void> } {
    let stopped = false;
    const done = (async () => {
      for (let i = 0; i < 5000 && !stopped; i++) {
        try {
          if (kind === 'batch') await batch(rng.pick(STAGES));
          else if (i % 3 === 2) await publishToggle();
          else await batch(rng.pick(STAGES));
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

  // ---- reading the real state ----

  async function actualState(): Promise<{ state: State; problems: string[] }> {
    const problems: string[] = [];
    const appRes = await api('GET', `/apps/${APP}`);
    assert.equal(appRes.status, 200, appRes.text);
    const names = (appRes.body.settings as Array<{ name: string }>).map((s) => s.name);
    const mode: Mode = names.includes('Gone1') ? 'A' : 'B';
    const expectedDefs = DEFS[mode].settings.map((s) => ({ name: s.name, type: s.type, isSecret: !!s.isSecret }));
    const gotDefs = (appRes.body.settings as Array<{ name: string; type: string; isSecret: boolean }>).map((s) => ({ name: s.name, type: s.type, isSecret: s.isSecret }));
    if (JSON.stringify(gotDefs) !== JSON.stringify(expectedDefs)) problems.push(`published definitions are neither A nor B: ${JSON.stringify(gotDefs).slice(0, 200)}`);
    const runtimeValues: Record<string, Record<string, string | null>> = {};
    for (const stage of STAGES) {
      const res = await api('GET', '/runtime/settings', { token: runtime[stage]! });
      if (res.status !== 200) problems.push(`runtime read ${stage} answered ${res.status} (a secret does not decrypt?): ${res.text.slice(0, 200)}`);
      else runtimeValues[stage] = res.body.settings as Record<string, string | null>;
    }
    // SQLite keeps a non-secret in `plain`, a secret in `secret`; PostgreSQL seals every value (`sealed`).
    const rows = await store.query<{ stage: string; name: string; version: number; plain: string | null; has_secret: number | boolean }>(
      kind === 'sqlite'
        ? 'SELECT stage, name, version, plain, secret IS NOT NULL AS has_secret FROM stage_values WHERE app_key = ?'
        : 'SELECT stage, name, version, NULL AS plain, sealed IS NOT NULL AS has_secret FROM stage_values WHERE app_key = ?',
      APP,
    );
    const pairs: Record<string, Pair> = {};
    for (const r of rows) {
      const defined = definedIn(mode, r.name);
      const secret = defined && isSecretIn(mode, r.name);
      if (!defined && (r.plain !== null || r.has_secret)) problems.push(`${r.stage}/${r.name} is not defined in revision ${mode} but still has a value`);
      if (secret && r.plain !== null) problems.push(`${r.stage}/${r.name} is secret but has a plaintext value`);
      if (kind === 'sqlite' && defined && !secret && r.has_secret) problems.push(`${r.stage}/${r.name} is not secret but has a ciphertext`);
      let value: string | null = r.plain;
      // PostgreSQL: every stored value, secret or not, must open (the run-time read decrypts it).
      if (r.has_secret) value = secret || kind === 'postgres' ? (runtimeValues[r.stage]?.[r.name] ?? '<missing from runtime read>') : '<ciphertext>';
      if (r.version > 0 || value !== null) pairs[`${r.stage}/${r.name}`] = { version: r.version, value };
    }
    const revision = appRes.body.revision as number;
    return { state: { mode, revision, pairs }, problems };
  }

  /** The audit agrees with the data: publishes = revision; per pair, writes + deletions = version. */
  async function auditAgreement(state: State): Promise<string[]> {
    const problems: string[] = [];
    const rows = await store.query<{
      action: string;
      stage: string | null;
      setting: string | null;
      detail: string | null;
    }>("SELECT action, stage, setting, detail FROM audit WHERE outcome = 'ok' AND (app = ? OR action = 'key.rotate')", APP);
    const publishes = rows.filter((r) => r.action === 'app.publish');
    if (publishes.length !== state.revision) problems.push(`audit has ${publishes.length} ok publishes, the app is at revision ${state.revision}`);
    const rotations = rows.filter((r) => r.action === 'key.rotate').length;
    if (rotations !== rotationsCommitted) problems.push(`audit has ${rotations} key rotations, ${rotationsCommitted} committed`);
    const writes = new Map<string, number>();
    for (const r of rows) {
      if (r.action.startsWith('value.')) writes.set(`${r.stage}/${r.setting}`, (writes.get(`${r.stage}/${r.setting}`) ?? 0) + 1);
      if (r.action === 'app.publish' && r.detail) {
        for (const d of (JSON.parse(r.detail) as { deletions: string[] }).deletions) {
          const [setting, rest] = d.split('@') as [string, string];
          const stage = rest.split(':')[0]!;
          writes.set(`${stage}/${setting}`, (writes.get(`${stage}/${setting}`) ?? 0) + 1);
        }
      }
    }
    const keys = new Set([...writes.keys(), ...Object.keys(state.pairs)]);
    for (const k of keys) {
      const v = state.pairs[k]?.version ?? 0;
      if ((writes.get(k) ?? 0) !== v) problems.push(`${k}: version ${v} but ${writes.get(k) ?? 0} audited writes`);
    }
    return problems;
  }

  async function currentKeyId(): Promise<string> {
    return (await store.query<{ value: string }>("SELECT value FROM meta WHERE key = 'master_key_id'"))[0]!.value;
  }

  /** After a restart (or a quiet moment): everything the brief asks, against the model. */
  async function verify(label: string, opts: { keyCheck?: boolean } = {}) {
    const integrity = await store.integrity();
    if (integrity !== 'ok') failures.push(`${label}: integrity_check: ${integrity}`);
    const { state, problems } = await actualState();
    for (const p of problems) failures.push(`${label}: ${p}`);
    if (pending) {
      figures.opsInFlight++;
      if (sameState(state, pending.post)) {
        model = pending.post;
        figures.landedPost++;
        if (pending.label.startsWith('publish')) {
          figures.publishesApplied++;
          figures.deletionsApplied += Number(/\((\d+) deletions\)/.exec(pending.label)?.[1] ?? 0);
        } else figures.batchesApplied++;
      } else if (sameState(state, model)) figures.landedPre++;
      else failures.push(`${label}: in-flight ${pending.label} is neither all nor nothing: vs before: ${describeDiff(state, model)} | vs after: ${describeDiff(state, pending.post)}`);
      pending = null;
    } else if (!sameState(state, model)) failures.push(`${label}: the store differs from the acknowledged writes: ${describeDiff(state, model)}`);
    for (const p of await auditAgreement(model)) failures.push(`${label}: audit disagrees: ${p}`);
    const chain = await api('GET', '/audit/verify');
    if (chain.status !== 200 || chain.body.ok !== true) failures.push(`${label}: audit chain: ${chain.status} ${chain.text.slice(0, 200)}`);
    // The master key in use is the current one (an interrupted rotation was finished at start).
    if (opts.keyCheck === false) return;
    if (kind === 'postgres') {
      if (keyIdOf(pgKey) !== (await currentKeyId())) failures.push(`${label}: the store is not under the PORTAL_MASTER_KEY it started with`);
      return;
    }
    const fileKey = Buffer.from(fs.readFileSync(path.join(dataDir, 'master.key'), 'utf8').trim(), 'base64');
    if (masterKeyId(fileKey) !== (await currentKeyId())) failures.push(`${label}: the store is not under the key in master.key`);
    if (fs.readdirSync(dataDir).some((f) => f.startsWith('master.key.next'))) figures.staleNextKeyFiles++;
  }

  async function restart(label: string) {
    if (portal && portal.proc.exitCode === null && portal.proc.signalCode === null) await portal.kill9();
    if (kind === 'postgres' && pgWrongKey) {
      // The key the store is not under (the other side of the rotation) must be refused, clearly.
      const refused = await startExpectingFailure({ dataDir, sqlite: true, env: { ...store.env(), PORTAL_MASTER_KEY: pgWrongKey } });
      if (refused.code === 0 || refused.code === null || !/master key does not match this store/.test(refused.output)) {
        failures.push(`${label}: a start with the wrong PORTAL_MASTER_KEY was not refused clearly (exit ${refused.code}): ${refused.output.trim().slice(-300)}`);
      } else figures.wrongKeyRefusals++;
      pgWrongKey = null;
    }
    portal = await store.start({ adminToken, ...(kind === 'postgres' ? { env: { PORTAL_MASTER_KEY: pgKey } } : {}) });
    figures.restarts++;
    await verify(label);
  }

  async function killServerAfter(ms: number) {
    await sleep(ms);
    await portal!.kill9();
    figures.kills++;
    figures.serverKills++;
  }

  type KillPoint = 'after-stage' | 'before-promote' | 'before-commit' | 'after-commit';
  /** `odc-portal rotate-key` as an operator runs it on this store; on PostgreSQL to the key `next`. */
  function rotateCli(next: string, killAt?: KillPoint): { proc: ReturnType<typeof spawn>; done: Promise<{ code: number | null; signal: string | null; stderr: string; ms: number }> } {
    const started = Date.now();
    const target = kind === 'sqlite' ? ['--data-dir', dataDir] : ['--database-url', store.env().PORTAL_DATABASE_URL!];
    const args = [...(killAt ? ['--require', path.join(__dirname, 'kill-point.cjs')] : []), path.join(ROOT, 'bin/odc-portal.js'), 'rotate-key', ...target];
    const keys = kind === 'postgres' ? { PORTAL_MASTER_KEY: pgKey, PORTAL_NEW_MASTER_KEY: next } : {};
    // cwd: the work dir, so a command that wrongly fell back to a default data dir could not touch the repository.
    const proc = spawn(process.execPath, args, { cwd: workDir, env: cliEnv({ PORTAL_LOG_LEVEL: 'warn', RELIABILITY_KILL_AT: killAt, ...keys }), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr!.on('data', (d) => (stderr += d));
    proc.stdout!.resume();
    const done = new Promise<{ code: number | null; signal: string | null; stderr: string; ms: number }>((resolve) =>
      proc.on('exit', (code, signal) => resolve({ code, signal, stderr, ms: Date.now() - started })),
    );
    return { proc, done };
  }

  /**
   * After a rotation run (killed or not): the store is under the key before it or the new one,
   * never another. Counts a commit; on PostgreSQL the operator's variable follows the store, and
   * the other key becomes the one the next start must be refused with.
   */
  async function settleRotation(label: string, before: string, next: string): Promise<void> {
    const now = await currentKeyId();
    if (now === before) {
      figures.rotationsRolledBack++;
      if (kind === 'postgres') pgWrongKey = next;
      return;
    }
    if (kind === 'sqlite') {
      rotationsCommitted++;
      return;
    }
    if (now !== keyIdOf(next)) {
      failures.push(`${label}: the store is under neither the old master key nor the new one (${now})`);
      return;
    }
    rotationsCommitted++;
    pgWrongKey = pgKey;
    pgKey = next;
  }
  const nextKey = () => (kind === 'postgres' ? randomBytes(32).toString('base64') : '');

  // Calibrate: one full rotation (it also proves a plain rotation works under a running server).
  let before = await currentKeyId();
  const calibrationKey = nextKey();
  const calibration = await rotateCli(calibrationKey).done;
  assert.equal(calibration.code, 0, `rotate-key failed: ${calibration.stderr}`);
  await settleRotation('the calibration rotation', before, calibrationKey);
  assert.equal(rotationsCommitted, 1, 'the calibration rotation did not change the master key');
  const rotateMs = Math.max(100, calibration.ms);
  await restart('after the calibration rotation');
  assert.equal(failures.length, 0, failures.join('\n'));

  const SCENARIOS =
    kind === 'sqlite'
      ? (['batch', 'publish', 'rotate-cli', 'publish', 'rotate-server', 'batch', 'rotate-cli:after-stage', 'publish', 'rotate-cli:before-promote', 'batch'] as const)
      : (['batch', 'publish', 'rotate-cli', 'publish', 'rotate-server', 'batch', 'rotate-cli:before-commit', 'publish', 'rotate-cli:after-commit', 'batch'] as const);
  const started = Date.now();
  for (let i = 0; i < SIZES.kills; i++) {
    const scenario = SCENARIOS[i % SCENARIOS.length]!;
    const label = `kill ${i + 1}/${SIZES.kills} (${scenario})`;
    if (scenario === 'batch' || scenario === 'publish') {
      const w = workload(scenario);
      const delay = rng.range(20, 600);
      await killServerAfter(delay);
      w.stop();
      await w.done;
      scenarioLog.push(`${scenario}@${delay}ms`);
      await restart(label);
    } else if (scenario.startsWith('rotate-cli')) {
      // The CLI is killed mid-way while the server keeps running (and writing).
      const injected = scenario.split(':')[1] as KillPoint | undefined;
      before = await currentKeyId();
      const next = nextKey();
      const w = workload('batch');
      const cli = rotateCli(next, injected);
      let delay = -1;
      if (!injected) {
        delay = rng.range(0, Math.round(rotateMs * 1.1));
        await sleep(delay);
        if (cli.proc.exitCode === null && cli.proc.signalCode === null) cli.proc.kill('SIGKILL');
      }
      const result = await cli.done;
      w.stop();
      await w.done;
      if (result.signal === 'SIGKILL') {
        figures.kills++;
        figures.cliKills++;
        if (injected) figures.injectedCliKills++;
      } else if (result.code !== 0) failures.push(`${label}: rotate-key exited ${result.code}: ${result.stderr.trim().slice(0, 300)}`);
      const committedBefore = rotationsCommitted;
      await settleRotation(label, before, next);
      if (injected) {
        // An injected point that never fired, or landed on the wrong side of the commit, proves nothing.
        const expectCommit = injected === 'before-promote' || injected === 'after-commit';
        if (result.signal !== 'SIGKILL') failures.push(`${label}: the kill point ${injected} never fired (exit ${result.code}): ${result.stderr.trim().slice(0, 300)}`);
        else if ((rotationsCommitted > committedBefore) !== expectCommit) failures.push(`${label}: a kill ${injected} should have ${expectCommit ? 'committed' : 'rolled back'} the rotation`);
      }
      scenarioLog.push(`${scenario}${injected ? '' : `@${delay}ms`}:${result.signal ?? result.code}`);
      // The running server kept running: it still reads every secret.
      // (Its key file may still be the old one until the next start finishes the rotation.)
      await verify(`${label}, server still running`, { keyCheck: false });
      // Then, killed, it must start with whichever key is current.
      await portal!.kill9();
      figures.kills++;
      figures.serverKills++;
      await restart(`${label}, after restart`);
    } else {
      // rotate-server: the server is killed while the CLI rotates; the CLI finishes.
      before = await currentKeyId();
      const next = nextKey();
      const w = workload('publish');
      const cli = rotateCli(next);
      const delay = rng.range(0, Math.round(rotateMs * 1.1));
      await killServerAfter(delay);
      w.stop();
      await w.done;
      const result = await cli.done;
      if (result.code !== 0) failures.push(`${label}: rotate-key exited ${result.code ?? result.signal} while the server was killed: ${result.stderr.trim().slice(0, 300)}`);
      await settleRotation(label, before, next);
      scenarioLog.push(`${scenario}@${delay}ms:${result.code}`);
      await restart(label);
    }
    if (failures.length > 20) break;
  }
  const seconds = (Date.now() - started) / 1000;

  reportFigures(`2. crashes (${kind})`, {
    'kills survived': `${figures.kills} (server ${figures.serverKills}, rotate-key CLI ${figures.cliKills} of which ${figures.injectedCliKills} at injected points)`,
    restarts: figures.restarts,
    'operations in flight at a kill': `${figures.opsInFlight} (landed all: ${figures.landedPost}, landed nothing: ${figures.landedPre})`,
    'batches applied': figures.batchesApplied,
    'publishes applied': `${figures.publishesApplied} (${figures.deletionsApplied} value deletions)`,
    'key rotations committed': `${rotationsCommitted} (rolled back: ${figures.rotationsRolledBack})`,
    ...(kind === 'sqlite'
      ? { 'restarts that found a leftover master.key.next (rotation killed before its commit; harmless)': figures.staleNextKeyFiles }
      : { 'starts refused with the other key (the mismatch named)': figures.wrongKeyRefusals }),
    'integrity_check / all-or-nothing / audit / decrypt failures': failures.length,
    'unexpected HTTP errors in the workload': httpErrors.length,
    scenarios: formatHistogram(histogram(scenarioLog.map((s) => s.split('@')[0]!.split(':')[0]!))),
    'duration s': seconds.toFixed(1),
  });
  if (failures.length) console.log(`failures (seed ${BASE_SEED}):\n${failures.slice(0, 30).join('\n')}`);
  if (httpErrors.length) console.log(`workload errors:\n${httpErrors.slice(0, 10).join('\n')}`);
  assert.deepEqual(failures, []);
  assert.deepEqual(httpErrors, []);
  assert.ok(figures.kills >= SIZES.kills, `only ${figures.kills} kills of ${SIZES.kills}`);
});
