// HTTP load with autocannon over 127.0.0.1, in bounded rounds that interleave the sides being
// compared, so both see the same machine (2 cores, other jobs running): figures are ratios of medians.
import { createRequire } from 'node:module';
import { cpuMs, log, median, round } from './util';

const requireCjs = createRequire(__filename);
// autocannon ships no types; only run() and the fields below are used.
const autocannon = requireCjs('autocannon') as (opts: Record<string, unknown>) => Promise<AutocannonResult> & { stop?: () => void };

interface AutocannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; average: number };
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
  duration: number;
}

export interface LoadTarget {
  name: string;
  url: string;
  headers?: Record<string, string>;
  /** The server's pid: its CPU time per request is recorded too (robust to other load on the machine). */
  pid?: number;
}

export interface LoadRun {
  reqPerSec: number;
  p50: number;
  p99: number;
  ok: number;
  bad: number;
  /** Server CPU time per request in µs (user + system), when the target's pid is known. */
  cpuUsPerReq?: number;
}

export async function load(target: LoadTarget, seconds: number, connections = 10): Promise<LoadRun> {
  const cpu0 = target.pid ? cpuMs(target.pid) : 0;
  const r = await autocannon({
    url: target.url,
    connections,
    pipelining: 1,
    duration: seconds,
    timeout: 10,
    headers: target.headers ?? {},
  });
  const bad = r.non2xx + r.errors + r.timeouts;
  // A load run that got errors measures the errors, not the route: refuse it.
  if (bad > 0) throw new Error(`${target.name}: ${bad} failed requests (${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts) of ${r.requests.total}`);
  const cpuUsPerReq = target.pid ? ((cpuMs(target.pid) - cpu0) * 1000) / Math.max(1, r['2xx']) : undefined;
  return { reqPerSec: r['2xx'] / r.duration, p50: r.latency.p50, p99: r.latency.p99, ok: r['2xx'], bad, cpuUsPerReq };
}

export interface Comparison {
  subject: number;
  baseline: number;
  ratio: number;
  rounds: Array<{ subject: number; baseline: number; subjectCpuUs?: number; baselineCpuUs?: number }>;
  subjectP99: number;
  baselineP99: number;
  /** Median server CPU µs per request, each side, and baseline/subject (the throughput ratio if CPU-bound). */
  subjectCpuUs?: number;
  baselineCpuUs?: number;
  cpuRatio?: number;
}

/**
 * Warm both sides up, then `rounds` rounds of `seconds` each side, alternating which goes first,
 * and compare the medians (req/s). ratio = subject / baseline.
 */
export async function compareThroughput(subject: LoadTarget, baseline: LoadTarget, o: { rounds: number; seconds: number; warmup: number; connections?: number }): Promise<Comparison> {
  const c = o.connections ?? 10;
  await load(baseline, o.warmup, c);
  await load(subject, o.warmup, c);
  const rounds: Array<{ subject: number; baseline: number; sp99: number; bp99: number; scpu?: number; bcpu?: number }> = [];
  for (let i = 0; i < o.rounds; i++) {
    let s: LoadRun;
    let b: LoadRun;
    if (i % 2 === 0) {
      b = await load(baseline, o.seconds, c);
      s = await load(subject, o.seconds, c);
    } else {
      s = await load(subject, o.seconds, c);
      b = await load(baseline, o.seconds, c);
    }
    rounds.push({ subject: s.reqPerSec, baseline: b.reqPerSec, sp99: s.p99, bp99: b.p99, scpu: s.cpuUsPerReq, bcpu: b.cpuUsPerReq });
    const cpu = (x?: number) => (x === undefined ? '' : `, ${Math.round(x)} µs CPU/req`);
    log(`  round ${i + 1}: ${subject.name} ${round(s.reqPerSec, 0)} req/s (p99 ${s.p99} ms${cpu(s.cpuUsPerReq)}), ${baseline.name} ${round(b.reqPerSec, 0)} req/s (p99 ${b.p99} ms${cpu(b.cpuUsPerReq)})`);
  }
  // The ratio is the median of the per-round ratios: each pair of runs saw the same machine load.
  return {
    subject: median(rounds.map((r) => r.subject)),
    baseline: median(rounds.map((r) => r.baseline)),
    ratio: median(rounds.map((r) => r.subject / r.baseline)),
    rounds: rounds.map((r) => ({ subject: round(r.subject, 0), baseline: round(r.baseline, 0), subjectCpuUs: r.scpu && round(r.scpu, 0), baselineCpuUs: r.bcpu && round(r.bcpu, 0) })),
    subjectP99: median(rounds.map((r) => r.sp99)),
    baselineP99: median(rounds.map((r) => r.bp99)),
    ...(subject.pid && baseline.pid
      ? (() => {
          const sc = median(rounds.map((r) => r.scpu!));
          const bc = median(rounds.map((r) => r.bcpu!));
          return { subjectCpuUs: round(sc, 0), baselineCpuUs: round(bc, 0), cpuRatio: round(bc / sc, 3) };
        })()
      : {}),
  };
}
