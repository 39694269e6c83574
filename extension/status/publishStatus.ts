// The status bar item: which portal, signed in or not, the app's published revision and
// whether the local definitions differ from what is published (normalized comparison with
// GET /apps/:app, SPEC §3). Clicking it publishes, or signs in when signed out.
import * as vscode from 'vscode';
import type { AppResponse } from '../../common/api';
import { normalizeDefinitions, type NormalizedDefinitions } from '../../common/definitions';
import { COMMANDS, CONTEXT } from '../constants';
import type { AppEntry, DefinitionsModel } from '../definitions/definitionsModel';
import { isPublishable } from '../definitions/definitionsText';
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
}

/** The same definitions, compared field by field in a fixed order (settings' order counts). */
export function sameDefinitions(local: NormalizedDefinitions, published: AppResponse): boolean {
  const flat = (d: { app: { key: string; name: string }; settings: NormalizedDefinitions['settings'] }) =>
    JSON.stringify([d.app.key, d.app.name, d.settings.map((s) => [s.name, s.type, s.description, s.isSecret, s.defaultValue])]);
  return flat(local) === flat({ app: { key: published.key, name: published.name }, settings: published.settings });
}

export class PublishStatus implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem('odcSettings.publishStatus', vscode.StatusBarAlignment.Left, 50);
  private readonly disposables: vscode.Disposable[] = [];
  private snapshotValue: StatusSnapshot = { state: 'hidden', text: '', tooltip: '' };
  private timer: ReturnType<typeof setTimeout> | undefined;
  private sequence = 0;

  constructor(
    private readonly model: DefinitionsModel,
    private readonly session: PortalSession,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.item.name = 'ODC Settings: publish status';
    this.disposables.push(
      this.item,
      model.onDidChange(() => this.schedule()),
      session.onDidChange(() => this.schedule()),
      vscode.window.onDidChangeActiveTextEditor(() => this.schedule()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('odcSettings')) this.schedule();
      }),
    );
  }

  snapshot(): StatusSnapshot {
    return this.snapshotValue;
  }

  /** Debounced refresh: typing in the file does not call the server on every key. */
  private schedule(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), 400);
  }

  /** The app the status is about: the active editor's folder's, else the first. */
  private currentApp(): AppEntry | undefined {
    const apps = this.model.apps();
    const active = vscode.window.activeTextEditor?.document.uri;
    const folder = active ? vscode.workspace.getWorkspaceFolder(active) : undefined;
    return apps.find((a) => folder && a.folder.uri.toString() === folder.uri.toString()) ?? apps[0];
  }

  async refresh(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    const seq = ++this.sequence;
    const next = await this.compute();
    if (seq !== this.sequence) return;
    this.snapshotValue = next;
    if (next.state === 'hidden') {
      this.item.hide();
      return;
    }
    this.item.text = next.text;
    this.item.tooltip = next.tooltip;
    this.item.command = next.state === 'signed-out' ? COMMANDS.signIn : COMMANDS.publishApp;
    this.item.backgroundColor = next.state === 'error' ? new vscode.ThemeColor('statusBarItem.warningBackground') : undefined;
    this.item.show();
  }

  private async compute(): Promise<StatusSnapshot> {
    const entry = this.currentApp();
    if (!entry?.parsed) return { state: 'hidden', text: '', tooltip: '' };
    let serverUrl: string;
    try {
      serverUrl = this.session.serverUrl();
    } catch (err) {
      return { state: 'error', text: '$(warning) ODC: server URL', tooltip: (err as Error).message };
    }
    const signedIn = await this.session.isSignedIn();
    await vscode.commands.executeCommand('setContext', CONTEXT.signedIn, signedIn);
    const key = entry.parsed.app.key ?? '?';
    if (!signedIn) return { state: 'signed-out', text: '$(account) ODC: Sign In', tooltip: `Not signed in to the portal at ${serverUrl}. Click to sign in.`, serverUrl, app: key };
    let published: AppResponse | undefined;
    try {
      published = await (await this.session.client()).app(key);
    } catch (err) {
      if (err instanceof PortalError && err.status === 404) published = undefined;
      else {
        const message = err instanceof Error ? err.message : 'unexpected error';
        this.log.warn(`status: ${message}`);
        return { state: 'error', text: `$(warning) ${key}: portal error`, tooltip: `${serverUrl}\n${message}`, serverUrl, app: key };
      }
    }
    const revision = published?.revision ?? 0;
    if (!isPublishable(entry.parsed)) {
      return { state: 'invalid', text: `$(error) ${key} r${revision}`, tooltip: `${serverUrl}\nThe local definitions have problems (see the Problems panel); fix them to publish.`, serverUrl, app: key, revision };
    }
    if (!published) {
      return { state: 'unpublished', text: `$(cloud-upload) ${key}: not published`, tooltip: `${serverUrl}\nApp "${key}" has never been published. Click to publish.`, serverUrl, app: key, revision };
    }
    const inSync = sameDefinitions(normalizeDefinitions(entry.parsed.doc), published);
    return inSync
      ? { state: 'in-sync', text: `$(cloud) ${key} r${revision}`, tooltip: `${serverUrl}\nApp "${key}" is published at revision ${revision} and matches ${entry.relativePath}.`, serverUrl, app: key, revision }
      : {
          state: 'changed',
          text: `$(cloud-upload) ${key} r${revision} · changed`,
          tooltip: `${serverUrl}\n${entry.relativePath} differs from revision ${revision} in the portal. Click to publish.`,
          serverUrl,
          app: key,
          revision,
        };
  }

  dispose(): void {
    if (this.timer) clearTimeout(this.timer);
    for (const d of this.disposables) d.dispose();
  }
}
