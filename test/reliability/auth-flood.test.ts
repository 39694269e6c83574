// Part 6, failing-client flood (issue 11 item 2, SPEC §6, §7): for T seconds, attackers send
// requests without a token or with bad and revoked tokens from many distinct loopback addresses
// (the full run uses more than the limiter's table holds, so the overflow bucket is exercised),
// and hammer the very addresses the legitimate clients use. Meanwhile app instances read their
// run-time settings (fast path and Express route) and an admin reads, from those addresses.
// Every valid-token request must succeed; the failures must be limited (429s); the audit must
// hold one aggregated record per limiter window, not one per failure.
// Reduced: 600 addresses, 6 s; full (npm run test:reliability): 11,000 addresses, 30 s.
import assert from 'node:assert/strict';
import * as http from 'node:http';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { removeDir, startPortal, type Portal } from '../support/portal';
import { createToken, publish } from './fixtures';
import { BASE_SEED, formatHistogram, histogram, reportFigures, Rng, SIZES, withReadOnlyDb } from './lib';

const APP = 'flood';
/** Addresses shared by app instances, an admin and attackers. */
const SHARED = ['127.0.0.200', '127.0.0.201', '127.0.0.202', '127.0.0.203'];

let portal: Portal | null = null;
after(async () => {
  if (portal) {
    await portal.kill9();
    removeDir(path.dirname(portal.dataDir));
  }
});

/** The n-th distinct attacker address in 127.1.0.0/16 (never one of SHARED). */
const attackerAddress = (n: number) => `127.1.${Math.floor(n / 250) % 250}.${(n % 250) + 1}`;

function request(port: number, localAddress: string, pathName: string, headers: Record<string, string>, agent: http.Agent | false): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: pathName, method: 'GET', headers, localAddress, agent }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.setTimeout(60_000, () => req.destroy(new Error('no answer in 60 s')));
    req.on('error', reject);
    req.end();
  });
}

test('failing-client flood: every valid-token request succeeds while failures are limited and aggregated', async () => {
  const rng = new Rng(BASE_SEED).fork(6);
  portal = await startPortal({ env: { PORTAL_LOG_LEVEL: 'warn' } });
  const port = Number(new URL(portal.url).port);
  const api = portal.api.bind(portal);
  await publish(api, { app: { key: APP, name: 'Flood' }, settings: [{ name: 'ApiKey', type: 'Text', isSecret: true }, { name: 'Level', type: 'Text', defaultValue: 'info' }] });
  const set = await portal.api('PATCH', `/apps/${APP}/stages/qa/settings`, { body: { changes: [{ name: 'ApiKey', value: `flood-${rng.hex(8)}`, baseVersion: 0 }] } });
  assert.equal(set.status, 200, set.text);
  const runtime = (await createToken(api, { name: 'rt qa', role: 'runtime', apps: [APP], stages: ['qa'] })).token;
  const revoked = await createToken(api, { name: 'stale instance', role: 'runtime', apps: [APP], stages: ['qa'] });
  assert.equal((await portal.api('DELETE', `/tokens/${revoked.id}`)).status, 204);
  const auditBefore = withReadOnlyDb(path.join(portal.dataDir, 'portal.db'), (db) => (db.prepare('SELECT max(id) AS n FROM audit').get() as { n: number }).n);

  const deadline = Date.now() + SIZES.floodSeconds * 1000;
  const attack: string[] = [];
  const valid: string[] = [];
  const validFailures: string[] = [];
  let attackErrors = 0;
  let next = 0;
  const badHeaders = (): Record<string, string> =>
    rng.weighted<Record<string, string>>([
      [3, {}],
      [3, { authorization: `Bearer odcp_${rng.hex(16)}` }],
      [2, { authorization: `Bearer ${revoked.token}` }],
      [1, { authorization: 'Basic Zm9vOmJhcg==' }],
    ]);

  // Attackers: new connections, each from the next address (first pass: every address once,
  // so the table fills and overflows on the full run), half of them aimed at the shared addresses.
  const attacker = async () => {
    while (Date.now() < deadline) {
      const from = rng.chance(0.3) ? rng.pick(SHARED) : attackerAddress(next++ % SIZES.floodAddresses);
      const route = rng.pick(['/api/v1/runtime/settings', '/api/v1/apps', '/api/v1/runtime/settings?x=1', '/api/v1/tokens']);
      try {
        attack.push(String(await request(port, from, route, badHeaders(), false)));
      } catch {
        attackErrors++;
      }
    }
  };
  // App instances and an admin on the shared addresses, with keep-alive like a real client.
  const legit = async (from: string, kind: 'runtime' | 'runtime-express' | 'admin') => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1, localAddress: from } as http.AgentOptions);
    try {
      while (Date.now() < deadline) {
        const [route, token] = kind === 'admin' ? ['/api/v1/apps', portal!.adminToken] : [kind === 'runtime' ? '/api/v1/runtime/settings' : '/api/v1/runtime/settings?via=express', runtime];
        const scheme = rng.pick(['Bearer', 'bearer', 'BEARER']);
        try {
          const status = await request(port, from, route, { authorization: `${scheme} ${token}` }, agent);
          valid.push(`${kind}:${status}`);
          if (status !== 200) validFailures.push(`${kind} from ${from}: ${status}`);
        } catch (err) {
          validFailures.push(`${kind} from ${from}: ${(err as Error).message}`);
        }
      }
    } finally {
      agent.destroy();
    }
  };
  const started = Date.now();
  await Promise.all([
    ...Array.from({ length: 6 }, () => attacker()),
    legit(SHARED[0]!, 'runtime'),
    legit(SHARED[1]!, 'runtime-express'),
    legit(SHARED[2]!, 'admin'),
    legit(SHARED[3]!, 'runtime'),
  ]);
  const seconds = (Date.now() - started) / 1000;

  // Stopping ends the limiter's window: its aggregated record is written then.
  const dataDir = portal.dataDir;
  await portal.stop();
  const records = withReadOnlyDb(path.join(dataDir, 'portal.db'), (db) =>
    db.prepare("SELECT detail FROM audit WHERE id > ? AND action = 'auth.failed'").all(auditBefore),
  ) as Array<{ detail: string }>;
  const details = records.map((r) => JSON.parse(r.detail) as { failures: number; refused: number; clients: number; overflowFailures: number });
  const windows = Math.ceil(seconds / 60) + 1;
  const attackStatuses = histogram(attack);

  reportFigures('6. failing-client flood', {
    'attack requests (no, bad, revoked or Basic token)': `${attack.length} from ${Math.min(next, SIZES.floodAddresses)} distinct addresses + the ${SHARED.length} shared ones`,
    'attack answers': formatHistogram(attackStatuses),
    'attack connection errors': attackErrors,
    'valid-token requests from the attacked addresses': `${valid.length} (${formatHistogram(histogram(valid))})`,
    'valid-token requests refused or failed': validFailures.length,
    'auth.failed audit records (one per window)': `${records.length} for ${attack.length} failures`,
    'failures / 429s / table clients / overflow failures in the records': details.map((d) => `${d.failures}/${d.refused}/${d.clients}/${d.overflowFailures}`).join(', '),
    'duration s': seconds.toFixed(1),
  });
  if (validFailures.length) console.log(`valid-token failures (seed ${BASE_SEED}):\n${validFailures.slice(0, 20).join('\n')}`);
  assert.deepEqual(validFailures, [], 'every valid-token request succeeds');
  assert.ok(valid.length > 50, `too few valid requests to mean anything: ${valid.length}`);
  assert.ok((attackStatuses['429'] ?? 0) > 0, 'the failures were limited (429s)');
  assert.ok(Object.keys(attackStatuses).every((s) => s === '401' || s === '429'), `attack answers other than 401/429: ${JSON.stringify(attackStatuses)}`);
  assert.ok(records.length >= 1 && records.length <= windows, `${records.length} auth.failed records for ${seconds.toFixed(0)} s (at most ${windows})`);
  assert.equal(
    details.reduce((n, d) => n + d.failures, 0),
    attack.length,
    'the records account for every failure',
  );
});
