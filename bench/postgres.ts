// PostgreSQL measures (SPEC §11), on a private cluster started here (test/support/postgres.ts):
//   pg-runtime-read  the run-time read of the 100-setting app on PostgreSQL vs the same read on SQLite
//   pg-publish       publish of a changed 5,000-setting app on PostgreSQL vs one raw `pg` transaction
//                    writing the same rows (app, sealed revision, deleted values, audit record, change counter)
//   pg-freshness     cross-instance freshness: a write acknowledged by one instance -> served at run
//                    time by another (p50/p99 ms; goal p99 <= 1,000 ms)
import { createHmac, randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Client } from 'pg';
import type { PublishResponse } from '../common/api';
import { normalizeDefinitions, type AppDefinitions } from '../common/definitions';
import { seal, unwrapKey, valueAad } from '../server/crypto/envelope';
import { startCluster, type PgCluster } from '../test/support/postgres';
import { definitions, sampleValue, secretValue } from './lib/fixtures';
import { compareThroughput, type LoadTarget } from './lib/load';
import { fmt, type Row } from './lib/result';
import { READ_APP, READ_STAGE, setupReadApp } from './lib/seed';
import { api, newMasterKey, startPortal, type PortalProc } from './lib/servers';
import { changedDefinitions } from './publish';
import type { LoadOptions } from './runtime';
import { log, median, nowMs, round, sleep, tempDir } from './lib/util';

const STAGES = ['development', 'qa', 'production'];

let clusterPromise: Promise<PgCluster> | null = null;
const cluster = () => (clusterPromise ??= startCluster());

async function pgPortal(dir: string, url: string, masterKey: string, adminToken?: string): Promise<PortalProc> {
  fs.mkdirSync(dir, { recursive: true });
  return startPortal({ dataDir: path.join(dir, 'data'), masterKey, adminToken, logLevel: 'warn', env: { PORTAL_DATABASE_URL: url } });
}

function runtimeTarget(name: string, p: PortalProc, token: string): LoadTarget {
  return { name, url: `${p.url}/api/v1/runtime/settings`, headers: { authorization: `Bearer ${token}` }, pid: p.pid };
}

export async function measurePostgresRead(o: LoadOptions): Promise<Row[]> {
  const dir = tempDir('odc-bench-pg-read-');
  const started: PortalProc[] = [];
  try {
    const url = await (await cluster()).createDatabase('bench_read');
    const pg = await pgPortal(path.join(dir, 'pg'), url, newMasterKey());
    started.push(pg);
    fs.mkdirSync(path.join(dir, 'sqlite'), { recursive: true });
    const sqlite = await startPortal({ dataDir: path.join(dir, 'sqlite', 'data'), masterKey: newMasterKey(), logLevel: 'warn' });
    started.push(sqlite);
    const a = await setupReadApp(pg.url, pg.adminToken);
    const b = await setupReadApp(sqlite.url, sqlite.adminToken);
    const cmp = await compareThroughput(runtimeTarget('portal on PostgreSQL', pg, a.runtimeToken), runtimeTarget('portal on SQLite', sqlite, b.runtimeToken), o);
    return [
      {
        id: 'pg-runtime-read',
        measure: 'run-time read of a 100-setting app (20 secrets) on PostgreSQL, req/s',
        subject: fmt.rps(cmp.subject),
        baseline: `${fmt.rps(cmp.baseline)} (the same read on SQLite)`,
        ratio: fmt.x(cmp.ratio),
        goal: '>= 0.85x',
        status: cmp.ratio >= 0.85 ? 'pass' : 'miss',
        note: `${o.rounds} rounds x ${o.seconds} s each side, ${o.connections} connections, request log off on both; answered from each instance's memo (PostgreSQL: kept valid by the change feed); server CPU per request ${cmp.subjectCpuUs} µs vs ${cmp.baselineCpuUs} µs`,
        data: { ...cmp },
      },
    ];
  } finally {
    for (const p of started.reverse()) await p.stop().catch(() => {});
    if (!o.keep) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Values for every setting of `docs` in every stage, written straight into the database and
 * sealed under its data key as the server would (through the API a 5,000-value batch takes
 * minutes on a loaded machine: one statement per value, its history and its audit record).
 */
async function seedPgValues(url: string, masterKeyB64: string, docs: AppDefinitions[]): Promise<number> {
  const client = new Client({ connectionString: url, options: '-c search_path=odc_portal' });
  await client.connect();
  try {
    const keyRow = (await client.query<{ id: number; wrapped: Buffer }>("SELECT id, wrapped FROM wrapped_keys WHERE purpose = 'data' ORDER BY id DESC LIMIT 1")).rows[0]!;
    const dataKey = unwrapKey(Buffer.from(masterKeyB64, 'base64'), keyRow.id, keyRow.wrapped);
    const at = new Date().toISOString();
    let n = 0;
    await client.query('BEGIN');
    for (const doc of docs) {
      const app = doc.app.key;
      for (const stage of STAGES) {
        const names = doc.settings.map((s) => s.name);
        const sealed = doc.settings.map((s, i) => seal(keyRow.id, dataKey, s.isSecret ? secretValue(i, app) : sampleValue(s.type, i), valueAad(app, stage, s.name, 1)));
        await client.query(
          `INSERT INTO stage_values (app_key, stage, name, version, sealed, updated_at, updated_by)
           SELECT $1, $2, name, 1, sealed, $3, 'bench seed' FROM unnest($4::text[], $5::bytea[]) AS v(name, sealed)`,
          [app, stage, at, names, sealed],
        );
        n += names.length;
      }
    }
    await client.query('COMMIT');
    return n;
  } finally {
    await client.end();
  }
}

/** The rows the server writes for this publish, in one raw transaction; parameters prepared before the clock. */
async function rawPgPublish(client: Client, app: string, doc: AppDefinitions, plan: PublishResponse['plan'], revision: number): Promise<number> {
  const at = new Date().toISOString();
  const by = 'bench baseline';
  const sealed = seal(1, randomBytes(32), JSON.stringify(normalizeDefinitions(doc)), `bench/${app}/${revision}`);
  const detail = JSON.stringify({ added: plan.added, removed: plan.removed, changed: plan.changed.map((c) => `${c.name}:${c.changes.join('+')}`), deletions: plan.deletions.map((d) => `${d.setting}@${d.stage}:${d.reason}`) });
  const macKey = randomBytes(32);
  const t0 = nowMs();
  await client.query('BEGIN');
  await client.query('SELECT pg_advisory_xact_lock(3521, hashtext($1))', [app]);
  await client.query(
    `INSERT INTO apps (key, name, revision, published_at, published_by) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (key) DO UPDATE SET name = excluded.name, revision = excluded.revision, published_at = excluded.published_at, published_by = excluded.published_by`,
    [app, doc.app.name, revision, at, by],
  );
  await client.query('INSERT INTO revisions (app_key, revision, definitions, published_at, published_by) VALUES ($1, $2, $3, $4, $5)', [app, revision, sealed, at, by]);
  await client.query(
    `UPDATE stage_values v SET sealed = NULL, fingerprint = NULL, version = v.version + 1, updated_at = $1, updated_by = $2
     FROM unnest($4::text[], $5::text[]) AS d(stage, name) WHERE v.app_key = $3 AND v.stage = d.stage AND v.name = d.name`,
    [at, by, app, plan.deletions.map((d) => d.stage), plan.deletions.map((d) => d.setting)],
  );
  await client.query('SELECT pg_advisory_xact_lock(3520, 2)');
  const last = (await client.query<{ id: string; mac: string }>('SELECT id::text AS id, mac FROM audit ORDER BY audit.id DESC LIMIT 1')).rows[0]!;
  const mac = createHmac('sha256', macKey).update(last.mac).update('\n').update(detail).digest('hex');
  await client.query(
    `INSERT INTO audit (id, at, token_id, token_name, client, action, outcome, app, stage, setting, revision, version, detail, mac)
     VALUES ($1, $2, NULL, $3, 'bench', 'app.publish', 'ok', $4, NULL, NULL, $5, NULL, $6, $7)`,
    [Number(last.id) + 1, at, by, app, revision, detail, mac],
  );
  const counter = (await client.query<{ c: string }>('UPDATE changes SET counter = counter + 1 WHERE id = 1 RETURNING counter::text AS c')).rows[0]!.c;
  await client.query('SELECT pg_notify($1, $2)', ['odc_portal_changes', counter]);
  await client.query('COMMIT');
  return nowMs() - t0;
}

async function publishTimed(p: PortalProc, app: string, body: unknown): Promise<{ ms: number; res: PublishResponse }> {
  const t0 = nowMs();
  const r = await api<PublishResponse>(p.url, p.adminToken, 'POST', `/apps/${app}/publish`, body);
  return { ms: nowMs() - t0, res: r.body };
}

export async function measurePostgresPublish(o: { settings: number; rounds: number; keep?: boolean }): Promise<Row[]> {
  const dir = tempDir('odc-bench-pg-publish-');
  let portal: PortalProc | undefined;
  let raw: Client | null = null;
  try {
    const url = await (await cluster()).createDatabase('bench_publish');
    const masterKey = newMasterKey();
    portal = await pgPortal(dir, url, masterKey);
    const v1 = new Map<string, AppDefinitions>();
    const t0 = nowMs();
    for (let i = 0; i < o.rounds; i++) {
      for (const k of [`pub-s${i + 1}`, `pub-b${i + 1}`]) {
        const doc = definitions(k, o.settings, 10);
        v1.set(k, doc);
        await api(portal.url, portal.adminToken, 'POST', `/apps/${k}/publish`, { definitions: doc });
      }
    }
    const seeded = await seedPgValues(url, masterKey, [...v1.values()]);
    // The portal reads the seeded values fresh (its caches would not know of them otherwise).
    await portal.stop();
    portal = await pgPortal(dir, url, masterKey, portal.adminToken);
    log(`pg publish: ${v1.size} apps of ${o.settings} settings published, ${seeded} values seeded (${Math.round(nowMs() - t0)} ms)`);
    raw = new Client({ connectionString: url, options: '-c search_path=odc_portal' });
    await raw.connect();
    const rounds: Array<{ subject: number; baseline: number; deletions: number }> = [];
    for (let i = 0; i < o.rounds; i++) {
      const s = `pub-s${i + 1}`;
      const b = `pub-b${i + 1}`;
      const bDoc = changedDefinitions(v1.get(b)!);
      const plan = (await publishTimed(portal, b, { definitions: bDoc, dryRun: true, baseRevision: 1 })).res.plan;
      const sBody = { definitions: changedDefinitions(v1.get(s)!), baseRevision: 1 };
      let sub: number;
      let base: number;
      if (i % 2 === 0) {
        base = await rawPgPublish(raw, b, bDoc, plan, 2);
        sub = (await publishTimed(portal, s, sBody)).ms;
      } else {
        sub = (await publishTimed(portal, s, sBody)).ms;
        base = await rawPgPublish(raw, b, bDoc, plan, 2);
      }
      rounds.push({ subject: sub, baseline: base, deletions: plan.deletions.length });
      log(`  round ${i + 1}: publish ${Math.round(sub)} ms; raw pg transaction ${round(base, 1)} ms (${plan.deletions.length} values deleted)`);
    }
    const ratio = median(rounds.map((r) => r.subject / r.baseline));
    return [
      {
        id: 'pg-publish',
        measure: `publish of ${o.settings.toLocaleString('en-US')} settings on PostgreSQL, plan + apply`,
        subject: fmt.ms(median(rounds.map((r) => r.subject))),
        baseline: `${fmt.ms(median(rounds.map((r) => r.baseline)))} (raw pg transaction, ${rounds[0]!.deletions} values deleted)`,
        ratio: fmt.x(ratio),
        goal: '<= 3x',
        status: ratio <= 3 ? 'pass' : 'miss',
        note: `median of ${o.rounds} rounds; one publish over HTTP (validate, plan, seal the definitions, apply under the app lock, audit, notify) vs the same rows in one raw \`pg\` transaction on the same database (sealed definitions prepared before its clock)`,
        data: { rounds: rounds.map((r) => ({ subject: round(r.subject, 1), baseline: round(r.baseline, 2), deletions: r.deletions })), ratio },
      },
    ];
  } finally {
    await raw?.end().catch(() => {});
    await portal?.stop().catch(() => {});
    if (!o.keep) fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function measureFreshness(o: { samples: number; keep?: boolean }): Promise<Row[]> {
  const dir = tempDir('odc-bench-pg-fresh-');
  const started: PortalProc[] = [];
  try {
    const url = await (await cluster()).createDatabase('bench_fresh');
    const key = newMasterKey();
    const writer = await pgPortal(path.join(dir, 'a'), url, key);
    started.push(writer);
    const reader = await pgPortal(path.join(dir, 'b'), url, key, writer.adminToken);
    started.push(reader);
    const { runtimeToken } = await setupReadApp(writer.url, writer.adminToken);
    const name = 'Setting00001';
    const read = async () => {
      const res = await fetch(`${reader.url}/api/v1/runtime/settings`, { headers: { authorization: `Bearer ${runtimeToken}` }, signal: AbortSignal.timeout(10_000) });
      return ((await res.json()) as { settings: Record<string, string | null> }).settings[name];
    };
    let version = (await api<{ settings: Array<{ name: string; version: number }> }>(writer.url, writer.adminToken, 'GET', `/apps/${READ_APP}/stages/${READ_STAGE}/settings`)).body.settings.find((s) => s.name === name)!.version;
    const delays: number[] = [];
    for (let i = 0; i < o.samples; i++) {
      await read(); // the reader holds the current answer in its memo
      const value = `fresh-${i}-${randomBytes(4).toString('hex')}`;
      await api(writer.url, writer.adminToken, 'PATCH', `/apps/${READ_APP}/stages/${READ_STAGE}/settings`, { changes: [{ name, value, baseVersion: version }] });
      version++;
      const acked = nowMs();
      while ((await read()) !== value) {
        if (nowMs() - acked > 10_000) throw new Error('a write was not served by the other instance within 10 s');
        await sleep(1);
      }
      delays.push(nowMs() - acked);
    }
    const sorted = [...delays].sort((x, y) => x - y);
    const p = (q: number) => sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
    return [
      {
        id: 'pg-freshness',
        measure: 'cross-instance freshness on PostgreSQL: write acknowledged by one instance -> served at run time by another, p99',
        subject: `${fmt.ms(p(0.99))} (p50 ${fmt.ms(p(0.5))}, max ${fmt.ms(sorted[sorted.length - 1]!)})`,
        baseline: '-',
        ratio: '-',
        goal: '<= 1,000 ms',
        status: p(0.99) <= 1_000 ? 'pass' : 'miss',
        note: `${o.samples} writes; the other instance polled every ~1 ms from the writer's 200 (its memo is dropped on the change feed's notification)`,
        data: { delaysMs: delays.map((d) => round(d, 1)) },
      },
    ];
  } finally {
    for (const p of started.reverse()) await p.stop().catch(() => {});
    if (!o.keep) fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** All three, on one cluster removed at the end. */
export async function measurePostgres(o: LoadOptions & { quick: boolean }): Promise<Row[]> {
  try {
    return [
      ...(await measurePostgresRead({ ...o, nodeArgs: undefined })),
      ...(await measurePostgresPublish({ settings: 5000, rounds: o.quick ? 2 : 4, keep: o.keep })),
      ...(await measureFreshness({ samples: o.quick ? 20 : 100, keep: o.keep })),
    ];
  } finally {
    if (clusterPromise) (await clusterPromise).remove();
    clusterPromise = null;
  }
}
