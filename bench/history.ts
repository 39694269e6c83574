// History at scale (SPEC §12): the run-time read of a store that keeps history for 1,000,000
// values against the same store without it. Both stores are one seeded store (the read app plus
// filler values, bench/lib/seed.ts), copied; the copy then gets one kept write per value in
// value_history (what the portal keeps for a value written once: its ciphertext bound to the same
// version, copied as is). Run-time reads never touch value_history, so the goal is that keeping
// it costs the hot path nothing measurable; the first read after a write (the store, not the
// memo; the write also keeps its history entry) is in the note.
import Database from 'better-sqlite3';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { compareThroughput } from './lib/load';
import { fmt, type Row } from './lib/result';
import { startPortal, type PortalProc } from './lib/servers';
import { log, nowMs, round, tempDir } from './lib/util';
import { getBytes, portalWithValues, readAfterWrite, runtimeTarget, type LoadOptions } from './runtime';

/** Copies every stored value into value_history as its one kept write. The server must be stopped. */
function seedHistory(dbFile: string): { entries: number; ms: number } {
  const t0 = nowMs();
  const db = new Database(dbFile);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF');
    db.prepare(
      `INSERT OR IGNORE INTO value_history (app_key, stage, name, version, action, is_secret, plain, secret, fingerprint, updated_at, updated_by)
       SELECT app_key, stage, name, version, 'set', secret IS NOT NULL, plain, secret, fingerprint, updated_at, updated_by
       FROM stage_values WHERE plain IS NOT NULL OR secret IS NOT NULL`,
    ).run();
    db.pragma('wal_checkpoint(TRUNCATE)');
    const entries = (db.prepare('SELECT count(*) AS n FROM value_history').get() as { n: number }).n;
    return { entries, ms: nowMs() - t0 };
  } finally {
    db.close();
  }
}

export async function measureHistory(o: LoadOptions & { values: number }): Promise<Row[]> {
  const dirPlain = tempDir('odc-bench-nohist-');
  const dirHist = tempDir('odc-bench-hist-');
  const started: PortalProc[] = [];
  try {
    const seeded = await portalWithValues(dirPlain, o.values, o, 'warn');
    await seeded.portal.stop();
    fs.cpSync(path.join(dirPlain, 'data'), path.join(dirHist, 'data'), { recursive: true });
    const hist = seedHistory(path.join(dirHist, 'data', 'portal.db'));
    log(`history: ${hist.entries.toLocaleString('en-US')} kept writes added to the copy (${Math.round(hist.ms)} ms)`);
    const start = (dir: string) => startPortal({ dataDir: path.join(dir, 'data'), masterKey: seeded.masterKey, adminToken: seeded.portal.adminToken, logLevel: 'info', nodeArgs: o.nodeArgs });
    const plain = await start(dirPlain);
    started.push(plain);
    const withHistory = await start(dirHist);
    started.push(withHistory);
    const a = await getBytes(`${withHistory.url}/api/v1/runtime/settings`, seeded.runtimeToken);
    const b = await getBytes(`${plain.url}/api/v1/runtime/settings`, seeded.runtimeToken);
    if (!a.bytes.equals(b.bytes)) throw new Error('the two stores do not answer the same run-time read');
    const dbMb = (dir: string) => fs.statSync(path.join(dir, 'data', 'portal.db')).size / 1024 / 1024;
    const cmp = await compareThroughput(
      runtimeTarget(`portal, history for ${o.values} values`, withHistory, seeded.runtimeToken),
      runtimeTarget(`portal, no history`, plain, seeded.runtimeToken),
      o,
    );
    const missHist = await readAfterWrite(withHistory, seeded.runtimeToken, 15);
    const missPlain = await readAfterWrite(plain, seeded.runtimeToken, 15);
    const n = o.values.toLocaleString('en-US');
    log(`history: ${fmt.rps(cmp.subject)} with history vs ${fmt.rps(cmp.baseline)} without (${fmt.x(cmp.ratio)}); read after a write ${round(missHist, 2)} vs ${round(missPlain, 2)} ms`);
    return [
      {
        id: 'history-read',
        measure: `run-time read with history kept for ${n} values, req/s`,
        subject: fmt.rps(cmp.subject),
        baseline: `${fmt.rps(cmp.baseline)} (same store, no history)`,
        ratio: fmt.x(cmp.ratio),
        goal: '>= 0.9x',
        status: cmp.ratio >= 0.9 ? 'pass' : 'miss',
        note:
          `${hist.entries.toLocaleString('en-US')} kept writes; store files ${Math.round(dbMb(dirHist))} MB vs ${Math.round(dbMb(dirPlain))} MB. ` +
          `The first read after a write (from the store, the write keeping its history entry): ${fmt.ms(missHist)} vs ${fmt.ms(missPlain)} (median of 15)`,
        data: { ...cmp, historyEntries: hist.entries, readAfterWriteMs: { history: round(missHist, 2), plain: round(missPlain, 2) } },
      },
    ];
  } finally {
    for (const p of started.reverse()) await p.stop().catch(() => {});
    if (!o.keep) {
      fs.rmSync(dirPlain, { recursive: true, force: true });
      fs.rmSync(dirHist, { recursive: true, force: true });
    }
  }
}
