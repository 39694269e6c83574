// Completion, hover, go to definition and find references where code reads a setting (SPEC §15).
// The hover shows a setting's type, description, whether it is secret and, when signed in, which
// stages have a value and when each last changed: never a value (not a non-secret's, not a default).
import * as vscode from 'vscode';
import type { LooseSetting } from '../definitions/definitionsText';
import { spanOfPath } from '../definitions/definitionsText';
import type { AppEntry } from '../definitions/definitionsModel';
import { CODE_EXCLUDE, CODE_GLOB, languageOfPath, positionIn, positionsIn, type AppEnv, type CodeIndex } from './codeIndex';
import { completionSite, scanSource } from './scanner';
import type { StageStatusCache } from './stageStatus';

export class SettingCompletionProvider implements vscode.CompletionItemProvider {
  constructor(private readonly index: CodeIndex) {}

  provideCompletionItems(doc: vscode.TextDocument, position: vscode.Position): vscode.CompletionItem[] | undefined {
    const lang = this.index.language(doc);
    if (!lang) return undefined;
    const env = this.index.appFor(doc.uri);
    if (!env) return undefined;
    // The document's cached scan (JavaScript): no second pass over the file per keystroke.
    const site = completionSite(doc.getText(), doc.offsetAt(position), lang, this.index.scan(doc));
    if (!site) return undefined;
    const range = new vscode.Range(doc.positionAt(site.start), doc.positionAt(site.end));
    const items: vscode.CompletionItem[] = [];
    for (const [variable, names] of env.index.byVariable) {
      if (names.length !== 1) continue;
      const setting = env.settings.get(names[0]!)!;
      const item = new SettingCompletionItem({ label: variable, description: setting.isSecret ? vscode.l10n.t('secret') : setting.type }, setting.isSecret ? vscode.CompletionItemKind.Constant : vscode.CompletionItemKind.Variable, setting);
      item.range = range;
      item.detail = setting.isSecret ? vscode.l10n.t('{0} · {1} · secret', setting.name, setting.rawType ?? '?') : `${setting.name} · ${setting.rawType ?? '?'}`;
      // The description is added in resolveCompletionItem, for the item the user looks at: with
      // thousands of settings, sending every description with the list costs more than the list.
      // Settings first, ahead of words VS Code suggests from the file.
      item.sortText = `0_${variable}`;
      items.push(item);
    }
    return items;
  }

  resolveCompletionItem(item: vscode.CompletionItem): vscode.CompletionItem {
    // VS Code hands back the item this provider made (the extension host keeps it by id).
    if (item instanceof SettingCompletionItem) {
      item.documentation = new vscode.MarkdownString(item.setting.description ? escapeMarkdown(item.setting.description) : vscode.l10n.t('_No description._'));
    }
    return item;
  }
}

class SettingCompletionItem extends vscode.CompletionItem {
  constructor(
    label: vscode.CompletionItemLabel,
    kind: vscode.CompletionItemKind,
    readonly setting: LooseSetting,
  ) {
    super(label, kind);
  }
}

/** The read under the cursor, with its app and setting. */
export function readAt(index: CodeIndex, doc: vscode.TextDocument, position: vscode.Position) {
  const scan = index.scan(doc);
  if (!scan) return undefined;
  const offset = doc.offsetAt(position);
  const read = scan.reads.find((r) => offset >= r.start && offset <= r.end);
  if (!read) return undefined;
  const env = index.appFor(doc.uri);
  if (!env) return undefined;
  return { read, env, setting: index.settingOf(env, read.variable), range: new vscode.Range(doc.positionAt(read.start), doc.positionAt(read.end)) };
}

export class SettingHoverProvider implements vscode.HoverProvider {
  constructor(
    private readonly index: CodeIndex,
    private readonly stages: StageStatusCache,
  ) {}

  async provideHover(doc: vscode.TextDocument, position: vscode.Position): Promise<vscode.Hover | undefined> {
    const at = readAt(this.index, doc, position);
    if (!at?.setting) return undefined;
    const { setting, env } = at;
    const md = new vscode.MarkdownString();
    md.appendMarkdown(
      (setting.isSecret ? vscode.l10n.t('**{0}** · {1} · $(lock) secret', escapeMarkdown(setting.name), escapeMarkdown(setting.rawType ?? '?')) : vscode.l10n.t('**{0}** · {1} · not secret', escapeMarkdown(setting.name), escapeMarkdown(setting.rawType ?? '?'))) + '\n\n',
    );
    md.supportThemeIcons = true;
    if (setting.description) md.appendMarkdown(`${escapeMarkdown(setting.description)}\n\n`);
    if (!setting.isSecret && setting.defaultValue !== undefined) md.appendMarkdown(vscode.l10n.t('Has a default value.') + '\n\n');
    md.appendMarkdown(vscode.l10n.t('App {0}, {1}', escapeMarkdown(env.entry.parsed?.app.name ?? env.entry.folder.name), escapeMarkdown(env.entry.relativePath)) + '\n\n');
    const status = await this.stages.statusFor(env.entry, setting.name);
    if (status.kind === 'signed-out') md.appendMarkdown(vscode.l10n.t('_Sign in to the portal to see which stages have a value._'));
    else if (status.kind === 'unavailable') md.appendMarkdown(vscode.l10n.t('_Stage status unavailable: {0}_', escapeMarkdown(status.reason)));
    else if (status.kind === 'pending') md.appendMarkdown(vscode.l10n.t('_Stage status is loading; hover again in a moment._'));
    else {
      const lines = status.stages.map((s) => {
        const stage = escapeMarkdown(s.name);
        if (!s.published) return vscode.l10n.t('- {0}: not published yet', stage);
        if (!s.hasValue) return setting.isSecret ? vscode.l10n.t('- {0}: **missing**', stage) : s.hasDefault ? vscode.l10n.t('- {0}: no value (uses the default)', stage) : vscode.l10n.t('- {0}: no value', stage);
        if (!s.updatedAt) return vscode.l10n.t('- {0}: has a value', stage);
        const when = escapeMarkdown(s.updatedAt.replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC'));
        return s.updatedBy ? vscode.l10n.t('- {0}: has a value, changed {1} by {2}', stage, when, escapeMarkdown(s.updatedBy)) : vscode.l10n.t('- {0}: has a value, changed {1}', stage, when);
      });
      md.appendMarkdown(vscode.l10n.t('Stages:') + `\n\n${lines.join('\n')}`);
    }
    return new vscode.Hover(md, at.range);
  }
}

/** Where a setting is defined in its app's definitions file. */
export function settingLocation(entry: AppEntry, setting: LooseSetting): vscode.Location | undefined {
  const parsed = entry.parsed;
  if (!parsed) return undefined;
  const span = spanOfPath(parsed.root, ['settings', setting.index, 'name']);
  return new vscode.Location(entry.uri, new vscode.Range(positionIn(parsed.text, span.offset), positionIn(parsed.text, span.offset + span.length)));
}

export class SettingDefinitionProvider implements vscode.DefinitionProvider, vscode.ReferenceProvider {
  constructor(private readonly index: CodeIndex) {}

  provideDefinition(doc: vscode.TextDocument, position: vscode.Position): vscode.Location | undefined {
    const at = readAt(this.index, doc, position);
    return at?.setting ? settingLocation(at.env.entry, at.setting) : undefined;
  }

  async provideReferences(doc: vscode.TextDocument, position: vscode.Position, context: vscode.ReferenceContext, token: vscode.CancellationToken): Promise<vscode.Location[] | undefined> {
    const at = readAt(this.index, doc, position);
    if (!at?.setting) return undefined;
    const refs = await findReads(this.index, at.env, at.setting.name, token);
    const def = context.includeDeclaration ? settingLocation(at.env.entry, at.setting) : undefined;
    return def ? [def, ...refs] : refs;
  }
}

/** Every read of a setting's variable in the app's folder (open editors' text wins over the disk). */
export async function findReads(index: CodeIndex, env: AppEnv, settingName: string, token?: vscode.CancellationToken): Promise<vscode.Location[]> {
  const variables = [...env.index.byVariable].filter(([, names]) => names.includes(settingName)).map(([v]) => v);
  if (variables.length === 0) return [];
  const wanted = new Set(variables);
  const files = await vscode.workspace.findFiles(new vscode.RelativePattern(env.entry.folder, CODE_GLOB), CODE_EXCLUDE, 10_000, token);
  const open = new Map(vscode.workspace.textDocuments.map((d) => [d.uri.toString(), d]));
  const out: vscode.Location[] = [];
  const decoder = new TextDecoder();
  for (const uri of files.sort((a, b) => a.fsPath.localeCompare(b.fsPath))) {
    if (token?.isCancellationRequested) break;
    const doc = open.get(uri.toString());
    let text: string;
    let scan;
    if (doc && index.language(doc)) {
      text = doc.getText();
      scan = index.scan(doc)!;
    } else {
      const lang = languageOfPath(uri.path);
      if (!lang) continue;
      const bytes = await vscode.workspace.fs.readFile(uri);
      // A cheap test before tokenizing: most files read no setting at all.
      text = decoder.decode(bytes);
      if (!variables.some((v) => text.includes(v))) continue;
      scan = scanSource(text, lang);
    }
    const at = positionsIn(text);
    for (const r of scan.reads) {
      if (wanted.has(r.variable)) out.push(new vscode.Location(uri, new vscode.Range(at(r.start), at(r.end))));
    }
  }
  return out;
}

/** Escapes what would change the meaning of plain text in Markdown (emphasis, links, code, HTML). */
export function escapeMarkdown(text: string): string {
  return text.replace(/[\\`*_[\]<>#|]/g, '\\$&');
}
