// The "Stage Values" editor (ODC Portal's settings section for one app in one stage): a custom
// editor on a virtual resource, `odc-stage:/<app>/Stage Values: <app>`, one per app, fed from
// the portal through the extension host. The webview never talks to the server and never
// receives a secret's value (see StageValuesController).
//
// Why a custom editor and not a plain webview panel: VS Code then owns the editor's unsaved
// state. The tab shows it, Ctrl+S saves (to the portal), and closing the tab or the window with
// unsaved edits asks Save / Don't Save / Cancel. The edits themselves (secrets typed included)
// live only in the webview's memory: this provider refuses every backup, so VS Code never writes
// them to its backups folder, and the webview never calls setState (whose state VS Code would
// persist); hot exit is therefore off for this editor, and VS Code asks instead.
// With auto-save on (files.autoSave; VS Code in a browser defaults to afterDelay) VS Code would
// save a dirty editor a second after each pause in typing, writing half-typed values to a
// stage; an extension cannot exempt one custom editor from it (the setting is read for an
// internal working-copy resource). So while auto-save is on the editor does not tell VS Code it
// is dirty: only the webview's own Save writes, as before, and closing does not ask.
import * as vscode from 'vscode';
import type { RequestParams, WebviewNotifications } from '../../common/protocol';
import type { DefinitionsModel } from '../definitions/definitionsModel';
import type { PortalSession } from '../services/session';
import { isTreeNode } from '../views/treeNodes';
import { makeNonce, stageValuesHtml } from './html';
import { StageValuesController } from './stageValuesController';
import { completeWalkthroughStep } from '../walkthroughProgress';

export const OPEN_STAGE_VALUES_COMMAND = 'odcSettings.openStageValues';
export const STAGE_VALUES_VIEW_TYPE = 'odcSettings.stageValues';
export const STAGE_SCHEME = 'odc-stage';

export interface StageValuesDeps {
  session: PortalSession;
  log?: vscode.LogOutputChannel;
  /** The workspace's definitions files: which app a tree node or the palette means. */
  model?: Pick<DefinitionsModel, 'apps' | 'entryFor'>;
  /** Resolves once the model has read the definitions files (activation does not wait for it). */
  ready?: Promise<void>;
  /** A save, restore or promote landed for this app (the Settings tree's status refreshes). */
  onWritten?: (appKey: string) => void;
}

/** What the command accepts besides a tree node: an app key, or `{ appKey, stage?, settings? }` (other commands, tests). */
export function parseOpenArgs(arg: unknown): { appKey?: string; stage?: string; settings?: string[] } {
  if (typeof arg === 'string' && arg) return { appKey: arg };
  if (typeof arg !== 'object' || arg === null || isTreeNode(arg)) return {};
  const o = arg as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  // `settings`: only these rows (Publish App's "Set the N new secrets…"); names only, capped.
  const settings = Array.isArray(o.settings) ? o.settings.filter((s): s is string => typeof s === 'string' && s.length > 0 && s.length <= 100).slice(0, 10_000) : [];
  return { appKey: str(o.appKey), stage: str(o.stage), ...(settings.length ? { settings } : {}) };
}

/** The editor's resource for an app; its last path segment is the tab's title. */
export function stageValuesUri(appKey: string): vscode.Uri {
  return vscode.Uri.from({ scheme: STAGE_SCHEME, path: `/${appKey}/${vscode.l10n.t('Stage Values: {0}', appKey)}` });
}

function appKeyOf(uri: vscode.Uri): string {
  const key = uri.path.split('/')[1];
  if (uri.scheme !== STAGE_SCHEME || !key) throw new Error(vscode.l10n.t('not a Stage Values resource: {0}', uri.toString()));
  return key;
}

/** Why a backup is refused (VS Code logs it; the user is asked on close instead). */
export const NO_BACKUP_MESSAGE = vscode.l10n.t('Stage Values are never backed up: unsaved edits may hold secrets, which must not be written to disk.');

/** One app's Stage Values: the webview's unsaved edits, and the controller that talks to it. */
export class StageValuesDocument implements vscode.CustomDocument {
  controller: StageValuesController | undefined;
  /** What VS Code believes (it marks the editor dirty on our change event, clean after save/revert). */
  dirtyInVsCode = false;
  /** The webview's count of unsaved edits across stages. */
  edits = 0;
  private nextSave = 1;
  private readonly saves = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();

  constructor(
    readonly uri: vscode.Uri,
    readonly appKey: string,
    private readonly onDisposed: () => void,
  ) {}

  /** VS Code's save: the webview saves every stage's edits; fails (stays dirty) if any is refused. */
  save(cancellation?: vscode.CancellationToken): Promise<void> {
    if (!this.controller || this.edits === 0) return Promise.resolve();
    const id = this.nextSave++;
    return new Promise<void>((resolve, reject) => {
      this.saves.set(id, { resolve, reject });
      cancellation?.onCancellationRequested(() => {
        this.saves.delete(id);
        reject(new vscode.CancellationError());
      });
      this.controller!.notify('host/save', { id });
    });
  }

  saved(result: WebviewNotifications['webview/saved']): void {
    const pending = this.saves.get(result.id);
    if (!pending) return;
    this.saves.delete(result.id);
    if (result.ok) pending.resolve();
    else pending.reject(new Error(result.message ?? vscode.l10n.t('The stage values were not saved.')));
  }

  revert(): void {
    this.controller?.notify('host/revert', {});
  }

  dispose(): void {
    for (const p of this.saves.values()) p.reject(new Error(vscode.l10n.t('the Stage Values editor was closed')));
    this.saves.clear();
    this.controller?.dispose();
    this.controller = undefined;
    this.onDisposed();
  }
}

export class StageValuesEditorProvider implements vscode.CustomEditorProvider<StageValuesDocument> {
  private readonly changed = new vscode.EventEmitter<vscode.CustomDocumentContentChangeEvent<StageValuesDocument>>();
  readonly onDidChangeCustomDocument = this.changed.event;
  readonly documents = new Map<string, StageValuesDocument>();
  /** The stage to show first in an editor about to open, per app. */
  readonly initialStage = new Map<string, string>();
  /** The settings to show only, in an editor about to open, per app. */
  readonly initialSettings = new Map<string, string[]>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly deps: StageValuesDeps,
  ) {}

  openCustomDocument(uri: vscode.Uri, context: vscode.CustomDocumentOpenContext): StageValuesDocument {
    // There is never a backup to restore (backupCustomDocument refuses), whatever VS Code passes.
    if (context.backupId) this.deps.log?.warn('Stage Values: ignoring a backup id; edits are never backed up');
    const appKey = appKeyOf(uri);
    const doc = new StageValuesDocument(uri, appKey, () => this.documents.delete(appKey));
    this.documents.set(appKey, doc);
    return doc;
  }

  resolveCustomEditor(document: StageValuesDocument, panel: vscode.WebviewPanel): void {
    const { appKey } = document;
    const webview = panel.webview;
    webview.options = { enableScripts: true, enableCommandUris: false, localResourceRoots: [vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview')] };
    const assets = vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview');
    const initialStage = this.initialStage.get(appKey);
    this.initialStage.delete(appKey);
    const initialSettings = this.initialSettings.get(appKey);
    this.initialSettings.delete(appKey);
    const controller = new StageValuesController({
      appKey,
      initialStage,
      initialSettings,
      client: () => this.deps.session.client(),
      post: (m) => webview.postMessage(m),
      log: (level, line) => this.deps.log?.[level](line),
      onDirtyChange: (count) => this.dirtyChanged(document, count),
      onSaved: (result) => document.saved(result),
      confirmDiscard: (p) => confirmDiscard(p),
      // Banner actions (Sign In, Publish App, ...): the controller allows only its own list.
      executeCommand: (command, ...args) => vscode.commands.executeCommand(command, ...args),
      onWritten: () => this.deps.onWritten?.(appKey),
    });
    document.controller = controller;
    webview.html = stageValuesHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(assets, 'main.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(assets, 'main.css')).toString(),
      codiconsUri: webview.asWebviewUri(vscode.Uri.joinPath(assets, 'codicon.css')).toString(),
      title: vscode.l10n.t('Stage Values: {0}', appKey),
    });
    const subs = [
      webview.onDidReceiveMessage((m: unknown) => controller.handle(m)),
      this.deps.session.onDidChange(() => controller.notify('host/refresh', { reason: 'session' })),
    ];
    panel.onDidDispose(() => {
      for (const d of subs) d.dispose();
    });
  }

  /** Keeps VS Code's dirty marker in step with the webview's count of unsaved edits. */
  private dirtyChanged(document: StageValuesDocument, count: number): void {
    document.edits = count;
    if (count > 0 && !document.dirtyInVsCode && autoSaveIsOn()) {
      this.deps.log?.info(`[stage values ${document.appKey}] files.autoSave is on: VS Code is not told about unsaved edits, so it cannot save them by itself; use Save`);
    } else if (count > 0 && !document.dirtyInVsCode) {
      document.dirtyInVsCode = true;
      this.changed.fire({ document });
    } else if (count === 0 && document.dirtyInVsCode) {
      // Saved or discarded in the webview itself: a save with nothing to write clears the marker.
      void vscode.workspace.save(document.uri);
    }
  }

  async saveCustomDocument(document: StageValuesDocument, cancellation: vscode.CancellationToken): Promise<void> {
    await document.save(cancellation);
    document.dirtyInVsCode = false;
  }

  saveCustomDocumentAs(): Promise<void> {
    return Promise.reject(new Error(vscode.l10n.t('Stage values are saved to the portal; "Save As" does not apply. Use Save (Ctrl+S).')));
  }

  async revertCustomDocument(document: StageValuesDocument): Promise<void> {
    document.revert();
    document.dirtyInVsCode = false;
  }

  /** Refused, always: see the file's header. VS Code then asks on close instead of restoring. */
  backupCustomDocument(document: StageValuesDocument, _context?: vscode.CustomDocumentBackupContext, _cancellation?: vscode.CancellationToken): Promise<vscode.CustomDocumentBackup> {
    this.deps.log?.info(`[stage values ${document.appKey}] refused a backup of unsaved edits (they may hold secrets)`);
    return Promise.reject(new Error(NO_BACKUP_MESSAGE));
  }

  dispose(): void {
    this.changed.dispose();
  }
}

function autoSaveIsOn(): boolean {
  return (vscode.workspace.getConfiguration('files').get<string>('autoSave') ?? 'off') !== 'off';
}

async function confirmDiscard(p: RequestParams<'panel/confirmDiscard'>): Promise<boolean> {
  const label = vscode.l10n.t('Discard');
  const answer = await vscode.window.showWarningMessage(
    p.count === 1 ? vscode.l10n.t('Discard {0} unsaved edit in {1}?', p.count, p.stage) : vscode.l10n.t('Discard {0} unsaved edits in {1}?', p.count, p.stage),
    { modal: true, detail: vscode.l10n.t('What you typed is dropped and cannot be brought back; the portal is not changed.') },
    label,
  );
  return answer === label;
}

/** The app: the tree node's, the workspace's (asking when there are several), else one the portal has. */
async function pickApp(deps: StageValuesDeps, arg: unknown): Promise<string | undefined> {
  if (isTreeNode(arg)) {
    const key = deps.model?.entryFor(arg.folder)?.parsed?.app.key;
    if (!key) throw new Error(vscode.l10n.t('This app has no valid app.key in its definitions file yet; fix the file and publish it first.'));
    return key;
  }
  const local = (deps.model?.apps() ?? []).flatMap((e) => (e.parsed?.app.key ? [{ key: e.parsed.app.key, name: e.parsed.app.name ?? e.folder.name, folder: e.folder.name }] : []));
  if (local.length === 1) return local[0]!.key;
  if (local.length > 1) {
    const picked = await vscode.window.showQuickPick(
      local.map((a) => ({ label: a.name, description: a.key, detail: a.folder, key: a.key })),
      { title: vscode.l10n.t('Open Stage Values'), placeHolder: vscode.l10n.t('Which app?') },
    );
    return picked?.key;
  }
  const { apps } = await (await deps.session.client()).apps();
  if (apps.length === 0) throw new Error(vscode.l10n.t('No app is published to the portal yet. Run "ODC: Publish App" first.'));
  if (apps.length === 1) return apps[0]!.key;
  const picked = await vscode.window.showQuickPick(
    apps.map((a) => ({ label: a.name, description: a.key, detail: vscode.l10n.t('revision {0}', a.revision), key: a.key })),
    { title: vscode.l10n.t('Open Stage Values'), placeHolder: vscode.l10n.t('Which app?') },
  );
  return picked?.key;
}

/** Registers the Stage Values editor and "ODC: Open Stage Values". Everything is owned by context.subscriptions. */
export function registerStageValues(context: vscode.ExtensionContext, deps: StageValuesDeps): { published: (appKey: string) => void; provider: StageValuesEditorProvider } {
  const provider = new StageValuesEditorProvider(context.extensionUri, deps);

  const open = async (arg?: unknown) => {
    try {
      await deps.ready;
      const { appKey: given, stage, settings } = parseOpenArgs(arg);
      const appKey = given ?? (await pickApp(deps, arg));
      if (!appKey) return;
      const existing = provider.documents.get(appKey);
      if (stage && !existing) provider.initialStage.set(appKey, stage);
      if (settings && !existing) provider.initialSettings.set(appKey, settings);
      await vscode.commands.executeCommand('vscode.openWith', stageValuesUri(appKey), STAGE_VALUES_VIEW_TYPE, { viewColumn: vscode.ViewColumn.Active, preview: false });
      if (existing && (stage || settings)) existing.controller?.notify('host/showStage', { stage: stage ?? '', ...(settings ? { settings } : {}) });
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      deps.log?.error(`Open Stage Values: ${message}`);
      void vscode.window.showErrorMessage(message);
    }
  };

  context.subscriptions.push(
    provider,
    vscode.window.registerCustomEditorProvider(STAGE_VALUES_VIEW_TYPE, provider, {
      // Unsaved edits, secrets typed included, live only in the webview's memory: keep it while
      // the tab is hidden instead of persisting them with setState (which VS Code writes to disk).
      webviewOptions: { retainContextWhenHidden: true },
      supportsMultipleEditorsPerDocument: false,
    }),
    vscode.commands.registerCommand(OPEN_STAGE_VALUES_COMMAND, (...args: Parameters<typeof open>) => {
      // The walkthrough's last step (its onCommand event is missed while the walkthrough service sleeps).
      completeWalkthroughStep('stageValues');
      return open(...args);
    }),
  );
  return {
    published: (appKey) => provider.documents.get(appKey)?.controller?.notify('host/refresh', { reason: 'published' }),
    provider,
  };
}
