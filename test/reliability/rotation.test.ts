// Part 5, concurrent rotations (issue 11 item 1, SPEC §5): rounds of two `odc-portal rotate-key`
// runs started at once beside a serving server, some held just after staging their key (so they
// overlap for sure), some killed with SIGKILL at a random moment or at an injected point (key
// staged / store re-wrapped). After every round the server is killed and restarted: it must open
// the store with the key file, decrypt every secret, and the audit must verify; the committed
// key id must be the key file's. Reduced: 4 rounds; full (npm run test:reliability): 20.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { masterKeyId } from '../../server/crypto/envelope';
import { cliEnv, ensureServerBuilt, removeDir, ROOT, runCliAsync, startPortal, tempDir, type Portal } from '../support/portal';
import { createToken, publish } from './fixtures';
import { BASE_SEED, formatHistogram, histogram, reportFigures, Rng, SIZES, sleep, withReadOnlyDb } from './lib';

const APP = 'rotations';
const STAGES = ['development', 'qa', 'production'];
const SECRETS = Array.from({ length: 8 }, (_, i) => `Secret${i + 1}`);

let portal: Portal | null = null;
let work = '';
after(async () => {
  await portal?.kill9();
  if (work) removeDir(work);
});

type KillPlan = { kind: 'none'; pauseMs: number } | { kind: 'random'; delayMs: number } | { kind: 'injected'; at: 'after-stage' | 'before-promote' };

test('concurrent rotations: two rotate-key runs at once, some killed, never lose a key', async () => {
  ensureServerBuilt();
  const rng = new Rng(BASE_SEED).fork(5);
  work = tempDir('odc-rel-rotation-');
  const dataDir = path.join(work, 'data');
  const dbFile = path.join(dataDir, 'portal.db');
  portal = await startPortal({ dataDir });
  const adminToken = portal.adminToken;
  const api = portal.api.bind(portal);
  await publish(api, { app: { key: APP, name: 'Rotations' }, settings: SECRETS.map((name) => ({ name, type: 'Text', isSecret: true })) });
  const expected: Record<string, Record<string, string>> = {};
  const runtimeTokens: Record<string, string> = {};
  for (const stage of STAGES) {
    expected[stage] = Object.fromEntries(SECRETS.map((name) => [name, `rot-${stage}-${name}-${rng.hex(8)}`]));
    const res: { status: number; text: string } = await portal.api('PATCH', `/apps/${APP}/stages/${stage}/settings`, { body: { changes: SECRETS.map((name) => ({ name, value: expected[stage]![name], baseVersion: 0 })) } });
    assert.equal(res.status, 200, res.text);
    runtimeTokens[stage] = (await createToken(api, { name: `rt ${stage}`, role: 'runtime', apps: [APP], stages: [stage] })).token;
  }

  const committedId = () => withReadOnlyDb(dbFile, (db) => (db.prepare("SELECT value FROM meta WHERE key = 'master_key_id'").get() as { value: string }).value);
  const keyFileId = () => masterKeyId(Buffer.from(fs.readFileSync(path.join(dataDir, 'master.key'), 'utf8').trim(), 'base64'));

  function rotate(plan: KillPlan) {
    const started = Date.now();
    const hooks = plan.kind === 'injected' ? ['--require', path.join(__dirname, 'kill-point.cjs')] : plan.kind === 'none' ? ['--require', path.join(ROOT, 'test/support/rotation-pause.cjs')] : [];
    const env = cliEnv({ PORTAL_LOG_LEVEL: 'warn', RELIABILITY_KILL_AT: plan.kind === 'injected' ? plan.at : undefined, ROTATION_PAUSE_MS: plan.kind === 'none' ? String(plan.pauseMs) : undefined });
    const proc = spawn(process.execPath, [...hooks, path.join(ROOT, 'bin/odc-portal.js'), 'rotate-key', '--data-dir', dataDir], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    proc.stderr!.on('data', (d) => (stderr += d));
    proc.stdout!.resume();
    const done = new Promise<{ code: number | null; signal: string | null; stderr: string; ms: number }>((resolve) => proc.on('exit', (code, signal) => resolve({ code, signal, stderr, ms: Date.now() - started })));
    if (plan.kind === 'random') {
      void sleep(plan.delayMs).then(() => {
        if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      });
    }
    return done;
  }

  // Calibrate: how long one rotation takes here (random kills land within it).
  const calibration = await rotate({ kind: 'none', pauseMs: 0 });
  assert.equal(calibration.code, 0, calibration.stderr);
  const rotateMs = Math.max(100, calibration.ms);

  const failures: string[] = [];
  const outcomes: string[] = [];
  const figures = { rounds: 0, rotationsCommitted: 1, refused: 0, killed: 0, staleKeyFiles: 0, restarts: 0 };
  const plans = (round: number): [KillPlan, KillPlan] => {
    switch (round % 4) {
      case 0:
        return [
          { kind: 'none', pauseMs: rng.range(0, 300) },
          { kind: 'none', pauseMs: rng.range(0, 300) },
        ];
      case 1:
        return [{ kind: 'none', pauseMs: rng.range(0, 300) }, { kind: 'random', delayMs: rng.range(0, Math.round(rotateMs * 1.2)) }];
      case 2:
        return [{ kind: 'injected', at: rng.pick(['after-stage', 'before-promote'] as const) }, { kind: 'none', pauseMs: rng.range(0, 300) }];
      default:
        return [
          { kind: 'random', delayMs: rng.range(0, Math.round(rotateMs * 1.2)) },
          { kind: 'random', delayMs: rng.range(0, Math.round(rotateMs * 1.2)) },
        ];
    }
  };

  const started = Date.now();
  for (let round = 0; round < SIZES.rotationRounds; round++) {
    const label = `round ${round + 1}/${SIZES.rotationRounds}`;
    const before = committedId();
    const pair = plans(round);
    const results = await Promise.all(pair.map((p) => rotate(p)));
    for (const [i, r] of results.entries()) {
      if (r.signal === 'SIGKILL') figures.killed++;
      else if (r.code === 2 && /another key rotation/.test(r.stderr)) figures.refused++;
      else if (r.code !== 0) failures.push(`${label}: rotate-key (${pair[i]!.kind}) exited ${r.code}: ${r.stderr.trim().slice(0, 300)}`);
      outcomes.push(r.signal === 'SIGKILL' ? 'killed' : r.code === 0 ? 'rotated' : 'refused');
    }
    if (committedId() !== before) figures.rotationsCommitted++;
    if (fs.readdirSync(dataDir).some((f) => f.startsWith('master.key.next'))) figures.staleKeyFiles++;

    // Restart: the store opens with the key on disk (finishing an interrupted promotion).
    await portal.kill9();
    try {
      portal = await startPortal({ dataDir, adminToken });
    } catch (err) {
      failures.push(`${label}: the server did not start after the round: ${(err as Error).message.slice(0, 500)}`);
      break;
    }
    figures.restarts++;
    if (keyFileId() !== committedId()) failures.push(`${label}: the key file is not the committed master key`);
    for (const stage of STAGES) {
      const read = await portal.api('GET', '/runtime/settings', { token: runtimeTokens[stage]! });
      if (read.status !== 200) failures.push(`${label}: ${stage}: runtime read ${read.status}: ${read.text.slice(0, 200)}`);
      else if (JSON.stringify(read.body.settings) !== JSON.stringify(expected[stage])) failures.push(`${label}: ${stage}: a secret does not decrypt to what was stored`);
    }
    const verify = await portal.api('GET', '/audit/verify');
    if (verify.body?.ok !== true) failures.push(`${label}: the audit does not verify: ${verify.text}`);
    figures.rounds++;
    if (failures.length > 10) break;
  }
  await portal.stop();
  const cli = await runCliAsync(['audit', 'verify', '--data-dir', dataDir]);
  if (cli.code !== 0) failures.push(`audit verify (CLI) exited ${cli.code}: ${cli.stdout}${cli.stderr}`);
  const audited = withReadOnlyDb(dbFile, (db) => (db.prepare("SELECT count(*) AS n FROM audit WHERE action = 'key.rotate'").get() as { n: number }).n);

  reportFigures('5. concurrent rotations', {
    'rounds (two rotate-key at once, then a kill -9 restart that decrypts every secret)': figures.rounds,
    'rotate-key runs': outcomes.length,
    outcomes: formatHistogram(histogram(outcomes)),
    'rounds that moved the committed key': figures.rotationsCommitted - 1,
    'key.rotate audit records (calibration included)': audited,
    'rounds that left a stale pending key file (killed before commit; never promoted)': figures.staleKeyFiles,
    'secrets checked per restart': STAGES.length * SECRETS.length,
    'lost keys / decrypt / audit failures': failures.length,
    'duration s': ((Date.now() - started) / 1000).toFixed(1),
  });
  if (failures.length) console.log(`failures (seed ${BASE_SEED}):\n${failures.join('\n')}`);
  assert.deepEqual(failures, []);
  assert.equal(figures.rounds, SIZES.rotationRounds);
});
