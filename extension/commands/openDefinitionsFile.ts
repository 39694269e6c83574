// Open the definitions file; "reveal setting" also selects the setting's name in it.
import * as jsonc from 'jsonc-parser';
import * as vscode from 'vscode';
import type { Deps } from './deps';
import { parseArgs, resolveApp, resolveSetting, targetArgsSchema } from './targets';

export function openDefinitionsFileCommand(deps: Pick<Deps, 'model'>) {
  return async (arg?: unknown): Promise<void> => {
    parseArgs(targetArgsSchema, arg);
    const entry = await resolveApp(deps.model, arg);
    if (entry) await vscode.window.showTextDocument(entry.uri, { preview: false });
  };
}

export function revealSettingCommand(deps: Pick<Deps, 'model'>) {
  return async (arg?: unknown): Promise<void> => {
    parseArgs(targetArgsSchema, arg);
    const target = await resolveSetting(deps.model, arg, vscode.l10n.t('Show which setting?'));
    const root = target?.entry.parsed?.root;
    if (!target || !root) return;
    const doc = await vscode.workspace.openTextDocument(target.entry.uri);
    const node = jsonc.findNodeAtLocation(root, ['settings', target.setting.index, 'name']) ?? jsonc.findNodeAtLocation(root, ['settings', target.setting.index]);
    const range = node ? new vscode.Range(doc.positionAt(node.offset), doc.positionAt(node.offset + node.length)) : undefined;
    await vscode.window.showTextDocument(doc, { preview: true, preserveFocus: true, selection: range });
  };
}
