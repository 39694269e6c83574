// Compare measure (SPEC §13): GET /compare of 2 stages x 5,000 settings against one GET of a single
// stage's values of the same app (the baseline), both over HTTP on the same server, alternated,
// medians of the rounds. Compare opens no secret (fingerprints are compared), so it should cost
// about two stage reads at most.
import * as path from 'node:path';
import { allValues, definitions } from './lib/fixtures';
import { fmt, type Row } from './lib/result';
import { api, newMasterKey, startPortal } from './lib/servers';
import { log, median, tempDir } from './lib/util';

export async function measureCompare(o: { settings: number; rounds: number; nodeArgs?: string[] }): Promise<Row[]> {
  const dir = tempDir('odc-bench-compare-');
  const portal = await startPortal({ dataDir: path.join(dir, 'data'), masterKey: newMasterKey(), logLevel: 'warn', nodeArgs: o.nodeArgs });
  try {
    const app = 'compare';
    const doc = definitions(app, o.settings, 5);
    await api(portal.url, portal.adminToken, 'POST', `/apps/${app}/publish`, { definitions: doc });
    // Half the values equal in both stages (the secrets too), half different.
    await api(portal.url, portal.adminToken, 'PATCH', `/apps/${app}/stages/qa/settings`, { changes: allValues(doc, 'qa') });
    await api(portal.url, portal.adminToken, 'PATCH', `/apps/${app}/stages/production/settings`, {
      changes: allValues(doc, 'qa').map((c, i) => (i % 2 === 0 ? c : { ...allValues(doc, 'prod')[i]! })),
    });
    const compareMs: number[] = [];
    const readMs: number[] = [];
    for (let i = 0; i < o.rounds + 2; i++) {
      const read = await api(portal.url, portal.adminToken, 'GET', `/apps/${app}/stages/qa/settings`);
      const cmp = await api(portal.url, portal.adminToken, 'GET', `/apps/${app}/compare?stages=qa,production`);
      if (i < 2) continue; // warm-up
      readMs.push(read.ms);
      compareMs.push(cmp.ms);
    }
    const subject = median(compareMs);
    const baseline = median(readMs);
    const ratio = subject / baseline;
    log(`compare ${fmt.ms(subject)} vs one stage read ${fmt.ms(baseline)}: ${fmt.x(ratio)}`);
    return [
      {
        id: 'compare',
        measure: `compare of 2 stages x ${o.settings.toLocaleString('en-US')} settings (median of ${o.rounds})`,
        subject: fmt.ms(subject),
        baseline: `${fmt.ms(baseline)} (one stage read)`,
        ratio: fmt.x(ratio),
        goal: '<= 2x',
        status: ratio <= 2 ? 'pass' : 'miss',
        data: { compareMs, readMs },
      },
    ];
  } finally {
    await portal.stop();
  }
}
