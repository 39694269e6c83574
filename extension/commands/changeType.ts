// Change a setting's type. A default that is not valid for the new type must be replaced or
// removed in the same step (the prompt offers the old one to edit; args give it, or null to
// remove it). Publishing keeps stage values valid for the new type and deletes the others.
import { z } from 'zod';
import { checkValue } from '../../common/values';
import * as l10n from '../l10n';
import { pickType, promptDefaultValue } from '../ui/prompts';
import { isTreeNode } from '../views/treeNodes';
import type { Deps } from './deps';
import { CommandInputError, parseArgs, resolveSetting, settingTypeSchema, targetArgsSchema } from './targets';

const argsSchema = targetArgsSchema.extend({
  type: settingTypeSchema.optional(),
  /** The default for the new type; null removes it. Default: keep the old one if still valid. */
  defaultValue: z.string().nullable().optional(),
});

export function changeTypeCommand(deps: Pick<Deps, 'model' | 'log'>) {
  return async (arg?: unknown): Promise<boolean> => {
    const args = parseArgs(argsSchema, arg);
    const target = await resolveSetting(deps.model, arg, l10n.t('Change the type of which setting?'));
    if (!target) return false;
    const { entry, setting } = target;
    const type = args.type ?? (await pickType(setting.type, l10n.t('New type of "{0}"', setting.name)));
    if (!type || (type === setting.type && args.defaultValue === undefined)) return false;
    let defaultValue: string | undefined = setting.defaultValue;
    if (args.defaultValue !== undefined) {
      defaultValue = args.defaultValue ?? undefined;
    } else if (defaultValue !== undefined && checkValue(type, defaultValue, false)) {
      if (arg !== undefined && !isTreeNode(arg)) {
        throw new CommandInputError(l10n.t('the default of "{0}" is not valid for {1}; pass defaultValue (or null to remove it)', setting.name, type));
      }
      // The old default does not fit: offer it for editing; an empty answer for a non-Text type removes it.
      const answer = await promptDefaultValueOrNone(setting.name, type, defaultValue);
      if (answer === 'cancelled') return false;
      defaultValue = answer;
    }
    if (setting.isSecret && defaultValue !== undefined) throw new CommandInputError(l10n.t('a secret has no default value'));
    if (defaultValue !== undefined) {
      const problem = checkValue(type, defaultValue, false);
      if (problem) throw new CommandInputError(l10n.t('default value {0}', problem));
    }
    await deps.model.edit(entry, { op: 'setType', name: setting.name, type, defaultValue });
    deps.log.info(`changed the type of ${setting.name} to ${type} in ${entry.folder.name}/${entry.relativePath}`);
    return true;
  };
}

async function promptDefaultValueOrNone(name: string, type: Parameters<typeof promptDefaultValue>[1], old: string): Promise<string | undefined | 'cancelled'> {
  const value = await promptDefaultValue(name, type, old, { emptyMeansNone: true });
  if (value === undefined) return 'cancelled';
  return value === '' ? undefined : value;
}
