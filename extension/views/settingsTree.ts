// Data > Settings: an app node per workspace folder with a definitions file, a node per
// setting under it with an Is Secret checkbox, a lock icon for secrets, and the type and the
// default (or ***** for a secret) as the description. The file is the source of truth: the
// tree re-renders from the model whenever the file or its open editor changes.
import * as vscode from 'vscode';
import { SECRET_MASK } from '../../common/values';
import { COMMANDS } from '../constants';
import type { AppEntry, DefinitionsModel } from '../definitions/definitionsModel';
import type { LooseSetting, ParsedDefinitions } from '../definitions/definitionsText';
import type { SettingStatusCache } from './settingStatus';
import type { AppNode, MessageNode, SettingNode, TreeNode } from './treeNodes';

const MAX_SHOWN_DEFAULT = 60;

/** How a setting's type and default read in the tree; a secret's value is always the mask. */
export function settingDescription(s: LooseSetting): string {
  const type = s.rawType ?? vscode.l10n.t('no type');
  if (s.isSecret) return `${type} · ${SECRET_MASK}`;
  if (s.defaultValue === undefined) return type;
  const shown = s.type === 'Text' || s.defaultValue === '' ? JSON.stringify(s.defaultValue) : s.defaultValue;
  return `${type} · ${shown.length > MAX_SHOWN_DEFAULT ? shown.slice(0, MAX_SHOWN_DEFAULT - 1) + '…' : shown}`;
}

function problemsOfSetting(parsed: ParsedDefinitions, index: number): string[] {
  return parsed.problems.filter((p) => p.path[0] === 'settings' && p.path[1] === index).map((p) => p.message);
}

export class SettingsTreeProvider implements vscode.TreeDataProvider<TreeNode>, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<TreeNode | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private readonly subscriptions: vscode.Disposable[];

  constructor(
    private readonly model: DefinitionsModel,
    /** The portal's per-setting status (signed in only); re-renders when it arrives. */
    private readonly status?: SettingStatusCache,
  ) {
    // Any change re-renders the whole tree: it is small, and node identities are data, not objects.
    this.subscriptions = [model.onDidChange(() => this.changed.fire(undefined))];
    if (status) this.subscriptions.push(status.onDidChange(() => this.changed.fire(undefined)));
  }

  /** Re-render (also reverts a checkbox the user toggled when the change was declined). */
  refresh(): void {
    this.changed.fire(undefined);
  }

  getChildren(element?: TreeNode): TreeNode[] {
    if (!element) {
      return this.model.apps().map((e): AppNode => ({ kind: 'app', folder: e.folder.uri.toString() }));
    }
    if (element.kind !== 'app') return [];
    const entry = this.model.entryFor(element.folder);
    const parsed = entry?.parsed;
    if (!entry || !parsed) return [];
    if (parsed.app.key) this.status?.load(parsed.app.key);
    const nodes: TreeNode[] = [];
    if (parsed.syntaxErrors.length > 0) {
      nodes.push({ kind: 'message', folder: element.folder, text: vscode.l10n.t('{0} is not valid JSON: fix it to see every setting', entry.relativePath) });
    }
    for (const s of parsed.settings) nodes.push({ kind: 'setting', folder: element.folder, name: s.name, index: s.index } satisfies SettingNode);
    if (parsed.settings.length === 0 && parsed.syntaxErrors.length === 0) {
      nodes.push({ kind: 'message', folder: element.folder, text: vscode.l10n.t('No settings yet: add one with +') });
    }
    return nodes;
  }

  getParent(element: TreeNode): TreeNode | undefined {
    return element.kind === 'app' ? undefined : { kind: 'app', folder: element.folder };
  }

  getTreeItem(element: TreeNode): vscode.TreeItem {
    const entry = this.model.entryFor(element.folder);
    if (element.kind === 'app') return this.appItem(element, entry);
    if (element.kind === 'message') return this.messageItem(element, entry);
    const setting = entry?.parsed?.settings.find((s) => s.index === element.index && s.name === element.name);
    if (!entry?.parsed || !setting) return new vscode.TreeItem(element.name);
    return this.settingItem(element, entry, entry.parsed, setting);
  }

  private appItem(node: AppNode, entry: AppEntry | undefined): vscode.TreeItem {
    const parsed = entry?.parsed;
    const item = new vscode.TreeItem(parsed?.app.name || entry?.folder.name || vscode.l10n.t('app'), vscode.TreeItemCollapsibleState.Expanded);
    item.id = `app:${node.folder}`;
    item.contextValue = 'odcApp';
    const problemCount = parsed ? parsed.syntaxErrors.length + parsed.problems.length : 0;
    item.description = [parsed?.app.key, problemCount ? (problemCount > 1 ? vscode.l10n.t('{0} problems', problemCount) : vscode.l10n.t('{0} problem', problemCount)) : undefined].filter(Boolean).join(' · ');
    item.iconPath = new vscode.ThemeIcon(problemCount ? 'error' : 'package');
    item.resourceUri = entry?.uri;
    item.tooltip = entry ? `${entry.folder.name}/${entry.relativePath}` : undefined;
    return item;
  }

  private messageItem(node: MessageNode, entry: AppEntry | undefined): vscode.TreeItem {
    const item = new vscode.TreeItem(node.text, vscode.TreeItemCollapsibleState.None);
    item.id = `message:${node.folder}:${node.text}`;
    item.contextValue = 'odcMessage';
    item.iconPath = new vscode.ThemeIcon('info');
    if (entry) item.command = { command: COMMANDS.openDefinitionsFile, title: vscode.l10n.t('Open Definitions File'), arguments: [{ folder: node.folder }] };
    return item;
  }

  private settingItem(node: SettingNode, entry: AppEntry, parsed: ParsedDefinitions, s: LooseSetting): vscode.TreeItem {
    const item = new vscode.TreeItem(s.name, vscode.TreeItemCollapsibleState.None);
    item.id = `setting:${node.folder}#${s.index}:${s.name}`;
    // The portal's status ("missing in Production"), words only: never a value.
    const notes = parsed.app.key ? (this.status?.notesFor(parsed.app.key, s.name) ?? []) : [];
    item.description = [settingDescription(s), ...notes.map((n) => n.short)].join(' · ');
    item.contextValue = s.isSecret ? 'odcSetting.secret' : 'odcSetting';
    item.checkboxState = {
      state: s.isSecret ? vscode.TreeItemCheckboxState.Checked : vscode.TreeItemCheckboxState.Unchecked,
      tooltip: s.isSecret ? vscode.l10n.t('Is Secret: uncheck to make it a non-secret setting') : vscode.l10n.t('Is Secret: check to keep its value only in the portal, encrypted and never shown'),
      accessibilityInformation: { label: s.isSecret ? vscode.l10n.t('Is Secret, checked') : vscode.l10n.t('Is Secret, not checked') },
    };
    const problems = problemsOfSetting(parsed, s.index);
    const credential = parsed.credentialWarnings.find((w) => w.index === s.index);
    if (s.isSecret) item.iconPath = new vscode.ThemeIcon('lock');
    else if (problems.length) item.iconPath = new vscode.ThemeIcon('error', new vscode.ThemeColor('problemsErrorIcon.foreground'));
    else if (credential) item.iconPath = new vscode.ThemeIcon('warning', new vscode.ThemeColor('problemsWarningIcon.foreground'));
    else item.iconPath = new vscode.ThemeIcon('symbol-field');

    const md = new vscode.MarkdownString(undefined, false);
    const type = escapeMd(s.rawType ?? vscode.l10n.t('no type'));
    md.appendMarkdown((s.isSecret ? vscode.l10n.t('**{0}** · {1} · $(lock) secret', escapeMd(s.name), type) : `**${escapeMd(s.name)}** · ${type}`) + '\n\n');
    md.supportThemeIcons = true;
    if (s.description) md.appendMarkdown(`${escapeMd(s.description)}\n\n`);
    if (s.isSecret) md.appendMarkdown(vscode.l10n.t('Value set per stage in the portal; never shown ({0}).', SECRET_MASK) + '\n\n');
    else md.appendMarkdown((s.defaultValue === undefined ? vscode.l10n.t('No default value.') : vscode.l10n.t('Default value shown in the description.')) + '\n\n');
    for (const p of problems) md.appendMarkdown(`$(error) ${escapeMd(p)}\n\n`);
    if (credential) md.appendMarkdown(vscode.l10n.t('$(warning) The default looks like {0}: mark it secret.', escapeMd(credential.hint.kind)) + '\n\n');
    for (const n of notes) md.appendMarkdown(`${n.kind === 'rotation-due' ? '$(clock)' : '$(warning)'} ${escapeMd(n.long)}\n\n`);
    item.tooltip = md;
    item.command = { command: COMMANDS.revealSetting, title: vscode.l10n.t('Show in Definitions File'), arguments: [node] };
    return item;
  }

  dispose(): void {
    for (const d of this.subscriptions) d.dispose();
    this.changed.dispose();
  }
}

function escapeMd(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>]/g, (c) => `\\${c}`);
}
