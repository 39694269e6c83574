// Seeding the portal store: the read app through the real API (so its secrets are sealed by the
// server), bulk filler rows straight into the store file with better-sqlite3 while the server is
// stopped (so a million values take seconds, not an hour of HTTP).
import Database from 'better-sqlite3';
import { normalizeDefinitions } from '../../common/definitions';
import { seal, unwrapKey, valueAad } from '../../server/crypto/envelope';
import { allValues, definitions, sampleValue, secretValue } from './fixtures';
import { api } from './servers';
import { log, nowMs } from './util';

export const READ_APP = 'orders';
export const READ_STAGE = 'development';

/** Publishes the 100-setting read app (20 secrets), gives every setting a value in READ_STAGE, returns a runtime token. */
export async function setupReadApp(base: string, adminToken: string, settings = 100, secretEvery = 5): Promise<{ runtimeToken: string }> {
  const doc = definitions(READ_APP, settings, secretEvery);
  await api(base, adminToken, 'POST', `/apps/${READ_APP}/publish`, { definitions: doc });
  await api(base, adminToken, 'PATCH', `/apps/${READ_APP}/stages/${READ_STAGE}/settings`, { changes: allValues(doc, 'read') });
  const t = await api<{ token: string }>(base, adminToken, 'POST', '/tokens', { name: 'bench runtime', role: 'runtime', apps: [READ_APP], stages: [READ_STAGE] });
  return { runtimeToken: t.body.token };
}

/**
 * Adds filler apps (1,000 settings each, every 5th a secret sealed under the store's data key)
 * with values in every stage until the store holds `totalValues` values. The server must be stopped.
 */
export function seedFiller(dbFile: string, masterKeyB64: string, stages: string[], totalValues: number): { values: number; apps: number; ms: number } {
  const t0 = nowMs();
  const db = new Database(dbFile);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF');
    const have = (db.prepare('SELECT count(*) AS n FROM stage_values WHERE plain IS NOT NULL OR secret IS NOT NULL').get() as { n: number }).n;
    let remaining = totalValues - have;
    const keyRow = db.prepare("SELECT id, wrapped FROM wrapped_keys WHERE purpose = 'data' ORDER BY id DESC LIMIT 1").get() as { id: number; wrapped: Buffer };
    const dataKey = unwrapKey(Buffer.from(masterKeyB64, 'base64'), keyRow.id, keyRow.wrapped);
    const insApp = db.prepare('INSERT INTO apps (key, name, revision, published_at, published_by) VALUES (?, ?, 1, ?, ?)');
    const insRev = db.prepare('INSERT INTO revisions (app_key, revision, definitions, published_at, published_by) VALUES (?, 1, ?, ?, ?)');
    const insVal = db.prepare('INSERT INTO stage_values (app_key, stage, name, version, plain, secret, updated_at, updated_by) VALUES (?, ?, ?, 1, ?, ?, ?, ?)');
    const at = new Date().toISOString();
    const by = 'bench seed';
    let apps = 0;
    db.transaction(() => {
      for (let a = 1; remaining > 0; a++) {
        const key = `filler-${String(a).padStart(4, '0')}`;
        const doc = definitions(key, 1000, 5, { descriptions: true });
        insApp.run(key, doc.app.name, at, by);
        insRev.run(key, JSON.stringify(normalizeDefinitions(doc)), at, by);
        apps++;
        for (let i = 0; i < doc.settings.length && remaining > 0; i++) {
          const s = doc.settings[i]!;
          for (const stage of stages) {
            if (remaining <= 0) break;
            if (s.isSecret) insVal.run(key, stage, s.name, null, seal(keyRow.id, dataKey, secretValue(i, key), valueAad(key, stage, s.name, 1)), at, by);
            else insVal.run(key, stage, s.name, sampleValue(s.type, i), null, at, by);
            remaining--;
          }
        }
      }
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
    const values = (db.prepare('SELECT count(*) AS n FROM stage_values WHERE plain IS NOT NULL OR secret IS NOT NULL').get() as { n: number }).n;
    const ms = nowMs() - t0;
    log(`seeded ${apps} filler apps: the store holds ${values} values (${Math.round(ms)} ms)`);
    return { values, apps, ms };
  } finally {
    db.close();
  }
}
