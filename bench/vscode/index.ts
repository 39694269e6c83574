// extensionTestsPath for scripts/run-vscode-tests.mjs (bundled by bench/extension.ts): runs inside
// the REAL extension host, activates a minimal baseline extension cold and times it, then ours
// the same way, then times the Settings tree until it returns every setting of the workspace's
// definitions file, and, as the tree's baseline, JSON.parse + the shared validation of that
// same file in the same host. Writes the figures as JSON to $ODC_BENCH_OUT. The workspace's definitions file is not named odc-app.json (the
// setting odcSettings.definitionsFile points at it), so the workspaceContains activation event
// does not fire at start-up and activate() below is the real, cold activation.
import * as fs from 'node:fs';
import * as inspector from 'node:inspector';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { definitionProblems } from '../../common/definitions';
import type { OdcSettingsApi } from '../../extension/testApi';

const EXTENSION_ID = process.env.ODC_BENCH_EXTENSION_ID ?? 'odc-settings.odc-settings';

export async function run(): Promise<void> {
  const out = process.env.ODC_BENCH_OUT;
  const expected = Number(process.env.ODC_BENCH_SETTINGS ?? 2000);
  if (!out) throw new Error('ODC_BENCH_OUT is not set');
  const result: Record<string, unknown> = { vscode: vscode.version, node: process.version };
  try {
    const ext = vscode.extensions.getExtension<OdcSettingsApi>(EXTENSION_ID);
    if (!ext) throw new Error(`extension ${EXTENSION_ID} is not loaded`);
    result.wasActive = ext.isActive;
    // A warm-up extension first, untimed: the host's one-time cost of a first activation
    // would otherwise land on whichever timed extension comes first.
    const warmupId = process.env.ODC_BENCH_WARMUP_ID;
    if (warmupId) await vscode.extensions.getExtension(warmupId)?.activate();
    // Then the baseline: a minimal extension's cold activate() in this same host.
    const baselineId = process.env.ODC_BENCH_BASELINE_ID;
    if (baselineId) {
      const baseline = vscode.extensions.getExtension(baselineId);
      if (!baseline) throw new Error(`baseline extension ${baselineId} is not installed`);
      result.baselineWasActive = baseline.isActive;
      const b0 = performance.now();
      await baseline.activate();
      result.baselineActivateMs = performance.now() - b0;
    }
    // ODC_BENCH_PROFILE=FILE: a V8 CPU profile of the extension host during the activation.
    const profileFile = process.env.ODC_BENCH_PROFILE;
    const session = profileFile ? new inspector.Session() : undefined;
    const post = (method: string, params?: object) =>
      new Promise<any>((resolve, reject) => session!.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res))));
    if (session) {
      session.connect();
      await post('Profiler.enable');
      await post('Profiler.setSamplingInterval', { interval: 1000 });
      await post('Profiler.start');
    }
    const t0 = performance.now();
    const api = await ext.activate();
    const t1 = performance.now();
    // The profile (if any) is written now; the tree is timed from the moment activate() resolved,
    // less the time spent writing the profile.
    let profileMs = 0;
    if (session) {
      const p0 = performance.now();
      const { profile } = await post('Profiler.stop');
      fs.writeFileSync(profileFile!, JSON.stringify(profile));
      session.disconnect();
      profileMs = performance.now() - p0;
    }
    result.activateMs = t1 - t0;
    if (!api?.settingsTree) throw new Error('activate() returned no settingsTree (extension/testApi.ts)');
    // The tree: the app node of the folder, then its settings; the model may still be loading.
    let settings: unknown[] = [];
    let polls = 0;
    for (;;) {
      const apps = (await api.settingsTree.getChildren()) ?? [];
      if (apps.length > 0) {
        const children = (await api.settingsTree.getChildren(apps[0])) ?? [];
        settings = children.filter((c) => (c as { kind?: string }).kind === 'setting');
        if (settings.length >= expected) break;
      }
      if (performance.now() - t1 > 30_000) throw new Error(`the tree showed ${settings.length} of ${expected} settings after 30 s`);
      polls++;
      await new Promise((r) => setTimeout(r, 1));
    }
    const t2 = performance.now();
    result.treeMs = t2 - t1 - profileMs;
    result.treePolls = polls;
    result.settings = settings.length;
    // What the view then asks for every row it shows: the TreeItems.
    const t3 = performance.now();
    for (const node of settings) await api.settingsTree.getTreeItem(node as never);
    result.treeItemsMs = performance.now() - t3;
    // Warm figures: the same calls again.
    const warm: number[] = [];
    for (let i = 0; i < 5; i++) {
      const s = performance.now();
      const apps = (await api.settingsTree.getChildren()) ?? [];
      await api.settingsTree.getChildren(apps[0]);
      warm.push(performance.now() - s);
    }
    result.warmGetChildrenMs = warm;
    // The tree's baseline: read nothing new, just JSON.parse + validate the same text with the
    // shared rules (common/definitions), five times; the median.
    const folder = vscode.workspace.workspaceFolders?.[0];
    const file = vscode.workspace.getConfiguration('odcSettings', folder?.uri).get<string>('definitionsFile') ?? 'odc-app.json';
    const text = fs.readFileSync(path.join(folder!.uri.fsPath, file), 'utf8');
    const parse: number[] = [];
    for (let i = 0; i < 5; i++) {
      const s = performance.now();
      const problems = definitionProblems(JSON.parse(text));
      parse.push(performance.now() - s);
      if (problems.length) throw new Error(`the bench file has ${problems.length} problem(s)`);
    }
    result.parseValidateMs = parse;
  } catch (e) {
    result.error = (e as Error).message;
  }
  fs.writeFileSync(out, JSON.stringify(result, null, 2));
  if (result.error) throw new Error(String(result.error));
}
