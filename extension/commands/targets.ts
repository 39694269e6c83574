// What a command acts on. Commands receive either a tree node (from a view menu), an
// arguments object (from another command, a quick fix or a test), or nothing (from the
// palette: then they ask). Arguments from outside are validated with zod, never trusted.
import * as vscode from 'vscode';
import { z } from 'zod';
import { SETTING_TYPES } from '../../common/definitions';
import type { AppEntry, DefinitionsModel } from '../definitions/definitionsModel';
import type { LooseSetting } from '../definitions/definitionsText';
import { isTreeNode } from '../views/treeNodes';

/** Fields every command's arguments object may carry to say which app and setting it means. */
export const targetArgsSchema = z.object({
  /** The workspace folder: its URI string, fsPath or name. Default: the only app, else ask. */
  folder: z.string().optional(),
  /** The setting name, exact. */
  name: z.string().optional(),
});

export const settingTypeSchema = z.enum(SETTING_TYPES);

export class CommandInputError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandInputError';
  }
}

/** Parses a command's first argument as an arguments object; a tree node or nothing gives {}. */
export function parseArgs<S extends z.ZodType>(schema: S, arg: unknown): Partial<z.infer<S>> {
  if (arg === undefined || arg === null || isTreeNode(arg)) return {};
  const parsed = schema.safeParse(arg);
  if (!parsed.success) {
    throw new CommandInputError(vscode.l10n.t('invalid command arguments: {0}', parsed.error.issues.map((i) => `${i.path.join('.') || 'argument'} ${i.message}`).join('; ')));
  }
  return parsed.data as Partial<z.infer<S>>;
}

/** The app a command means: the node's, the argument's folder, the only one, or the user's pick. */
export async function resolveApp(model: DefinitionsModel, arg: unknown, opts: { requireFile?: boolean } = {}): Promise<AppEntry | undefined> {
  const requireFile = opts.requireFile ?? true;
  if (isTreeNode(arg)) return model.entryFor(arg.folder);
  const folder = targetArgsSchema.safeParse(arg ?? {}).data?.folder;
  if (folder !== undefined) {
    const entry = model.entryFor(folder);
    if (!entry) throw new CommandInputError(vscode.l10n.t('no workspace folder "{0}"', folder));
    if (requireFile && !entry.parsed) throw new CommandInputError(vscode.l10n.t('{0} does not exist in {1}; create it first', entry.relativePath, entry.folder.name));
    return entry;
  }
  const candidates = requireFile ? model.apps() : model.all().filter((e) => !e.parsed);
  if (candidates.length === 0) {
    if (requireFile) throw new CommandInputError(vscode.l10n.t('this workspace has no definitions file (odc-app.json); run "ODC: Create Definitions File" first'));
    if (model.all().length === 0) throw new CommandInputError(vscode.l10n.t('open a folder first: the definitions file lives in a workspace folder'));
    const only = model.all().length === 1 ? model.all()[0] : undefined;
    throw new CommandInputError(only ? vscode.l10n.t('{0} already exists in {1}', only.relativePath, only.folder.name) : vscode.l10n.t('every workspace folder already has a definitions file'));
  }
  if (candidates.length === 1) return candidates[0];
  const picked = await vscode.window.showQuickPick(
    candidates.map((e) => ({ label: e.parsed?.app.name ?? e.folder.name, description: e.folder.name, entry: e })),
    { title: vscode.l10n.t('Which app?'), ignoreFocusOut: true },
  );
  return picked?.entry;
}

export interface SettingTarget {
  entry: AppEntry;
  setting: LooseSetting;
}

/** The setting a command means: the node's, the argument's name, or the user's pick. */
export async function resolveSetting(model: DefinitionsModel, arg: unknown, title: string): Promise<SettingTarget | undefined> {
  if (isTreeNode(arg) && arg.kind === 'setting') return find(model.entryFor(arg.folder), arg.name);
  const name = isTreeNode(arg) ? undefined : targetArgsSchema.safeParse(arg ?? {}).data?.name;
  const entry = await resolveApp(model, arg);
  if (!entry) return undefined;
  if (name !== undefined) return find(entry, name);
  const settings = entry.parsed?.settings ?? [];
  if (settings.length === 0) throw new CommandInputError(vscode.l10n.t('{0} has no settings yet; add one first', entry.relativePath));
  const picked = await vscode.window.showQuickPick(
    settings.map((s) => ({ label: s.name, description: s.isSecret ? vscode.l10n.t('{0} · secret', s.rawType ?? '?') : (s.rawType ?? '?'), setting: s })),
    { title, ignoreFocusOut: true },
  );
  return picked ? { entry, setting: picked.setting } : undefined;
}

function find(entry: AppEntry | undefined, name: string): SettingTarget {
  if (!entry?.parsed) throw new CommandInputError(vscode.l10n.t('the definitions file is gone; refresh the Settings view'));
  const setting = entry.parsed.settings.find((s) => s.name === name);
  if (!setting) throw new CommandInputError(vscode.l10n.t('there is no setting named "{0}" in {1}', name, entry.relativePath));
  return { entry, setting };
}
