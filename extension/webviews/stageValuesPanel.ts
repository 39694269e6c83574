// The "Stage Values" webview panel (ODC Portal's settings section for one app in one stage):
// one panel per app, fed from the portal through the extension host. The webview never talks
// to the server and never receives a secret's value (see StageValuesController).
import * as vscode from 'vscode';
import type { DefinitionsModel } from '../definitions/definitionsModel';
import type { PortalSession } from '../services/session';
import { isTreeNode } from '../views/treeNodes';
import { makeNonce, stageValuesHtml } from './html';
import { StageValuesController } from './stageValuesController';

export const OPEN_STAGE_VALUES_COMMAND = 'odcSettings.openStageValues';
const VIEW_TYPE = 'odcSettings.stageValues';

export interface StageValuesDeps {
  session: PortalSession;
  log?: vscode.LogOutputChannel;
  /** The workspace's definitions files: which app a tree node or the palette means. */
  model?: Pick<DefinitionsModel, 'apps' | 'entryFor'>;
  /** Resolves once the model has read the definitions files (activation does not wait for it). */
  ready?: Promise<void>;
}

/** What the command accepts besides a tree node: an app key, or `{ appKey, stage? }` (other commands, tests). */
export function parseOpenArgs(arg: unknown): { appKey?: string; stage?: string } {
  if (typeof arg === 'string' && arg) return { appKey: arg };
  if (typeof arg !== 'object' || arg === null || isTreeNode(arg)) return {};
  const o = arg as Record<string, unknown>;
  const str = (v: unknown) => (typeof v === 'string' && v ? v : undefined);
  return { appKey: str(o.appKey), stage: str(o.stage) };
}

class StageValuesPanel {
  private readonly controller: StageValuesController;
  private readonly disposables: vscode.Disposable[] = [];

  constructor(
    readonly panel: vscode.WebviewPanel,
    readonly appKey: string,
    extensionUri: vscode.Uri,
    deps: StageValuesDeps,
    initialStage: string | undefined,
    onDispose: () => void,
  ) {
    const webview = panel.webview;
    const assets = vscode.Uri.joinPath(extensionUri, 'dist', 'webview');
    const baseTitle = `Stage Values: ${appKey}`;
    this.controller = new StageValuesController({
      appKey,
      initialStage,
      client: () => deps.session.client(),
      post: (m) => webview.postMessage(m),
      log: (level, line) => deps.log?.[level](line),
      onDirtyChange: (count) => {
        panel.title = count > 0 ? `● ${baseTitle}` : baseTitle;
      },
    });
    webview.html = stageValuesHtml({
      cspSource: webview.cspSource,
      nonce: makeNonce(),
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(assets, 'main.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(assets, 'main.css')).toString(),
      codiconsUri: webview.asWebviewUri(vscode.Uri.joinPath(assets, 'codicon.css')).toString(),
      title: baseTitle,
    });
    this.disposables.push(
      webview.onDidReceiveMessage((m: unknown) => this.controller.handle(m)),
      deps.session.onDidChange(() => this.controller.notify('host/refresh', { reason: 'session' })),
      panel.onDidDispose(() => {
        this.controller.dispose();
        for (const d of this.disposables.splice(0)) d.dispose();
        onDispose();
      }),
    );
  }

  /** The app was published from this window: reload the settings (edits are kept). */
  published(): void {
    this.controller.notify('host/refresh', { reason: 'published' });
  }

  reveal(stage: string | undefined): void {
    this.panel.reveal();
    if (stage) this.controller.notify('host/showStage', { stage });
  }
}

/** The app: the tree node's, the workspace's (asking when there are several), else one the portal has. */
async function pickApp(deps: StageValuesDeps, arg: unknown): Promise<string | undefined> {
  if (isTreeNode(arg)) {
    const key = deps.model?.entryFor(arg.folder)?.parsed?.app.key;
    if (!key) throw new Error('This app has no valid app.key in its definitions file yet; fix the file and publish it first.');
    return key;
  }
  const local = (deps.model?.apps() ?? []).flatMap((e) => (e.parsed?.app.key ? [{ key: e.parsed.app.key, name: e.parsed.app.name ?? e.folder.name, folder: e.folder.name }] : []));
  if (local.length === 1) return local[0]!.key;
  if (local.length > 1) {
    const picked = await vscode.window.showQuickPick(
      local.map((a) => ({ label: a.name, description: a.key, detail: a.folder, key: a.key })),
      { title: 'Open Stage Values', placeHolder: 'Which app?' },
    );
    return picked?.key;
  }
  const { apps } = await (await deps.session.client()).apps();
  if (apps.length === 0) throw new Error('No app is published to the portal yet. Run "ODC: Publish App" first.');
  if (apps.length === 1) return apps[0]!.key;
  const picked = await vscode.window.showQuickPick(
    apps.map((a) => ({ label: a.name, description: a.key, detail: `revision ${a.revision}`, key: a.key })),
    { title: 'Open Stage Values', placeHolder: 'Which app?' },
  );
  return picked?.key;
}

/** Registers "ODC: Open Stage Values". Everything it creates is owned by context.subscriptions. */
export function registerStageValues(context: vscode.ExtensionContext, deps: StageValuesDeps): { published: (appKey: string) => void } {
  const panels = new Map<string, StageValuesPanel>();

  const open = async (arg?: unknown) => {
    try {
      await deps.ready;
      const { appKey: given, stage } = parseOpenArgs(arg);
      const appKey = given ?? (await pickApp(deps, arg));
      if (!appKey) return;
      const existing = panels.get(appKey);
      if (existing) {
        existing.reveal(stage);
        return;
      }
      const panel = vscode.window.createWebviewPanel(VIEW_TYPE, `Stage Values: ${appKey}`, vscode.ViewColumn.Active, {
        enableScripts: true,
        enableCommandUris: false,
        // Unsaved edits, secrets typed included, live only in the webview's memory: keep it while
        // the tab is hidden instead of persisting them with setState (which VS Code writes to disk).
        retainContextWhenHidden: true,
        localResourceRoots: [vscode.Uri.joinPath(context.extensionUri, 'dist', 'webview')],
      });
      panels.set(appKey, new StageValuesPanel(panel, appKey, context.extensionUri, deps, stage, () => panels.delete(appKey)));
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      deps.log?.error(`Open Stage Values: ${message}`);
      void vscode.window.showErrorMessage(message);
    }
  };

  context.subscriptions.push(
    vscode.commands.registerCommand(OPEN_STAGE_VALUES_COMMAND, open),
    { dispose: () => { for (const p of [...panels.values()]) p.panel.dispose(); } },
  );
  return { published: (appKey) => panels.get(appKey)?.published() };
}
