// Run-time read measures (SPEC §9 GET /runtime/settings):
//   runtime-read   a 100-setting app (20 secrets) vs a bare Express handler returning the same bytes
//   scale-read     the same read with 1,000,000 stored values vs with 1,000
//   scale-rss      the server's RSS holding 1,000,000 values, after the load
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compareThroughput, type LoadTarget } from './lib/load';
import { fmt, type Row } from './lib/result';
import { READ_APP, READ_STAGE, seedFiller, setupReadApp } from './lib/seed';
import { api, newMasterKey, startBaseline, startPortal, type PortalProc, type Proc } from './lib/servers';
import { log, median, nowMs, peakRssMb, round, rssMb, tempDir } from './lib/util';

export interface LoadOptions {
  rounds: number;
  seconds: number;
  warmup: number;
  connections: number;
  /** node flags for the portal server, e.g. ['--cpu-prof', '--cpu-prof-dir=DIR'] */
  nodeArgs?: string[];
  keep?: boolean;
}

export const STAGES = ['development', 'qa', 'production'];

export function runtimeTarget(name: string, p: { url: string; pid: number }, token: string): LoadTarget {
  return { name, url: `${p.url}/api/v1/runtime/settings`, headers: { authorization: `Bearer ${token}` }, pid: p.pid };
}

export async function getBytes(url: string, token?: string): Promise<{ bytes: Buffer; contentType: string; headers: Headers }> {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(10_000) });
  if (res.status !== 200) throw new Error(`GET ${url}: ${res.status}`);
  return { bytes: Buffer.from(await res.arrayBuffer()), contentType: res.headers.get('content-type') ?? 'application/json', headers: res.headers };
}

/**
 * The read right after a write, when the server's memo of the answer is gone and it reads the
 * store (SQL, decryption): a value of the read app is changed, then one run-time read timed.
 */
export async function readAfterWrite(p: PortalProc, runtimeToken: string, n: number): Promise<number> {
  const name = 'Setting00001';
  let version = (await api<{ settings: Array<{ name: string; version: number }> }>(p.url, p.adminToken, 'GET', `/apps/${READ_APP}/stages/${READ_STAGE}/settings`)).body.settings.find((s) => s.name === name)!.version;
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await api<{ settings: Array<{ name: string; version: number }> }>(p.url, p.adminToken, 'PATCH', `/apps/${READ_APP}/stages/${READ_STAGE}/settings`, {
      changes: [{ name, value: `value-${i}`, baseVersion: version }],
    });
    version = r.body.settings.find((s) => s.name === name)!.version;
    const t0 = nowMs();
    const res = await fetch(`${p.url}/api/v1/runtime/settings`, { headers: { authorization: `Bearer ${runtimeToken}` }, signal: AbortSignal.timeout(10_000) });
    await res.arrayBuffer();
    times.push(nowMs() - t0);
    if (res.status !== 200) throw new Error(`run-time read after a write: ${res.status}`);
  }
  return median(times);
}

/** A fresh portal with the read app and `totalValues` stored values (the read app's 100 included). */
export async function portalWithValues(dir: string, totalValues: number, o: LoadOptions, logLevel = 'info'): Promise<{ portal: PortalProc; runtimeToken: string; masterKey: string }> {
  const dataDir = path.join(dir, 'data');
  const masterKey = newMasterKey();
  let portal = await startPortal({ dataDir, masterKey, logLevel });
  const { runtimeToken } = await setupReadApp(portal.url, portal.adminToken);
  if (totalValues > 100) {
    await portal.stop();
    seedFiller(path.join(dataDir, 'portal.db'), masterKey, STAGES, totalValues);
    portal = await startPortal({ dataDir, masterKey, adminToken: portal.adminToken, logLevel, nodeArgs: o.nodeArgs });
  }
  return { portal, runtimeToken, masterKey };
}

export async function measureRuntimeRead(o: LoadOptions & { logOff?: boolean }): Promise<Row[]> {
  const dir = tempDir('odc-bench-read-');
  const started: Proc[] = [];
  try {
    const dataDir = path.join(dir, 'data');
    const masterKey = newMasterKey();
    const portal = await startPortal({ dataDir, masterKey, nodeArgs: o.nodeArgs });
    started.push(portal);
    const { runtimeToken } = await setupReadApp(portal.url, portal.adminToken);
    const subject = runtimeTarget('portal', portal, runtimeToken);
    const first = await getBytes(subject.url, runtimeToken);
    const bodyFile = path.join(dir, 'body.json');
    fs.writeFileSync(bodyFile, first.bytes);
    const baselineProc = await startBaseline({ bodyFile, contentType: first.contentType, route: '/api/v1/runtime/settings' });
    started.push(baselineProc);
    const baseline: LoadTarget = { name: 'bare express', url: `${baselineProc.url}/api/v1/runtime/settings`, headers: { authorization: `Bearer ${runtimeToken}` }, pid: baselineProc.pid };
    const same = await getBytes(baseline.url);
    if (!same.bytes.equals(first.bytes)) throw new Error('the baseline does not return the same bytes as the portal');
    const settings = Object.keys((JSON.parse(first.bytes.toString('utf8')) as { settings: object }).settings).length;
    log(`runtime read: ${settings} settings, ${first.bytes.length} bytes; portal pid ${portal.pid} (request log to ${portal.logFile}), baseline pid ${baselineProc.pid}`);
    const logBefore = fs.statSync(portal.logFile).size;
    const cmp = await compareThroughput(subject, baseline, o);
    const logBytes = fs.statSync(portal.logFile).size - logBefore;
    const rows: Row[] = [
      {
        id: 'runtime-read',
        measure: `run-time read of a ${settings}-setting app (20 secrets), req/s`,
        subject: fmt.rps(cmp.subject),
        baseline: `${fmt.rps(cmp.baseline)} (bare Express, same ${first.bytes.length} bytes)`,
        ratio: fmt.x(cmp.ratio),
        goal: '>= 0.85x',
        status: cmp.ratio >= 0.85 ? 'pass' : 'miss',
        note:
          `${o.rounds} rounds x ${o.seconds} s each side, ${o.connections} connections; portal logs one line per request to a file (${Math.round(logBytes / 1024)} KiB during the load); ` +
          `server CPU per request ${cmp.subjectCpuUs} µs vs ${cmp.baselineCpuUs} µs (${cmp.cpuRatio?.toFixed(2)}x, steadier than req/s on a busy machine)`,
        data: { ...cmp, bodyBytes: first.bytes.length, requestLogBytes: logBytes, portalRssMb: round(rssMb(portal.pid), 1), baselineRssMb: round(rssMb(baselineProc.pid), 1) },
      },
    ];
    if (o.logOff) {
      // The same server, request log off (PORTAL_LOG_LEVEL=warn), to show what the log line costs.
      const quiet = await startPortal({ dataDir: path.join(dir, 'data'), masterKey, adminToken: portal.adminToken, logLevel: 'warn' });
      started.push(quiet);
      const q = await compareThroughput(runtimeTarget('portal (log off)', quiet, runtimeToken), baseline, o);
      rows.push({
        id: 'runtime-read-log-off',
        measure: 'the same, request log off (PORTAL_LOG_LEVEL=warn), req/s',
        subject: fmt.rps(q.subject),
        baseline: fmt.rps(q.baseline),
        ratio: fmt.x(q.ratio),
        goal: '(info)',
        status: 'info',
        note: `server CPU per request ${q.subjectCpuUs} µs vs ${q.baselineCpuUs} µs (${q.cpuRatio?.toFixed(2)}x)`,
        data: { ...q },
      });
    }
    return rows;
  } finally {
    for (const p of started.reverse()) await p.stop().catch(() => {});
    if (!o.keep) fs.rmSync(dir, { recursive: true, force: true });
  }
}

export async function measureScale(o: LoadOptions & { bigValues: number; smallValues: number }): Promise<Row[]> {
  const dirBig = tempDir('odc-bench-big-');
  const dirSmall = tempDir('odc-bench-small-');
  const started: Proc[] = [];
  try {
    const small = await portalWithValues(dirSmall, o.smallValues, o);
    started.push(small.portal);
    const big = await portalWithValues(dirBig, o.bigValues, o);
    started.push(big.portal);
    const dbMb = fs.statSync(path.join(big.portal.dataDir, 'portal.db')).size / 1024 / 1024;
    const rssIdle = rssMb(big.portal.pid);
    // Same bytes from both (the read app is identical) except nothing: check it.
    const a = await getBytes(`${big.portal.url}/api/v1/runtime/settings`, big.runtimeToken);
    const b = await getBytes(`${small.portal.url}/api/v1/runtime/settings`, small.runtimeToken);
    if (!a.bytes.equals(b.bytes)) throw new Error('the two stores do not answer the same run-time read');
    const cmp = await compareThroughput(
      runtimeTarget(`portal ${o.bigValues} values`, big.portal, big.runtimeToken),
      runtimeTarget(`portal ${o.smallValues} values`, small.portal, small.runtimeToken),
      o,
    );
    const rss = rssMb(big.portal.pid);
    const peak = peakRssMb(big.portal.pid);
    const smallRss = rssMb(small.portal.pid);
    // The memo answers the load above; the store itself answers the first read after a write.
    const missBig = await readAfterWrite(big.portal, big.runtimeToken, 15);
    const missSmall = await readAfterWrite(small.portal, small.runtimeToken, 15);
    log(`scale: read right after a write (from the store, not the memo): ${round(missBig, 2)} ms with ${o.bigValues} values, ${round(missSmall, 2)} ms with ${o.smallValues}`);
    log(`scale: store file ${Math.round(dbMb)} MB; big server RSS idle ${Math.round(rssIdle)} MB, after load ${Math.round(rss)} MB (peak ${Math.round(peak)} MB); small ${Math.round(smallRss)} MB`);
    const n = (x: number) => x.toLocaleString('en-US');
    return [
      {
        id: 'scale-read',
        measure: `run-time read with ${n(o.bigValues)} stored values, req/s`,
        subject: fmt.rps(cmp.subject),
        baseline: `${fmt.rps(cmp.baseline)} (${n(o.smallValues)} values)`,
        ratio: fmt.x(cmp.ratio),
        goal: '>= 0.9x',
        status: cmp.ratio >= 0.9 ? 'pass' : 'miss',
        note:
          `store file ${Math.round(dbMb)} MB, 20% of the filler values sealed secrets; the load is served from the server's memo of the answer. ` +
          `The first read after a write (from SQLite, decrypting): ${fmt.ms(missBig)} vs ${fmt.ms(missSmall)} (median of 15)`,
        data: { ...cmp, storeFileMb: round(dbMb, 1), readAfterWriteMs: { big: round(missBig, 2), small: round(missSmall, 2) } },
      },
      {
        id: 'scale-rss',
        measure: `server memory (RSS) holding ${n(o.bigValues)} values`,
        subject: `${fmt.mb(rss)} (peak ${fmt.mb(peak)})`,
        baseline: `${fmt.mb(smallRss)} (${n(o.smallValues)} values)`,
        ratio: '-',
        goal: '<= 250 MB',
        status: Math.max(rss, peak) <= 250 ? 'pass' : 'miss',
        note: 'VmRSS/VmHWM of the server process after the load',
        data: { rssMb: round(rss, 1), peakRssMb: round(peak, 1), idleRssMb: round(rssIdle, 1), smallRssMb: round(smallRss, 1) },
      },
    ];
  } finally {
    for (const p of started.reverse()) await p.stop().catch(() => {});
    if (!o.keep) {
      fs.rmSync(dirBig, { recursive: true, force: true });
      fs.rmSync(dirSmall, { recursive: true, force: true });
    }
  }
}

