// Edit (or set) a non-secret setting's default value, validated for its type as you type.
// A secret has no default: the command refuses and says where its value goes.
import { z } from 'zod';
import { checkValue } from '../../common/values';
import * as l10n from '../l10n';
import { promptDefaultValue } from '../ui/prompts';
import type { Deps } from './deps';
import { CommandInputError, parseArgs, resolveSetting, targetArgsSchema } from './targets';

const argsSchema = targetArgsSchema.extend({ defaultValue: z.string().optional() });

export function editDefaultCommand(deps: Pick<Deps, 'model' | 'log'>) {
  return async (arg?: unknown): Promise<boolean> => {
    const args = parseArgs(argsSchema, arg);
    const target = await resolveSetting(deps.model, arg, l10n.t('Edit the default value of which setting?'));
    if (!target) return false;
    const { entry, setting } = target;
    if (setting.isSecret) throw new CommandInputError(l10n.t('"{0}" is a secret: a secret has no default value; set its value per stage in the portal', setting.name));
    if (!setting.type) throw new CommandInputError(l10n.t('"{0}" has no valid type; fix its type first', setting.name));
    const value = args.defaultValue ?? (await promptDefaultValue(setting.name, setting.type, setting.defaultValue));
    if (value === undefined) return false;
    const problem = checkValue(setting.type, value, false);
    if (problem) throw new CommandInputError(l10n.t('the default of a {0} setting {1}', setting.type, problem));
    await deps.model.edit(entry, { op: 'setDefault', name: setting.name, defaultValue: value });
    deps.log.info(`edited the default value of ${setting.name} in ${entry.folder.name}/${entry.relativePath}`);
    return true;
  };
}

export function removeDefaultCommand(deps: Pick<Deps, 'model' | 'log'>) {
  return async (arg?: unknown): Promise<boolean> => {
    parseArgs(targetArgsSchema, arg);
    const target = await resolveSetting(deps.model, arg, l10n.t('Remove the default value of which setting?'));
    if (!target || target.setting.defaultValue === undefined) return false;
    await deps.model.edit(target.entry, { op: 'setDefault', name: target.setting.name, defaultValue: undefined });
    deps.log.info(`removed the default value of ${target.setting.name} in ${target.entry.folder.name}/${target.entry.relativePath}`);
    return true;
  };
}
