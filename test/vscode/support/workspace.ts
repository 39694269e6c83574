// Helpers for extension-host tests: the activated extension's test API, the open workspace
// folder, the definitions file on disk, and waiting for the UI to catch up.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { OdcSettingsApi } from '../../../extension/testApi';
import type { TreeNode } from '../../../extension/views/treeNodes';

export const EXTENSION_ID = 'odc-settings.odc-settings';

export async function activateExtension(): Promise<OdcSettingsApi> {
  const ext = vscode.extensions.getExtension<OdcSettingsApi>(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is loaded`);
  const api = ext.isActive ? ext.exports : await ext.activate();
  // activate() returns before the definitions files are read; the tests start from a loaded model.
  await api.ready;
  return api;
}

export function extensionRoot(): string {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(ext);
  return ext.extensionPath;
}

export function workspaceFolder(): vscode.WorkspaceFolder {
  const folder = vscode.workspace.workspaceFolders?.[0];
  assert.ok(folder, 'the test run opens a workspace folder');
  return folder;
}

export function definitionsPath(): string {
  return path.join(workspaceFolder().uri.fsPath, 'odc-app.json');
}

export function readDefinitionsText(): string {
  return fs.readFileSync(definitionsPath(), 'utf8');
}

export interface SettingJson {
  name: string;
  type: string;
  description?: string;
  defaultValue?: string;
  isSecret?: boolean;
}

export function readDefinitions(): { app: { key: string; name: string }; settings: SettingJson[] } {
  return JSON.parse(readDefinitionsText());
}

export function fixture(name: string): string {
  return fs.readFileSync(path.join(extensionRoot(), 'test/fixtures', name), 'utf8');
}

/** Reverts every unsaved document and closes every editor, so the disk is the only source. */
export async function closeAllEditors(): Promise<void> {
  // Only the workspace's own files: VS Code may hold its user settings.json as a dirty document
  // of its own (seen in multi-root runs), and showing that one races the workbench.
  const ours = (d: vscode.TextDocument) => d.isDirty && d.uri.scheme === 'file' && vscode.workspace.getWorkspaceFolder(d.uri) !== undefined;
  for (const doc of vscode.workspace.textDocuments.filter(ours)) {
    await vscode.window.showTextDocument(doc);
    await vscode.commands.executeCommand('workbench.action.files.revert');
  }
  await vscode.commands.executeCommand('workbench.action.closeAllEditors');
}

/** The definitions file's document, once VS Code has caught up with the disk. */
export async function openSyncedDocument(): Promise<vscode.TextDocument> {
  const doc = await vscode.workspace.openTextDocument(definitionsPath());
  // A document still loaded from before the file was rewritten with the same text matches the
  // disk but keeps the old timestamp, and its next save fails as "changed on disk". Revert in
  // its editor (forced: also for an unmodified file) reloads it.
  await vscode.window.showTextDocument(doc);
  await vscode.commands.executeCommand('workbench.action.files.revert');
  await waitFor(() => assert.equal(doc.getText(), readDefinitionsText()), 'the document to match the disk');
  return doc;
}

/** Writes the definitions file on disk (as a hand edit outside VS Code would) and waits until the tree shows it. */
export async function resetDefinitions(api: OdcSettingsApi, text: string): Promise<void> {
  await closeAllEditors();
  fs.writeFileSync(definitionsPath(), text);
  await vscode.commands.executeCommand('odcSettings.refresh');
  const expected = (() => {
    try {
      return (JSON.parse(text) as { settings: SettingJson[] }).settings.map((s) => s.name);
    } catch {
      return undefined;
    }
  })();
  if (expected) await waitFor(() => assert.deepEqual(treeSettings(api).map((s) => s.label), expected), 'the tree shows the reset file');
}

export function removeDefinitions(): void {
  fs.rmSync(definitionsPath(), { force: true });
}

export async function waitFor<T>(check: () => T | Promise<T>, what: string, timeoutMs = 8_000): Promise<T> {
  const started = Date.now();
  let last: unknown;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      last = err;
    }
    if (Date.now() - started > timeoutMs) {
      const e = new Error(`timed out after ${timeoutMs} ms waiting for: ${what}\nlast failure: ${(last as Error)?.message ?? last}`);
      throw e;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface ShownSetting {
  label: string;
  description: string;
  checked: boolean;
  icon: string | undefined;
  contextValue: string | undefined;
}

function labelOf(item: vscode.TreeItem): string {
  return typeof item.label === 'string' ? item.label : (item.label?.label ?? '');
}

/** The app nodes as the Settings view shows them. */
export async function treeApps(api: OdcSettingsApi): Promise<Array<{ label: string; description: string; node: TreeNode }>> {
  const roots = (await api.settingsTree.getChildren()) ?? [];
  return Promise.all(
    roots.map(async (node) => {
      const item = await api.settingsTree.getTreeItem(node);
      return { label: labelOf(item), description: String(item.description ?? ''), node };
    }),
  );
}

/** The setting rows under the first app, read through the view's data provider. */
export function treeSettings(api: OdcSettingsApi): ShownSetting[] {
  const provider = api.settingsTree;
  const roots = provider.getChildren() as TreeNode[];
  if (!roots?.length) return [];
  const children = (provider.getChildren(roots[0]) as TreeNode[]).filter((n) => n.kind === 'setting');
  return children.map((n) => {
    const item = provider.getTreeItem(n) as vscode.TreeItem;
    const cb = item.checkboxState;
    const state = typeof cb === 'object' && cb !== null ? cb.state : cb;
    return {
      label: labelOf(item),
      description: String(item.description ?? ''),
      checked: state === vscode.TreeItemCheckboxState.Checked,
      icon: item.iconPath instanceof vscode.ThemeIcon ? item.iconPath.id : undefined,
      contextValue: item.contextValue,
    };
  });
}
