// Issue 11 item 1 (SPEC §5): two `odc-portal rotate-key` runs at once never lose a key. The
// second waits for the first or is refused; pending keys are named by key id and only the one
// the store committed to is promoted; afterwards the store opens with its key file, every
// secret decrypts and the audit verifies.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, test } from 'node:test';
import { cliEnv, createRuntimeToken, defsFor, ensureServerBuilt, newCanary, removeDir, ROOT, runCli, startPortal, STORE, tempDir, type Portal } from '../support/portal';

const cleanup: string[] = [];
const running: Portal[] = [];
after(async () => {
  for (const p of running) await p.stop();
  for (const dir of cleanup) removeDir(dir);
});

const APP = 'rotation-app';
const STAGES = ['development', 'qa'];

/** Runs `rotate-key`, paused just after it stored its pending key (see rotation-pause.cjs). */
function rotate(dataDir: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  ensureServerBuilt();
  const args = ['--require', path.join(ROOT, 'test/support/rotation-pause.cjs'), path.join(ROOT, 'bin/odc-portal.js'), 'rotate-key', '--data-dir', dataDir];
  const child = spawn(process.execPath, args, { cwd: ROOT, env: cliEnv({ PORTAL_LOG_LEVEL: 'warn', ROTATION_PAUSE_MS: '400' }), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d) => (stdout += d));
  child.stderr!.on('data', (d) => (stderr += d));
  return new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
}

// The key file source belongs to the embedded store (SPEC §11: PostgreSQL takes PORTAL_MASTER_KEY).
const EMBEDDED_ONLY = STORE === 'postgres' ? 'rotate-key with a key file belongs to the embedded store (SPEC §11)' : false;

test('two rotate-key runs at once: one rotates, the other waits or is refused, and no secret is lost', { skip: EMBEDDED_ONLY }, async () => {
  const dir = tempDir('odc-rotation-');
  cleanup.push(dir);
  const dataDir = path.join(dir, 'data');
  let portal = await startPortal({ dataDir });
  running.push(portal);
  const adminToken = portal.adminToken;
  const pub = await portal.api('POST', `/apps/${APP}/publish`, { body: { definitions: defsFor(APP, [{ name: 'Password', type: 'Text', isSecret: true }]) } });
  assert.equal(pub.status, 200, pub.text);
  const expected: Record<string, string> = {};
  const tokens: Record<string, string> = {};
  for (const stage of STAGES) {
    expected[stage] = newCanary(`rot-${stage}`);
    const set = await portal.api('PATCH', `/apps/${APP}/stages/${stage}/settings`, { body: { changes: [{ name: 'Password', value: expected[stage], baseVersion: 0 }] } });
    assert.equal(set.status, 200, set.text);
    tokens[stage] = await createRuntimeToken(portal, APP, stage);
  }

  for (let round = 1; round <= 3; round++) {
    // Started together beside the running server; each holds for a moment after staging its key.
    const results = await Promise.all([rotate(dataDir), rotate(dataDir)]);
    const ok = results.filter((r) => r.code === 0);
    assert.ok(ok.length >= 1, `round ${round}: no rotation succeeded:\n${results.map((r) => r.stderr).join('\n')}`);
    for (const r of results.filter((r) => r.code !== 0)) {
      // A refusal says why and what to do, never a stack trace.
      assert.match(r.stderr, /another key rotation|rotat/i, `round ${round}: the refused run says why: ${r.stderr}`);
    }
    const leftovers = fs.readdirSync(dataDir).filter((f) => f.startsWith('master.key') && f !== 'master.key');
    assert.deepEqual(leftovers, [], `round ${round}: no pending key file is left behind`);

    // A restart opens the store with the key file, reads every secret, and the audit verifies.
    await portal.kill9();
    running.splice(running.indexOf(portal), 1);
    portal = await startPortal({ dataDir, adminToken });
    running.push(portal);
    for (const stage of STAGES) {
      const read = await portal.api('GET', '/runtime/settings', { token: tokens[stage] });
      assert.equal(read.status, 200, `round ${round}, ${stage}: ${read.text}`);
      assert.equal(read.body.settings.Password, expected[stage], `round ${round}, ${stage}: the secret decrypts to what was stored`);
    }
    const verify = await portal.api('GET', '/audit/verify');
    assert.equal(verify.body.ok, true, `round ${round}: the audit verifies: ${verify.text}`);
    const rotations = (await portal.api('GET', '/audit?limit=1000')).body.events.filter((e: { action: string }) => e.action === 'key.rotate').length;
    assert.ok(rotations >= round, `round ${round}: each committed rotation is audited (${rotations})`);
  }
  await portal.stop();
  running.splice(running.indexOf(portal), 1);
  const cli = runCli(['audit', 'verify', '--data-dir', dataDir]);
  assert.equal(cli.code, 0, cli.stderr);
  assert.match(cli.stdout, /audit chain ok/);
});

test('a command that read the key file just before another rotation committed and promoted its key still opens the store', { skip: EMBEDDED_ONLY }, async () => {
  // CI found this: the second of two rotations read master.key, the first then committed and
  // renamed its pending key over master.key, and the second refused the store as "under
  // another master key". The window is held open here by open-pause.cjs.
  const dir = tempDir('odc-rotation-open-');
  cleanup.push(dir);
  const dataDir = path.join(dir, 'data');
  const portal = await startPortal({ dataDir });
  running.push(portal);
  const secret = newCanary('rot-open');
  assert.equal((await portal.api('POST', `/apps/${APP}/publish`, { body: { definitions: defsFor(APP, [{ name: 'Password', type: 'Text', isSecret: true }]) } })).status, 200);
  assert.equal((await portal.api('PATCH', `/apps/${APP}/stages/qa/settings`, { body: { changes: [{ name: 'Password', value: secret, baseVersion: 0 }] } })).status, 200);
  const runtime = await createRuntimeToken(portal, APP, 'qa');
  const keyBefore = fs.readFileSync(path.join(dataDir, 'master.key'), 'utf8');

  const releaseFile = path.join(dir, 'release');
  const args = ['--require', path.join(ROOT, 'test/support/open-pause.cjs'), path.join(ROOT, 'bin/odc-portal.js'), 'audit', 'verify', '--data-dir', dataDir];
  const held = spawn(process.execPath, args, { cwd: ROOT, env: cliEnv({ PORTAL_LOG_LEVEL: 'warn', OPEN_RELEASE_FILE: releaseFile }), stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  held.stdout!.on('data', (d) => (stdout += d));
  const paused = new Promise<void>((resolve) => held.stderr!.on('data', (d) => ((stderr += d), /open-paused/.test(stderr) && resolve())));
  const exited = new Promise<number | null>((resolve) => held.on('close', (code) => resolve(code)));
  await paused;

  const rotation = runCli(['rotate-key', '--data-dir', dataDir]);
  assert.equal(rotation.code, 0, rotation.stderr);
  assert.notEqual(fs.readFileSync(path.join(dataDir, 'master.key'), 'utf8'), keyBefore, 'the rotation promoted its key file while the command held the old key');
  fs.writeFileSync(releaseFile, '');

  assert.equal(await exited, 0, `the held command opens the store under the new key:\n${stderr}`);
  assert.match(stdout, /audit chain ok/);
  const read = await portal.api('GET', '/runtime/settings', { token: runtime });
  assert.equal(read.body.settings?.Password, secret, 'the serving instance still reads the secret');
});
