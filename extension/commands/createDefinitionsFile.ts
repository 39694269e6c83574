// Create the definitions file in a workspace folder (one app per folder): app key and name
// from prompts (suggested from the folder's name) or from { folder?, key, name }.
import * as vscode from 'vscode';
import { z } from 'zod';
import { APP_KEY_PATTERN, MAX_APP_NAME_LENGTH } from '../../common/definitions';
import { newDefinitionsText, suggestAppKey } from '../definitions/definitionsText';
import { promptAppKey, promptAppName } from '../ui/prompts';
import type { Deps } from './deps';
import { CommandInputError, parseArgs, resolveApp, targetArgsSchema } from './targets';

const argsSchema = targetArgsSchema.extend({ key: z.string().optional(), appName: z.string().optional(), open: z.boolean().optional() });

export function createDefinitionsFileCommand(deps: Pick<Deps, 'model' | 'log'>) {
  /** Resolves to the new file's URI string, or undefined when cancelled. */
  return async (arg?: unknown): Promise<string | undefined> => {
    const args = parseArgs(argsSchema, arg);
    const entry = await resolveApp(deps.model, arg, { requireFile: false });
    if (!entry) return undefined;
    if (entry.parsed) throw new CommandInputError(vscode.l10n.t('{0} already exists in {1}', entry.relativePath, entry.folder.name));
    const key = args.key ?? (await promptAppKey(suggestAppKey(entry.folder.name)));
    if (key === undefined) return undefined;
    if (!APP_KEY_PATTERN.test(key)) throw new CommandInputError(vscode.l10n.t('app key must be 1-64 characters of a-z, 0-9 and "-", starting with a letter'));
    const name = args.appName ?? (await promptAppName(entry.folder.name));
    if (name === undefined) return undefined;
    if (name.trim() === '' || name.length > MAX_APP_NAME_LENGTH) throw new CommandInputError(vscode.l10n.t('app name must be 1-{0} characters and not blank', MAX_APP_NAME_LENGTH));
    const created = await deps.model.create(entry, newDefinitionsText({ key, name }));
    deps.log.info(`created ${entry.folder.name}/${entry.relativePath} for app ${key}`);
    if (args.open ?? true) await vscode.window.showTextDocument(created.uri, { preview: false });
    return created.uri.toString();
  };
}
