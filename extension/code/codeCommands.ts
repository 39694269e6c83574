// Commands of the code intelligence (SPEC §15, §16):
// - "Move to a secret setting" (the quick fix on a hard-coded credential): adds a secret setting,
//   replaces the literal with the language's environment read and saves the file, then (signed
//   in, after asking) publishes the app and sets the literal as the Development value, saying it
//   stays in version-control history and should be rotated. The literal is held in memory only.
// - "Find References in Code" from a Settings tree item: every read of its variable.
// - "Import .env into Stage…": dotenv's parse, the shared preview, one all-or-nothing write.
// No value from code or a .env file reaches a log, a message or VS Code state.
import * as vscode from 'vscode';
import { z } from 'zod';
import { envName } from '../../common/envNames';
import { checkSettingName } from '../../common/definitions';
import { formatImportRow, previewDotenvImport, summarizeImport, type ImportRow } from '../../common/dotenvImport';
import { COMMANDS } from '../constants';
import type { Deps } from '../commands/deps';
import type { PublishOutcome } from '../commands/publishApp';
import { CommandInputError, parseArgs, resolveApp, resolveSetting, targetArgsSchema } from '../commands/targets';
import { validateNewSettingName } from '../ui/prompts';
import type { CodeIndex } from './codeIndex';
import { suggestSettingName } from './codeCredentials';
import { findReads, settingLocation } from './providers';

type CodeDeps = Pick<Deps, 'model' | 'log' | 'session' | 'confirm' | 'refreshTree'> & { index: CodeIndex };

const moveArgsSchema = z.object({
  uri: z.string(),
  offset: z.number().int().nonnegative(),
  /** Skips the name prompt (tests, scripts). */
  name: z.string().optional(),
});

export type MoveOutcome = { status: 'cancelled' } | { status: 'moved'; name: string; variable: string; developmentValueSet: boolean; reason?: string };

/** Decodes the escapes of a JS or Python string literal's raw text (the common ones). */
export function decodeLiteral(raw: string): string {
  if (!raw.includes('\\')) return raw;
  return raw.replace(/\\(u\{[0-9a-fA-F]+\}|u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|[\s\S])/g, (_m, e: string) => {
    if (e.startsWith('u{')) return String.fromCodePoint(parseInt(e.slice(2, -1), 16));
    if (e.length > 1) return String.fromCharCode(parseInt(e.slice(1), 16));
    return ({ n: '\n', t: '\t', r: '\r', b: '\b', f: '\f', v: '\v', '0': '\0', '\n': '' } as Record<string, string>)[e] ?? e;
  });
}

export function moveToSecretCommand(deps: CodeDeps) {
  return async (arg?: unknown): Promise<MoveOutcome> => {
    const args = moveArgsSchema.safeParse(arg);
    if (!args.success) throw new CommandInputError(vscode.l10n.t('"Move to a secret setting" runs from the quick fix on a hard-coded credential'));
    const doc = await vscode.workspace.openTextDocument(vscode.Uri.parse(args.data.uri));
    const lang = deps.index.language(doc);
    const scan = deps.index.scan(doc);
    const literal = scan?.strings.find((s) => s.start === args.data.offset);
    if (!lang || !scan || !literal) throw new CommandInputError(vscode.l10n.t('the string has changed since the warning; run the quick fix again'));
    const env = deps.index.appFor(doc.uri);
    if (!env?.entry.parsed) throw new CommandInputError(vscode.l10n.t('this file is not in a folder with an app definitions file (odc-app.json)'));
    const entry = env.entry;
    const existing = entry.parsed!.settings.map((s) => s.name);
    const name =
      args.data.name ??
      (await vscode.window.showInputBox({
        title: vscode.l10n.t('Move to a secret setting'),
        prompt: vscode.l10n.t('Name of the new secret setting (read as {0}UPPER_SNAKE_CASE)', env.prefix),
        value: suggestSettingName(literal.context, existing),
        ignoreFocusOut: true,
        validateInput: (v) => validateNewSettingName(v, existing) ?? (deps.index.settingOf(env, envName(v, env.prefix)) ? vscode.l10n.t('another setting already maps to {0}', envName(v, env.prefix)) : undefined),
      }));
    if (name === undefined) return { status: 'cancelled' };
    const problem = validateNewSettingName(name, existing) ?? checkSettingName(name);
    if (problem) throw new CommandInputError(problem);
    const variable = envName(name, env.prefix);
    // Kept in memory for the Development value only; never logged, never stored.
    const value = decodeLiteral(literal.value);

    const relative = vscode.workspace.asRelativePath(doc.uri, false);
    await deps.model.edit(entry, { op: 'add', setting: { name, type: 'Text', isSecret: true, description: vscode.l10n.t('Moved out of {0}', relative) } });
    deps.refreshTree();

    const edit = new vscode.WorkspaceEdit();
    const read = lang === 'py' ? `os.environ["${variable}"]` : scan.usesImportMetaEnv ? `import.meta.env.${variable}` : `process.env.${variable}`;
    edit.replace(doc.uri, new vscode.Range(doc.positionAt(literal.start), doc.positionAt(literal.end)), read);
    if (lang === 'py' && !scan.importsOs) edit.insert(doc.uri, doc.positionAt(scan.firstImportOffset ?? 0), 'import os\n'); // l10n-ignore: Python code inserted into the user's file
    if (!(await vscode.workspace.applyEdit(edit))) throw new Error(vscode.l10n.t('VS Code refused the edit to {0}; is the file read-only?', relative));
    // The credential must leave the disk, not linger in an unsaved buffer.
    if (doc.uri.scheme === 'file' && !(await doc.save())) throw new Error(vscode.l10n.t('the literal was replaced in the editor of {0} but the file could not be saved; save it yourself', relative));
    deps.log.info(`moved a hard-coded credential in ${relative} to the secret setting ${name} (${variable})`);

    const rotate = vscode.l10n.t('The literal stays in your version-control history: rotate it (issue a new one and set that instead).');
    if (!(await deps.session.isSignedIn().catch(() => false))) {
      void vscode.window.showWarningMessage(vscode.l10n.t('Moved to the secret setting "{0}" ({1}). Sign in and set its values in Stage Values. {2}', name, variable, rotate));
      return { status: 'moved', name, variable, developmentValueSet: false, reason: 'signed out' }; // l10n-ignore: an outcome code for callers, not shown
    }
    const ok = await deps.confirm({
      kind: 'set-development-value',
      message: vscode.l10n.t('Set the moved literal as the Development value of "{0}"?', name),
      detail: vscode.l10n.t('This publishes the app (adding the secret setting "{0}") and sets its value in the Development stage. {1}', name, rotate),
      confirmLabel: vscode.l10n.t('Publish and Set Development Value'),
    });
    if (!ok) {
      void vscode.window.showWarningMessage(vscode.l10n.t('Moved to the secret setting "{0}". Set its values in Stage Values. {1}', name, rotate));
      return { status: 'moved', name, variable, developmentValueSet: false, reason: 'declined' };
    }
    const published = await vscode.commands.executeCommand<PublishOutcome | undefined>(COMMANDS.publishApp, { folder: entry.folder.uri.toString() });
    if (!published || (published.status !== 'published' && published.status !== 'up-to-date')) {
      return { status: 'moved', name, variable, developmentValueSet: false, reason: `publish ${published?.status ?? 'failed'}` };
    }
    const app = entry.parsed!.app.key!;
    const client = await deps.session.client();
    const stages = (await client.stages()).stages;
    const development = stages.find((s) => s.key === 'development') ?? stages[0];
    if (!development) throw new Error(vscode.l10n.t('the portal has no stages'));
    const current = await client.stageSettings(app, development.key);
    const row = current.settings.find((s) => s.name === name);
    if (!row) throw new Error(vscode.l10n.t('the portal does not know "{0}" after publishing; publish the app and set the value in Stage Values', name));
    await client.patchStage(app, development.key, [{ name, value, baseVersion: row.version }]);
    deps.log.info(`set the ${development.name} value of ${app}/${name} from the moved literal`);
    void vscode.window.showInformationMessage(vscode.l10n.t('"{0}" now holds the literal in {1}. {2}', name, development.name, rotate));
    return { status: 'moved', name, variable, developmentValueSet: true };
  };
}

export interface ReferenceOutcome {
  setting: string;
  variable: string;
  references: Array<{ file: string; line: number; character: number }>;
}

export function findReferencesCommand(deps: CodeDeps) {
  return async (arg?: unknown): Promise<ReferenceOutcome | undefined> => {
    const target = await resolveSetting(deps.model, arg, vscode.l10n.t('Find references of which setting?'));
    if (!target) return undefined;
    const env = deps.index.appEnv(target.entry);
    if (!env) return undefined;
    const locations = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: vscode.l10n.t('Finding reads of {0}', target.setting.name) }, () => findReads(deps.index, env, target.setting.name));
    const variable = envName(target.setting.name, env.prefix);
    const anchor = settingLocation(target.entry, target.setting);
    if (anchor) {
      // The references view; a test may run without a visible editor, so this is best effort.
      void vscode.commands.executeCommand('editor.action.showReferences', anchor.uri, anchor.range.start, locations).then(undefined, () => undefined);
    }
    if (locations.length === 0) void vscode.window.showInformationMessage(vscode.l10n.t('No code in {0} reads {1} ({2}).', target.entry.folder.name, variable, target.setting.name));
    return {
      setting: target.setting.name,
      variable,
      references: locations.map((l) => ({ file: vscode.workspace.asRelativePath(l.uri, false), line: l.range.start.line, character: l.range.start.character })),
    };
  };
}

const importArgsSchema = targetArgsSchema.extend({ file: z.string().optional(), stage: z.string().optional() });

export type ImportOutcome =
  | { status: 'cancelled' }
  | { status: 'refused'; rows: ImportRow[] }
  | { status: 'nothing-to-write'; rows: ImportRow[] }
  | { status: 'declined'; rows: ImportRow[] }
  | { status: 'imported'; rows: ImportRow[]; written: number };

export function importDotenvCommand(deps: CodeDeps) {
  return async (arg?: unknown): Promise<ImportOutcome> => {
    const args = parseArgs(importArgsSchema, arg);
    const entry = await resolveApp(deps.model, arg);
    const app = entry?.parsed?.app.key;
    if (!entry || !app) return { status: 'cancelled' };
    let file = args.file ? vscode.Uri.file(args.file) : undefined;
    if (!file) {
      const picked = await vscode.window.showOpenDialog({ title: vscode.l10n.t('Import .env into Stage'), defaultUri: entry.folder.uri, canSelectMany: false, openLabel: vscode.l10n.t('Preview Import'), filters: { [vscode.l10n.t('Environment files')]: ['env', '*'] } });
      file = picked?.[0];
    }
    if (!file) return { status: 'cancelled' };
    const client = await deps.session.client();
    const stages = (await client.stages()).stages;
    const stage =
      args.stage ??
      (await vscode.window.showQuickPick(
        stages.map((s) => ({ label: s.name, description: s.key, key: s.key })),
        { title: vscode.l10n.t('Import {0} into which stage of "{1}"?', vscode.workspace.asRelativePath(file, false), app), ignoreFocusOut: true },
      ))?.key;
    if (!stage) return { status: 'cancelled' };
    const stageName = stages.find((s) => s.key === stage)?.name ?? stage;
    const { parse } = await import('dotenv');
    // The file's text lives in this function only.
    const entries = parse(Buffer.from(await vscode.workspace.fs.readFile(file)));
    const current = await client.stageSettings(app, stage);
    const prefix = deps.index.prefix(entry.folder);
    const preview = previewDotenvImport(entries, current.settings, prefix);
    const lines = preview.rows.map(formatImportRow);
    deps.log.info(`import into ${app}/${stage}: ${summarizeImport(preview)}`);
    if (preview.refused > 0) {
      void vscode.window.showErrorMessage(vscode.l10n.t('Nothing imported into {0}: {1} line(s) refused. {2}', stageName, preview.refused, preview.rows.filter((r) => r.action === 'refused').map(formatImportRow).join('; ')));
      return { status: 'refused', rows: preview.rows };
    }
    if (preview.changes.length === 0) {
      void vscode.window.showInformationMessage(vscode.l10n.t('Nothing to import into {0}: {1}.', stageName, summarizeImport(preview)));
      return { status: 'nothing-to-write', rows: preview.rows };
    }
    const ok = await deps.confirm({
      kind: 'import-dotenv',
      message: vscode.l10n.t('Import into "{0}" / {1}: {2}?', app, stageName, summarizeImport(preview)),
      detail: vscode.l10n.t('{0}\n\nAll of it is written at once, or nothing.', lines.map((l) => `• ${l}`).join('\n')),
      confirmLabel: vscode.l10n.t('Import'),
      items: lines,
    });
    if (!ok) return { status: 'declined', rows: preview.rows };
    await client.patchStage(app, stage, preview.changes);
    deps.log.info(`imported ${preview.changes.length} value(s) into ${app}/${stage}`);
    void vscode.window.showInformationMessage(vscode.l10n.t('Imported {0} value(s) into "{1}" / {2}.', preview.changes.length, app, stageName));
    return { status: 'imported', rows: preview.rows, written: preview.changes.length };
  };
}
