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

/** What the tree shows for an app (kept while a new answer is on its way) and whether one is. */
interface AppStatus {
  shown: Map<string, SettingStatusNote[]> | undefined;
  loading: boolean;
  /** The invalidate round this entry answers (a newer round asks again). */
  generation: number;
}

/** The same notes for every setting (so the tree need not render again). */
function sameNotes(a: Map<string, SettingStatusNote[]> | undefined, b: Map<string, SettingStatusNote[]> | undefined): boolean {
  const key = (m: Map<string, SettingStatusNote[]> | undefined) => JSON.stringify([...(m ?? [])].filter(([, n]) => n.length > 0).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
  return key(a) === key(b);
}

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
    // Signed out or signed in elsewhere: what was shown belonged to the other session.
    this.subscription = session.onDidChange(() => this.forget());
  }

  /** No fetch under way (tests wait for this before asserting that nothing was asked). */
  get settled(): boolean {
    return ![...this.apps.values()].some((s) => s.loading);
  }

  /**
   * Asks the portal again (after a publish, a write or Refresh). What is shown stays until the
   * answer arrives, and the tree renders again only if the answer differs: a re-render under
   * the user's pointer can swallow a click on an Is Secret checkbox.
   */
  invalidate(): void {
    this.generation++;
    for (const appKey of [...this.apps.keys()]) this.load(appKey);
  }

  /** Drops every status at once (the session changed); the next render asks again. */
  private forget(): void {
    const anyShown = [...this.apps.values()].some((s) => s.shown !== undefined);
    this.apps.clear();
    if (anyShown) this.changed.fire();
  }

  /** The setting's notes, or none while loading, signed out or unavailable. Starts the app's one fetch. */
  notesFor(appKey: string, setting: string): SettingStatusNote[] {
    const s = this.apps.get(appKey);
    if (!s) {
      this.load(appKey);
      return [];
    }
    return s.shown?.get(setting) ?? [];
  }

  /** Starts the app's fetch unless one was started (under way or done) since the last invalidate. */
  load(appKey: string): void {
    const current = this.apps.get(appKey);
    if (current?.generation === this.generation) return;
    const entry: AppStatus = { shown: current?.shown, loading: true, generation: this.generation };
    this.apps.set(appKey, entry);
    const settle = (next: Map<string, SettingStatusNote[]> | undefined) => {
      // A newer round, or a sign-out, replaced the entry: this answer is stale.
      if (this.apps.get(appKey) !== entry) return;
      const changed = !sameNotes(entry.shown, next);
      entry.shown = next;
      entry.loading = false;
      if (changed) this.changed.fire();
    };
    void this.fetch(appKey).then(settle, (err: unknown) => {
      this.log.debug(`settings tree: no stage status for ${appKey} (${err instanceof Error ? err.message : String(err)})`);
      // Unknown now: show nothing rather than an answer that may be stale.
      settle(undefined);
    });
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
