// The Settings tree's per-setting status from the portal (SPEC §13's warnings): "missing in
// Production", "rotation due", "same as QA". One compare of every stage (plus the stage names,
// in parallel) per app per refresh, never one request per tree item; the answer's non-secret
// values are dropped as it arrives, so only stage names and warning kinds are kept. Signed out,
// nothing is asked and nothing is shown.
import * as vscode from 'vscode';
import type { StageWarning } from '../../common/api';
import type { PortalSession } from '../services/session';

/** What the tree shows of one setting: words only, never a value. */
export interface SettingStatusNote {
  kind: StageWarning['kind'];
  /** Compact, for the tree item's description (e.g. missing in Production). */
  short: string;
  /** A sentence for the tooltip. */
  long: string;
}

type AppStatus = { state: 'loading' } | { state: 'none' } | { state: 'ready'; notes: Map<string, SettingStatusNote[]> };

function list(names: string[]): string {
  return names.join(', ');
}

/** Turns the compare's warnings into each setting's notes (exported for the unit test). */
export function notesFromWarnings(warnings: readonly StageWarning[], stageName: (key: string) => string): Map<string, SettingStatusNote[]> {
  const bySetting = new Map<string, { missing: string[]; due: string[]; sameAs: Array<{ stage: string; lower: string }> }>();
  for (const w of warnings) {
    let s = bySetting.get(w.setting);
    if (!s) bySetting.set(w.setting, (s = { missing: [], due: [], sameAs: [] }));
    if (w.kind === 'missing') s.missing.push(stageName(w.stage));
    else if (w.kind === 'rotation-due') s.due.push(stageName(w.stage));
    else if (w.lowerStage) s.sameAs.push({ stage: stageName(w.stage), lower: stageName(w.lowerStage) });
  }
  const notes = new Map<string, SettingStatusNote[]>();
  for (const [setting, s] of bySetting) {
    const n: SettingStatusNote[] = [];
    if (s.missing.length) {
      n.push({ kind: 'missing', short: vscode.l10n.t('missing in {0}', list(s.missing)), long: vscode.l10n.t('No value in {0}: set it before you deploy.', list(s.missing)) });
    }
    for (const x of s.sameAs) {
      n.push({ kind: 'same-as-lower-stage', short: vscode.l10n.t('same as {0}', x.lower), long: vscode.l10n.t('{0} has the same secret as {1}: give {0} its own.', x.stage, x.lower) });
    }
    if (s.due.length) {
      n.push({ kind: 'rotation-due', short: vscode.l10n.t('rotation due'), long: vscode.l10n.t('Older than its rotationDays in {0}: rotate it.', list(s.due)) });
    }
    notes.set(setting, n);
  }
  return notes;
}

export class SettingStatusCache implements vscode.Disposable {
  private readonly apps = new Map<string, AppStatus>();
  private generation = 0;
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when an app's status arrived (the tree re-renders from the cache, asking nothing). */
  readonly onDidChange = this.changed.event;
  private readonly subscription: vscode.Disposable;
  /** Requests made to the portal (tests: one round per refresh, not per item). */
  requests = 0;

  constructor(
    private readonly session: Pick<PortalSession, 'session' | 'client' | 'onDidChange'>,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.subscription = session.onDidChange(() => this.invalidate());
  }

  /** No fetch under way (tests wait for this before asserting that nothing was asked). */
  get settled(): boolean {
    return ![...this.apps.values()].some((s) => s.state === 'loading');
  }

  /** Forgets every status; the next render asks the portal again (once per app). */
  invalidate(): void {
    this.generation++;
    this.apps.clear();
    this.changed.fire();
  }

  /** The setting's notes, or none while loading, signed out or unavailable. Starts the app's one fetch. */
  notesFor(appKey: string, setting: string): SettingStatusNote[] {
    const s = this.apps.get(appKey);
    if (!s) {
      this.load(appKey);
      return [];
    }
    return s.state === 'ready' ? (s.notes.get(setting) ?? []) : [];
  }

  /** Starts the app's fetch if there is none yet (the tree calls this when it lists the app's settings). */
  load(appKey: string): void {
    if (this.apps.has(appKey)) return;
    this.apps.set(appKey, { state: 'loading' });
    const generation = this.generation;
    void this.fetch(appKey).then(
      (notes) => {
        if (generation !== this.generation) return;
        this.apps.set(appKey, notes ? { state: 'ready', notes } : { state: 'none' });
        if (notes) this.changed.fire();
      },
      (err: unknown) => {
        if (generation !== this.generation) return;
        this.apps.set(appKey, { state: 'none' });
        this.log.debug(`settings tree: no stage status for ${appKey} (${err instanceof Error ? err.message : String(err)})`);
      },
    );
  }

  private async fetch(appKey: string): Promise<Map<string, SettingStatusNote[]> | undefined> {
    // Signed out: no request at all (getSession with silent: true asks the portal nothing).
    if (!(await this.session.session())) return undefined;
    const client = await this.session.client();
    this.requests += 2;
    // Both at once: one round. An empty stage list compares every configured stage.
    const [stages, compare] = await Promise.all([client.stages(), client.compare(appKey, [])]);
    const names = new Map(stages.stages.map((s) => [s.key, s.name]));
    // Only the warnings go on: the compare's values (non-secrets) are not kept.
    return notesFromWarnings(compare.warnings, (key) => names.get(key) ?? key);
  }

  dispose(): void {
    this.subscription.dispose();
    this.changed.dispose();
    this.apps.clear();
  }
}
