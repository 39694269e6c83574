// Parts 7-9, several instances on PostgreSQL (SPEC §11), on a private cluster:
// 7. kill -9 of one of 3 instances every few seconds under 64 connections of mixed load (run-time
//    reads, stage reads, version-checked writes spread over the live instances as a load balancer
//    would): the surviving instances answer with no 5xx and no connection error (only requests
//    in flight at the killed one fail), no acknowledged write is lost, the chain verifies;
// 8. the database stopped hard (pg_ctl stop -m immediate) for 10 s under load: only 503s (with
//    Retry-After) while it is down, no request hangs past 10 s, the instance recovers by itself
//    and nothing acknowledged is lost;
// 9. the canary hunt over the cluster's whole directory (heap, WAL, its log): no value written
//    in parts 7-8, secret or not, in any form.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, test } from 'node:test';
import { Client } from 'pg';
import { containsCanary, filesUnder, removeDir, runCliAsync, startPortal, tempDir, type Portal } from '../support/portal';
import { postgresAvailable, testCluster, type PgCluster } from '../support/postgres';
import { createToken, publish } from './fixtures';
import { BASE_SEED, FULL, formatHistogram, histogram, HttpClientError, rawRequest, reportFigures, Rng, sleep, type RawResponse } from './lib';

const APP = 'fleet';
const STAGES = ['development', 'qa', 'production'];
const CONNECTIONS = 64;
function envInt(name: string, reduced: number, full: number): number {
  const n = Number(process.env[name]);
  return Number.isInteger(n) && n > 0 ? n : FULL ? full : reduced;
}
const SIZES = {
  /** Seconds of load while instances are killed (part 7). */
  killSeconds: envInt('RELIABILITY_PG_KILL_SECONDS', 10, 60),
  /** Seconds between two kills. */
  killEveryMs: envInt('RELIABILITY_PG_KILL_EVERY_MS', 3_000, 3_000),
  /** Seconds the database stays stopped (part 8). */
  outageSeconds: envInt('RELIABILITY_PG_OUTAGE_SECONDS', 10, 10),
};
/** The spec's bound on one request during an outage (SPEC §11: no request hangs longer than 10 s), plus transport slack. */
const HANG_BOUND_MS = 10_000;
/** Every value written here starts with it: 33 bytes, so its base64 form is a prefix of every value's. */
const CANARY = `PGCANARY-${randomBytes(12).toString('hex')}`;

let cluster: PgCluster;
let work: string;
let dbUrl: string;
let masterKey: string;
let admin = '';
/** What every instance and CLI command here gets: this suite runs on PostgreSQL whatever ODC_TEST_STORE says. */
const pgEnv = () => ({ PORTAL_DATABASE_URL: dbUrl, PORTAL_MASTER_KEY: masterKey });
const instances: Array<{ portal: Portal; port: number; alive: boolean; generation: number }> = [];
/** Everything every instance printed, across restarts (for the canary hunt). */
const outputs: string[] = [];

/** One connection's own (stage, setting) and what the store must hold for it. */
interface Owned {
  stage: string;
  name: string;
  secret: boolean;
  /** The last acknowledged write. */
  acked: { version: number; value: string };
  /** Writes sent after it whose answer was lost (they may or may not have landed). */
  unsure: Array<{ version: number; value: string }>;
  nextBase: number;
}

const owned: Owned[] = Array.from({ length: CONNECTIONS }, (_, i) => ({
  stage: STAGES[i % 3]!,
  name: `Own${String(i).padStart(2, '0')}`,
  secret: i % 4 === 0,
  acked: { version: 0, value: '' },
  unsure: [],
  nextBase: 0,
}));
const runtimeTokens: Record<string, string> = {};
let operator = '';

before(async () => {
  if (!postgresAvailable()) throw new Error('PostgreSQL server binaries are missing: run scripts/setup-test-deps.sh');
  cluster = await testCluster();
  work = tempDir('odc-rel-pg-');
  dbUrl = await cluster.createDatabase('fleet');
  masterKey = randomBytes(32).toString('base64');
  const dirs = [0, 1, 2].map((i) => path.join(work, `instance-${i}`, 'data'));
  const portals = await Promise.all(dirs.map((dataDir) => startPortal({ dataDir, env: pgEnv() })));
  admin = portals.find((p) => /First start: an admin token was created/.test(p.output()))!.adminToken;
  for (const portal of portals) {
    portal.adminToken = admin;
    assert.equal((await portal.api('GET', '/health', { token: null })).body.store, 'postgres');
    instances.push({ portal, port: Number(new URL(portal.url).port), alive: true, generation: 0 });
  }
  const api = portals[0]!.api.bind(portals[0]);
  await publish(api, {
    app: { key: APP, name: 'Fleet' },
    settings: owned.map((o) => ({ name: o.name, type: 'Text', ...(o.secret ? { isSecret: true } : { defaultValue: `${CANARY}-default-${o.name}` }) })),
  });
  for (const stage of STAGES) runtimeTokens[stage] = (await createToken(api, { name: `rt ${stage}`, role: 'runtime', apps: [APP], stages: [stage] })).token;
  operator = (await createToken(api, { name: 'fleet operator', role: 'operator', apps: [APP] })).token;
});

after(async () => {
  try {
    cluster?.start();
  } catch {
    // running
  }
  for (const i of instances) {
    outputs.push(i.portal.output());
    await i.portal.stop();
  }
  if (work) removeDir(work);
});

interface Tally {
  requests: number;
  statuses: string[];
  /** Failures: a 5xx or a connection error from an instance that was not killed, a hang, a lost update. */
  failures: string[];
  /** Requests that failed because their instance was killed under them. */
  killedInFlight: number;
  writesAcked: number;
  writesUnsure: number;
  maxMs: number;
}

const newTally = (): Tally => ({ requests: 0, statuses: [], failures: [], killedInFlight: 0, writesAcked: 0, writesUnsure: 0, maxMs: 0 });

function send(port: number, method: string, route: string, token: string, body?: unknown): Promise<RawResponse> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return rawRequest({
    port,
    method,
    path: `/api/v1${route}`,
    headers: [['Authorization', `Bearer ${token}`], ...(payload ? ([['Content-Type', 'application/json']] as Array<[string, string]>) : [])],
    body: payload,
    timeoutMs: HANG_BOUND_MS + 5_000,
  });
}

/**
 * One connection's loop: mixed requests to the live instances (a load balancer's choice), each
 * answer judged by `judge`; writes go to the connection's own pair so that every acknowledged
 * one can be checked at the end.
 */
async function connection(index: number, rng: Rng, until: () => boolean, tally: Tally, judge: (res: RawResponse, ctx: { write: boolean }) => void, killed: Set<string>) {
  const own = owned[index]!;
  let n = 0;
  while (!until()) {
    const live = instances.filter((i) => i.alive);
    if (live.length === 0) {
      await sleep(20);
      continue;
    }
    const target = live[(index + n++) % live.length]!;
    const tag = `${target.port}:${target.generation}`;
    const kind = rng.weighted([
      [5, 'runtime'],
      [2, 'stage'],
      [3, 'write'],
    ] as const);
    let write: { version: number; value: string } | null = null;
    const started = performance.now();
    try {
      let res: RawResponse;
      if (kind === 'runtime') res = await send(target.port, 'GET', '/runtime/settings', runtimeTokens[rng.pick(STAGES)]!);
      else if (kind === 'stage') res = await send(target.port, 'GET', `/apps/${APP}/stages/${rng.pick(STAGES)}/settings`, operator);
      else {
        write = { version: own.nextBase + 1, value: `${CANARY}-${own.name}-${own.stage}-${rng.hex(6)}` };
        res = await send(target.port, 'PATCH', `/apps/${APP}/stages/${own.stage}/settings`, operator, { changes: [{ name: own.name, value: write.value, baseVersion: own.nextBase }] });
      }
      tally.requests++;
      tally.maxMs = Math.max(tally.maxMs, res.ms);
      tally.statuses.push(String(res.status));
      judge(res, { write: !!write });
      if (write) {
        if (res.status === 200) {
          own.acked = write;
          own.unsure = [];
          own.nextBase = write.version;
          tally.writesAcked++;
        } else if (res.status === 409) {
          // Only after a write whose answer was lost (it landed after all): catch up.
          if (own.unsure.length === 0) tally.failures.push(`${own.stage}/${own.name}: 409 with no write in doubt (a lost update?)`);
          own.nextBase = await currentVersion(own);
        } else if (res.status >= 500) {
          // A 503 of an outage may come after the commit was sent: in doubt.
          own.unsure.push(write);
          tally.writesUnsure++;
        }
      }
    } catch (err) {
      const code = err instanceof HttpClientError ? err.code : (err as Error).message;
      const ms = performance.now() - started;
      tally.maxMs = Math.max(tally.maxMs, ms);
      if (killed.has(tag)) tally.killedInFlight++;
      else tally.failures.push(`${kind} to a live instance (${tag}) failed after ${ms.toFixed(0)} ms: ${code}`);
      if (write) {
        own.unsure.push(write);
        tally.writesUnsure++;
      }
      if (code === 'ETIMEDOUT') tally.failures.push(`a request hung past ${HANG_BOUND_MS} ms`);
    }
  }
}

/** The pair's current version, from any live instance (after a write in doubt). */
async function currentVersion(own: Owned): Promise<number> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const live = instances.filter((i) => i.alive);
    const target = live[attempt % Math.max(1, live.length)];
    if (target) {
      try {
        const res = await send(target.port, 'GET', `/apps/${APP}/stages/${own.stage}/settings`, operator);
        if (res.status === 200) return (JSON.parse(res.text) as { settings: Array<{ name: string; version: number }> }).settings.find((s) => s.name === own.name)!.version;
      } catch {
        // killed meanwhile: another one
      }
    }
    await sleep(100);
  }
  throw new Error('no instance answered a read for 20 s');
}

/** Every acknowledged write is in the store (or a later one whose answer was lost). */
async function lostWrites(): Promise<string[]> {
  const lost: string[] = [];
  const live = instances.find((i) => i.alive)!;
  const byStage: Record<string, Record<string, string | null>> = {};
  const versions: Record<string, Record<string, number>> = {};
  for (const stage of STAGES) {
    const rt = await send(live.port, 'GET', '/runtime/settings', runtimeTokens[stage]!);
    assert.equal(rt.status, 200, rt.text);
    byStage[stage] = (JSON.parse(rt.text) as { settings: Record<string, string | null> }).settings;
    const st = await send(live.port, 'GET', `/apps/${APP}/stages/${stage}/settings`, operator);
    versions[stage] = Object.fromEntries((JSON.parse(st.text) as { settings: Array<{ name: string; version: number }> }).settings.map((s) => [s.name, s.version]));
  }
  for (const own of owned) {
    if (own.acked.version === 0) continue;
    const version = versions[own.stage]![own.name]!;
    const value = byStage[own.stage]![own.name];
    const candidates = [own.acked, ...own.unsure];
    const match = candidates.find((c) => c.version === version && c.value === value);
    if (!match) lost.push(`${own.stage}/${own.name}: acknowledged v${own.acked.version}, the store has v${version}`);
  }
  return lost;
}

async function chainVerifies(): Promise<string[]> {
  const problems: string[] = [];
  for (const i of instances.filter((x) => x.alive)) {
    const res = await send(i.port, 'GET', '/audit/verify', admin);
    const body = JSON.parse(res.text) as { ok?: boolean };
    if (res.status !== 200 || body.ok !== true) problems.push(`instance ${i.port}: ${res.status} ${res.text.slice(0, 200)}`);
  }
  const cli = await runCliAsync(['audit', 'verify', '--data-dir', instances[0]!.portal.dataDir], pgEnv());
  if (cli.code !== 0) problems.push(`odc-portal audit verify: ${cli.stdout}${cli.stderr}`);
  return problems;
}

test(`7. kill -9 of instances: one of 3 every ${SIZES.killEveryMs / 1000} s for ${SIZES.killSeconds} s under ${CONNECTIONS} connections (seed ${BASE_SEED})`, { timeout: 20 * 60_000 }, async () => {
  const rng = new Rng(BASE_SEED).fork(5);
  const tally = newTally();
  const killed = new Set<string>();
  const judge = (res: RawResponse) => {
    if (res.status >= 500) tally.failures.push(`a surviving instance answered ${res.status}: ${res.text.slice(0, 160)}`);
  };
  const started = Date.now();
  const end = started + SIZES.killSeconds * 1_000;
  const load = Promise.all(owned.map((_, i) => connection(i, rng.fork(100 + i), () => Date.now() > end, tally, judge, killed)));
  let kills = 0;
  const restartMs: number[] = [];
  while (Date.now() + SIZES.killEveryMs < end) {
    await sleep(SIZES.killEveryMs);
    const victim = instances[kills % instances.length]!;
    // Out of the balancer first, then killed: what was sent to it before is in flight.
    victim.alive = false;
    killed.add(`${victim.port}:${victim.generation}`);
    outputs.push(victim.portal.output());
    await victim.portal.kill9();
    kills++;
    const t = performance.now();
    const portal = await startPortal({ dataDir: victim.portal.dataDir, adminToken: admin, env: pgEnv() });
    restartMs.push(performance.now() - t);
    Object.assign(victim, { portal, port: Number(new URL(portal.url).port), alive: true, generation: victim.generation + 1 });
  }
  await load;
  const lost = await lostWrites();
  const chain = await chainVerifies();
  reportFigures('7. kill -9 of instances (PostgreSQL)', {
    kills,
    requests: tally.requests,
    'status histogram': formatHistogram(histogram(tally.statuses)),
    'requests lost in flight at a killed instance': tally.killedInFlight,
    'writes acknowledged': tally.writesAcked,
    'writes in doubt (answer lost)': tally.writesUnsure,
    'acknowledged writes lost': lost.length,
    '5xx or connection errors from surviving instances': tally.failures.length,
    'restart ms (median)': restartMs.length ? restartMs.sort((a, b) => a - b)[Math.floor(restartMs.length / 2)]!.toFixed(0) : '-',
    'audit chain': chain.length ? 'BROKEN' : 'verifies',
    'duration s': ((Date.now() - started) / 1000).toFixed(1),
  });
  assert.ok(kills >= 2, `only ${kills} kills`);
  assert.deepEqual(tally.failures.slice(0, 20), []);
  assert.deepEqual(lost, []);
  assert.deepEqual(chain, []);
  assert.ok(tally.writesAcked > 0);
});

test(`8. database stopped (pg_ctl stop -m immediate) for ${SIZES.outageSeconds} s under ${CONNECTIONS} connections (seed ${BASE_SEED})`, { timeout: 20 * 60_000 }, async () => {
  const rng = new Rng(BASE_SEED).fork(6);
  const tally = newTally();
  let down = false;
  let sawOutage = 0;
  const judge = (res: RawResponse) => {
    if (res.status === 503) {
      sawOutage++;
      if (!res.headers['retry-after']) tally.failures.push('a 503 without Retry-After');
    } else if (res.status >= 500) tally.failures.push(`${down ? 'during' : 'outside'} the outage an instance answered ${res.status}: ${res.text.slice(0, 160)}`);
  };
  const pids = instances.map((i) => i.portal.proc.pid);
  let stop = false;
  const load = Promise.all(owned.map((_, i) => connection(i, rng.fork(200 + i), () => stop, tally, judge, new Set())));
  await sleep(1_500);
  const acksBefore = tally.writesAcked;
  cluster.crash();
  down = true;
  const downAt = Date.now();
  await sleep(SIZES.outageSeconds * 1_000);
  cluster.start();
  down = false;
  const upAt = Date.now();
  // Recovery by itself: every instance answers a run-time read and takes a write again.
  const recoveryMs: number[] = [];
  for (const i of instances) {
    for (;;) {
      const res = await send(i.port, 'GET', '/runtime/settings', runtimeTokens.qa!).catch(() => null);
      if (res?.status === 200) break;
      if (Date.now() - upAt > 60_000) assert.fail(`instance ${i.port} did not recover within 60 s (exit ${i.portal.proc.exitCode}, output ${i.portal.output().slice(-1500)}; last answer ${res?.status} ${res?.text.slice(0, 200)}; statuses so far ${formatHistogram(histogram(tally.statuses))})`);
      await sleep(100);
    }
    recoveryMs.push(Date.now() - upAt);
  }
  const acksAtRecovery = tally.writesAcked;
  await sleep(1_500);
  stop = true;
  await load;
  const lost = await lostWrites();
  const chain = await chainVerifies();
  reportFigures('8. database outage (PostgreSQL)', {
    'outage s': ((upAt - downAt) / 1000).toFixed(1),
    requests: tally.requests,
    'status histogram': formatHistogram(histogram(tally.statuses)),
    '503 answers (all with Retry-After)': sawOutage,
    'longest request ms': tally.maxMs.toFixed(0),
    'recovery after the database returned, ms (worst instance)': Math.max(...recoveryMs),
    'writes acknowledged (before / after recovery)': `${acksBefore} / ${tally.writesAcked - acksAtRecovery}`,
    'writes in doubt (503 or lost answer)': tally.writesUnsure,
    'acknowledged writes lost': lost.length,
    'other 5xx, connection errors, hangs': tally.failures.length,
    'instances restarted': instances.filter((i, k) => i.portal.proc.pid !== pids[k]).length,
    'audit chain': chain.length ? 'BROKEN' : 'verifies',
  });
  assert.ok(sawOutage > 0, 'no request met the outage');
  assert.deepEqual(tally.failures.slice(0, 20), []);
  assert.ok(tally.maxMs <= HANG_BOUND_MS + 2_000, `a request took ${tally.maxMs.toFixed(0)} ms`);
  assert.deepEqual(instances.map((i) => i.portal.proc.pid), pids, 'no instance crashed or restarted');
  assert.ok(Math.max(...recoveryMs) <= 15_000, `recovery took ${Math.max(...recoveryMs)} ms`);
  assert.ok(tally.writesAcked > acksAtRecovery || tally.writesAcked > acksBefore, 'writes were acknowledged after recovery');
  assert.deepEqual(lost, []);
  assert.deepEqual(chain, []);
});

test('9. canary hunt (PostgreSQL): no value, secret or not, in the cluster\'s heap, WAL or log, or in what the instances printed', async () => {
  assert.ok(cluster.dataDir, 'the hunt needs the private cluster (not ODC_TEST_POSTGRES_URL)');
  // Dirty pages to the heap files first, so the hunt sees what the shared buffers held.
  const client = new Client({ connectionString: dbUrl });
  await client.connect();
  try {
    await client.query('CHECKPOINT');
    const written = (await client.query<{ n: number }>('SELECT count(*)::int AS n FROM odc_portal.stage_values WHERE sealed IS NOT NULL')).rows[0]!.n;
    assert.ok(written >= CONNECTIONS / 2, `only ${written} values in the store: the hunt would prove little`);
  } finally {
    await client.end();
  }
  const root = path.dirname(cluster.dataDir);
  const files = filesUnder(root);
  let bytes = 0;
  const hits: string[] = [];
  for (const file of files) {
    let content: Buffer;
    try {
      content = fs.readFileSync(file);
    } catch {
      continue; // a file removed meanwhile (a WAL segment recycled)
    }
    bytes += content.length;
    const form = containsCanary(content, CANARY);
    if (form) hits.push(`${path.relative(root, file)} (${form === CANARY ? 'clear' : 'encoded'})`);
  }
  const printed = [...outputs, ...instances.map((i) => i.portal.output())];
  for (const [i, out] of printed.entries()) if (containsCanary(out, CANARY)) hits.push(`instance output #${i}`);
  for (const dir of instances.map((i) => i.portal.dataDir)) for (const file of filesUnder(dir)) if (containsCanary(fs.readFileSync(file), CANARY)) hits.push(file);
  reportFigures('9. canary hunt (PostgreSQL)', {
    'files searched (heap, WAL, log, instance data dirs)': files.length,
    'MiB searched': (bytes / 2 ** 20).toFixed(1),
    'WAL segments': files.filter((f) => f.includes(`${path.sep}pg_wal${path.sep}`)).length,
    'instance outputs searched': printed.length,
    hits: hits.length,
  });
  assert.ok(files.some((f) => f.includes(`${path.sep}pg_wal${path.sep}`)), 'the hunt covers the WAL');
  assert.deepEqual(hits, []);
});
