// Which stages have a value of each setting, for the hover. Fetched once per app and kept for
// 30 s (shared by every hover in that time, in-flight fetches shared too), so hovering does not
// hammer the portal; a hover waits at most 1.5 s and otherwise says the status is loading.
// Only presence, when and by whom are kept: values are dropped as the answer arrives.
import type * as vscode from 'vscode';
import type { AppEntry } from '../definitions/definitionsModel';
import * as l10n from '../l10n';
import type { PortalSession } from '../services/session';

export interface StagePresence {
  key: string;
  name: string;
  /** false when the app (or this setting) is not published yet. */
  published: boolean;
  hasValue: boolean;
  hasDefault: boolean;
  updatedAt: string | null;
  updatedBy: string | null;
}

export type StageStatus =
  | { kind: 'signed-out' }
  | { kind: 'pending' }
  | { kind: 'unavailable'; reason: string }
  | { kind: 'ok'; stages: StagePresence[] };

type Snapshot = { stages: Array<{ key: string; name: string; settings: Map<string, Omit<StagePresence, 'key' | 'name' | 'published'>> | undefined }> };

const TTL_MS = 30_000;
const STAGE_LIST_TTL_MS = 5 * 60_000;

export class StageStatusCache implements vscode.Disposable {
  private readonly apps = new Map<string, { at: number; result: Promise<Snapshot | Error> }>();
  private stageList: { at: number; result: Promise<Array<{ key: string; name: string }>> } | undefined;
  private readonly subscription: vscode.Disposable;
  /** Requests made to the portal (for tests and the bench). */
  requests = 0;

  constructor(
    private readonly session: PortalSession,
    private readonly log: vscode.LogOutputChannel,
    private readonly waitMs = 1_500,
  ) {
    this.subscription = session.onDidChange(() => this.clear());
  }

  clear(): void {
    this.apps.clear();
    this.stageList = undefined;
  }

  async statusFor(entry: AppEntry, setting: string): Promise<StageStatus> {
    let signedIn: boolean;
    try {
      signedIn = await this.session.isSignedIn();
    } catch {
      return { kind: 'signed-out' };
    }
    if (!signedIn) return { kind: 'signed-out' };
    const app = entry.parsed?.app.key;
    if (!app) return { kind: 'unavailable', reason: l10n.t('the definitions file has no app key') };
    let cached = this.apps.get(app);
    if (!cached || Date.now() - cached.at > TTL_MS) {
      cached = { at: Date.now(), result: this.fetch(app).catch((err: unknown) => (err instanceof Error ? err : new Error(String(err)))) };
      this.apps.set(app, cached);
    }
    let timer: ReturnType<typeof setTimeout> | undefined;
    const result = await Promise.race([cached.result, new Promise<'pending'>((resolve) => (timer = setTimeout(() => resolve('pending'), this.waitMs)))]);
    clearTimeout(timer);
    if (result === 'pending') return { kind: 'pending' };
    if (result instanceof Error) return { kind: 'unavailable', reason: result.message };
    return {
      kind: 'ok',
      stages: result.stages.map((s) => {
        const p = s.settings?.get(setting);
        return p ? { key: s.key, name: s.name, published: true, ...p } : { key: s.key, name: s.name, published: false, hasValue: false, hasDefault: false, updatedAt: null, updatedBy: null };
      }),
    };
  }

  private async fetch(app: string): Promise<Snapshot> {
    const client = await this.session.client();
    if (!this.stageList || Date.now() - this.stageList.at > STAGE_LIST_TTL_MS) {
      this.requests++;
      const result = client.stages().then((r) => r.stages);
      this.stageList = { at: Date.now(), result };
      result.catch(() => (this.stageList = undefined));
    }
    const stages = await this.stageList.result;
    const { PortalError } = await import('../services/portalError');
    const answers = await Promise.all(
      stages.map(async (stage) => {
        this.requests++;
        try {
          const res = await client.stageSettings(app, stage.key);
          // Presence only: the values in the answer go no further than this line.
          const settings = new Map(res.settings.map((s) => [s.name, { hasValue: s.hasValue, hasDefault: s.defaultValue !== null, updatedAt: s.updatedAt, updatedBy: s.updatedBy }]));
          return { key: stage.key, name: stage.name, settings };
        } catch (err) {
          // Not published yet: every stage is "not published"; other failures are the hover's message.
          if (err instanceof PortalError && err.status === 404) return { key: stage.key, name: stage.name, settings: undefined };
          throw err;
        }
      }),
    );
    this.log.debug(`stage status of ${app} fetched for hovers (${stages.length} stages)`);
    return { stages: answers };
  }

  dispose(): void {
    this.subscription.dispose();
    this.clear();
  }
}
