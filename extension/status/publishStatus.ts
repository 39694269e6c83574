// The status bar item: which portal, signed in or not, the app's published revision and
// whether the local definitions differ from what is published (normalized comparison with
// GET /apps/:app, SPEC §3). Clicking it opens a small menu (publish, the changes since the
// published revision as a diff, sign out, the log) rather than publishing at once.
//
// The portal is asked at most once per save of a definitions file, publish, sign-in/out or
// server change: the answer is kept and the item is recomputed from it when the user types or
// switches editors, so neither costs a request.
import * as vscode from 'vscode';
import type { AppResponse } from '../../common/api';
import { normalizeDefinitions, type NormalizedDefinitions } from '../../common/definitions';
import { COMMANDS, CONTEXT } from '../constants';
import { setWalkthroughContext } from '../walkthroughProgress';
import type { AppEntry, DefinitionsModel } from '../definitions/definitionsModel';
import { isPublishable, newDefinitionsText } from '../definitions/definitionsText';
import { PortalError } from '../services/portalError';
import type { PortalSession } from '../services/session';

export type StatusState = 'hidden' | 'signed-out' | 'unpublished' | 'in-sync' | 'changed' | 'invalid' | 'error';

export interface StatusSnapshot {
  state: StatusState;
  text: string;
  tooltip: string;
  serverUrl?: string;
  app?: string;
  revision?: number;
  /** How many times the item was recomputed (tests wait for the next one). */
  updates: number;
}

/** The same definitions, compared field by field in a fixed order (settings' order counts). */
export function sameDefinitions(local: NormalizedDefinitions, published: AppResponse): boolean {
  const flat = (d: { app: { key: string; name: string }; settings: NormalizedDefinitions['settings'] }) =>
    JSON.stringify([d.app.key, d.app.name, d.settings.map((s) => [s.name, s.type, s.description, s.isSecret, s.defaultValue])]);
  return flat(local) === flat({ app: { key: published.key, name: published.name }, settings: published.settings });
}

/** The published definitions as a definitions file would hold them, for the diff's left side. */
export function publishedText(published: AppResponse): string {
  return newDefinitionsText(
    { key: published.key, name: published.name },
    published.settings.map((s) => ({
      name: s.name,
      type: s.type,
      ...(s.description ? { description: s.description } : {}),
      ...(s.isSecret ? { isSecret: true } : s.defaultValue !== null ? { defaultValue: s.defaultValue } : {}),
    })),
  );
}

export const PUBLISHED_SCHEME = 'odc-published';

/** What the portal said about an app: its published definitions, never published, or a failure. */
type PortalAnswer = { kind: 'published'; app: AppResponse } | { kind: 'unpublished' } | { kind: 'error'; message: string };

export interface StatusMenuItem extends vscode.QuickPickItem {
  run: () => unknown;
}

export class PublishStatus implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('odcSettings.publishStatus', vscode.StatusBarAlignment.Left, 50);
  private readonly disposables: vscode.Disposable[] = [];
  private snapshotValue: StatusSnapshot = { state: 'hidden', text: '', tooltip: '', updates: 0 };
  private timer: ReturnType<typeof setTimeout> | undefined;
  private sequence = 0;
  /** The portal's last answer per "serverUrl app"; cleared by a save, publish or session change. */
  private readonly answers = new Map<string, Promise<PortalAnswer>>();
  /** The published text per app key, served to the diff's left side. */
  private readonly publishedDocs = new Map<string, string>();
  private readonly publishedChanged = new vscode.EventEmitter<vscode.Uri>();

  constructor(
    private readonly model: DefinitionsModel,
    private readonly session: PortalSession,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.item.name = vscode.l10n.t('ODC Settings: publish status');
    this.disposables.push(
      this.item,
      this.publishedChanged,
      vscode.workspace.registerTextDocumentContentProvider(PUBLISHED_SCHEME, {
        onDidChange: this.publishedChanged.event,
        provideTextDocumentContent: (uri) => this.publishedDocs.get(uri.path.replace(/^\//, '').replace(/\.json$/, '')) ?? '',
      }),
      model.onDidChange(() => this.schedule()),
      session.onDidChange(() => {
        void this.updateSignedInContext();
        this.schedule(true);
      }),
      vscode.window.onDidChangeActiveTextEditor(() => this.schedule()),
      vscode.workspace.onDidSaveTextDocument((d) => {
        if (this.model.entryForFile(d.uri)) this.schedule(true);
      }),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('odcSettings')) this.schedule(true);
      }),
    );
    void this.updateSignedInContext();
  }

  snapshot(): StatusSnapshot {
    return this.snapshotValue;
  }

  /** Sign In is offered only while signed out, Sign Out only while signed in (package.json menus). */
  private async updateSignedInContext(): Promise<boolean> {
    let signedIn = false;
    try {
      signedIn = await this.session.isSignedIn();
    } catch {
      // A bad server URL: not signed in to anything.
    }
    await setWalkthroughContext(CONTEXT.signedIn, signedIn);
    return signedIn;
  }

  /** Debounced: typing in the file recomputes once it pauses; `requery` also forgets the portal's answer. */
  private schedule(requery = false): void {
    if (requery) this.answers.clear();
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.update(), 400);
  }

  /** The app the status is about: the active editor's folder's, else the first. */
  private currentApp(): AppEntry | undefined {
    const apps = this.model.apps();
    const active = vscode.window.activeTextEditor?.document.uri;
    const folder = active ? vscode.workspace.getWorkspaceFolder(active) : undefined;
    return apps.find((a) => folder && a.folder.uri.toString() === folder.uri.toString()) ?? apps[0];
  }

  /** Asks the portal again (after a publish, or when a test or command wants it now). */
  async refresh(): Promise<void> {
    this.answers.clear();
    await this.update();
  }

  private async update(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    const seq = ++this.sequence;
    const next = await this.compute();
    if (seq !== this.sequence) return;
    this.snapshotValue = { ...next, updates: this.snapshotValue.updates + 1 };
    if (next.state === 'hidden') {
      this.item.hide();
      return;
    }
    this.item.text = next.text;
    this.item.tooltip = next.tooltip;
    this.item.command = COMMANDS.statusMenu;
    this.item.backgroundColor = next.state === 'error' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.show();
  }

  private answer(serverUrl: string, key: string): Promise<PortalAnswer> {
    const cacheKey = `${serverUrl} ${key}`;
    let pending = this.answers.get(cacheKey);
    if (!pending) {
      pending = this.ask(key);
      this.answers.set(cacheKey, pending);
    }
    return pending;
  }

  private async ask(key: string): Promise<PortalAnswer> {
    try {
      const app = await (await this.session.client()).app(key);
      this.publishedDocs.set(key, publishedText(app));
      this.publishedChanged.fire(publishedUri(key));
      return { kind: 'published', app };
    } catch (err) {
      if (err instanceof PortalError && err.status === 404) return { kind: 'unpublished' };
      const message = err instanceof Error ? err.message : vscode.l10n.t('unexpected error');
      this.log.warn(`status: ${message}`);
      return { kind: 'error', message };
    }
  }

  private async compute(): Promise<Omit<StatusSnapshot, 'updates'>> {
    const entry = this.currentApp();
    if (!entry?.parsed) return { state: 'hidden', text: '', tooltip: '' };
    let serverUrl: string;
    try {
      serverUrl = this.session.serverUrl();
    } catch (err) {
      return { state: 'error', text: vscode.l10n.t('$(warning) ODC: server URL'), tooltip: (err as Error).message };
    }
    const signedIn = await this.updateSignedInContext();
    const key = entry.parsed.app.key ?? '?';
    if (!signedIn) return { state: 'signed-out', text: vscode.l10n.t('$(account) ODC: Sign In'), tooltip: vscode.l10n.t('Not signed in to the portal at {0}. Click for actions.', serverUrl), serverUrl, app: key };
    const answer = await this.answer(serverUrl, key);
    if (answer.kind === 'error') return { state: 'error', text: vscode.l10n.t('$(warning) {0}: portal error', key), tooltip: `${serverUrl}\n${answer.message}`, serverUrl, app: key };
    const published = answer.kind === 'published' ? answer.app : undefined;
    const revision = published?.revision ?? 0;
    if (!isPublishable(entry.parsed)) {
      return { state: 'invalid', text: `$(error) ${key} r${revision}`, tooltip: `${serverUrl}\n${vscode.l10n.t('The local definitions have problems (see the Problems panel); fix them to publish.')}`, serverUrl, app: key, revision };
    }
    if (!published) {
      return { state: 'unpublished', text: vscode.l10n.t('$(cloud-upload) {0}: not published', key), tooltip: `${serverUrl}\n${vscode.l10n.t('App "{0}" has never been published. Click for actions.', key)}`, serverUrl, app: key, revision };
    }
    const inSync = sameDefinitions(normalizeDefinitions(entry.parsed.doc), published);
    return inSync
      ? { state: 'in-sync', text: `$(cloud) ${key} r${revision}`, tooltip: `${serverUrl}\n${vscode.l10n.t('App "{0}" is published at revision {1} and matches {2}.', key, revision, entry.relativePath)}`, serverUrl, app: key, revision }
      : {
          state: 'changed',
          text: vscode.l10n.t('$(cloud-upload) {0} r{1} · changed', key, revision),
          tooltip: `${serverUrl}\n${vscode.l10n.t('{0} differs from revision {1} in the portal. Click for actions.', entry.relativePath, revision)}`,
          serverUrl,
          app: key,
          revision,
        };
  }

  /** The menu the item opens, for the current state. */
  menuItems(): StatusMenuItem[] {
    const s = this.snapshotValue;
    const run = (command: string) => () => vscode.commands.executeCommand(command);
    const items: StatusMenuItem[] = [];
    if (s.state === 'signed-out') {
      items.push({ label: vscode.l10n.t('$(account) Sign In'), description: s.serverUrl, run: run(COMMANDS.signIn) });
    } else {
      const publishDetail =
        s.state === 'in-sync'
          ? vscode.l10n.t('revision {0} matches the file', s.revision ?? 0)
          : s.state === 'unpublished'
            ? vscode.l10n.t('never published')
            : s.state === 'changed'
              ? vscode.l10n.t('the file differs from revision {0}', s.revision ?? 0)
              : undefined;
      items.push({ label: vscode.l10n.t('$(cloud-upload) Publish App'), description: [s.app, publishDetail].filter(Boolean).join(' · '), run: run(COMMANDS.publishApp) });
      if (s.revision) items.push({ label: vscode.l10n.t('$(diff) Show Changes Since the Published Revision'), description: vscode.l10n.t('revision {0}', s.revision), run: run(COMMANDS.showPublishedChanges) });
      items.push({ label: vscode.l10n.t('$(sign-out) Sign Out'), description: s.serverUrl, run: run(COMMANDS.signOut) });
    }
    items.push({ label: vscode.l10n.t('$(output) Open Log'), run: run(COMMANDS.showLog) });
    return items;
  }

  /** The status bar item's click. */
  async showMenu(): Promise<void> {
    await this.update();
    const picked = await vscode.window.showQuickPick(this.menuItems(), { title: this.snapshotValue.app ? vscode.l10n.t('ODC Settings: {0}', this.snapshotValue.app) : vscode.l10n.t('ODC Settings'), placeHolder: this.snapshotValue.tooltip.split('\n').pop() });
    await picked?.run();
  }

  /** The published revision (left) against the definitions file (right), in VS Code's diff editor. */
  async showPublishedChanges(): Promise<void> {
    const entry = this.currentApp();
    const key = entry?.parsed?.app.key;
    if (!entry || !key) throw new Error(vscode.l10n.t('this workspace has no definitions file with an app.key'));
    // Fresh: the diff is about what the portal has now.
    this.answers.delete(`${this.session.serverUrl()} ${key}`);
    const answer = await this.answer(this.session.serverUrl(), key);
    if (answer.kind === 'error') throw new Error(answer.message);
    if (answer.kind === 'unpublished') throw new Error(vscode.l10n.t('app "{0}" has never been published; there is nothing to compare with yet', key));
    void this.update();
    await vscode.commands.executeCommand(
      'vscode.diff',
      publishedUri(key),
      entry.uri,
      vscode.l10n.t('{0}: revision {1} (portal) ↔ {2}', key, answer.app.revision, entry.relativePath),
      { preview: true } satisfies vscode.TextDocumentShowOptions,
    );
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}

function publishedUri(key: string): vscode.Uri {
  return vscode.Uri.from({ scheme: PUBLISHED_SCHEME, path: `/${key}.json` });
}
