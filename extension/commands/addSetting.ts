// Add a setting: name (valid, unused ignoring case) and type from prompts, or from the
// arguments { name, type, description?, defaultValue?, isSecret? } without any prompt.
import { z } from 'zod';
import { checkValue } from '../../common/values';
import { checkSettingName, type SettingDefinition } from '../../common/definitions';
import * as l10n from '../l10n';
import { pickType, promptSettingName, validateNewSettingName } from '../ui/prompts';
import type { Deps } from './deps';
import { CommandInputError, parseArgs, resolveApp, settingTypeSchema, targetArgsSchema } from './targets';

const argsSchema = targetArgsSchema.extend({
  type: settingTypeSchema.optional(),
  description: z.string().optional(),
  defaultValue: z.string().optional(),
  isSecret: z.boolean().optional(),
});

export function addSettingCommand(deps: Pick<Deps, 'model' | 'log'>) {
  /** Resolves to the new setting's name, or undefined when cancelled. */
  return async (arg?: unknown): Promise<string | undefined> => {
    const args = parseArgs(argsSchema, arg);
    const entry = await resolveApp(deps.model, arg);
    if (!entry?.parsed) return undefined;
    const existing = entry.parsed.settings.map((s) => s.name);
    const name = args.name ?? (await promptSettingName(existing));
    if (name === undefined) return undefined;
    const nameProblem = validateNewSettingName(name, existing) ?? checkSettingName(name);
    if (nameProblem) throw new CommandInputError(nameProblem);
    const type = args.type ?? (await pickType(undefined, l10n.t('Type of "{0}"', name)));
    if (!type) return undefined;
    const setting: SettingDefinition = { name, type };
    if (args.description) setting.description = args.description;
    if (args.isSecret) setting.isSecret = true;
    if (args.defaultValue !== undefined) {
      if (args.isSecret) throw new CommandInputError(l10n.t('a secret has no default value'));
      const problem = checkValue(type, args.defaultValue, false);
      if (problem) throw new CommandInputError(l10n.t('default value {0}', problem));
      setting.defaultValue = args.defaultValue;
    }
    await deps.model.edit(entry, { op: 'add', setting });
    deps.log.info(`added setting ${name} (${type}${setting.isSecret ? ', secret' : ''}) to ${entry.folder.name}/${entry.relativePath}`);
    return name;
  };
}
