// Rename a setting. The portal matches names exactly, so publishing a rename removes the old
// setting (and its stage values, secrets included) and adds the new one; it asks first and says so.
import { z } from 'zod';
import { promptSettingName, validateNewSettingName } from '../ui/prompts';
import * as l10n from '../l10n';
import type { Deps } from './deps';
import { CommandInputError, parseArgs, resolveSetting, targetArgsSchema } from './targets';

const argsSchema = targetArgsSchema.extend({ newName: z.string().optional() });

export function renameSettingCommand(deps: Pick<Deps, 'model' | 'log' | 'confirm'>) {
  return async (arg?: unknown): Promise<string | undefined> => {
    const args = parseArgs(argsSchema, arg);
    const target = await resolveSetting(deps.model, arg, l10n.t('Rename which setting?'));
    if (!target) return undefined;
    const { entry, setting } = target;
    const existing = entry.parsed?.settings.map((s) => s.name) ?? [];
    const newName = args.newName ?? (await promptSettingName(existing, setting.name));
    if (newName === undefined || newName === setting.name) return undefined;
    const problem = validateNewSettingName(newName, existing, setting.name);
    if (problem) throw new CommandInputError(problem);
    const ok = await deps.confirm({
      kind: 'rename-setting',
      message: l10n.t('Rename "{0}" to "{1}"?', setting.name, newName),
      detail:
        setting.isSecret
          ? l10n.t(
              `The portal matches names exactly, so publishing this rename deletes every stage's values of "{0}" (a secret: its values are gone for good), and "{1}" starts with no value in any stage. The publish plan lists each value it deletes before anything happens.`,
              setting.name,
              newName,
            )
          : l10n.t(
              `The portal matches names exactly, so publishing this rename deletes every stage's values of "{0}", and "{1}" starts with no value in any stage. The publish plan lists each value it deletes before anything happens.`,
              setting.name,
              newName,
            ),
      confirmLabel: l10n.t('Rename'),
    });
    if (!ok) return undefined;
    await deps.model.edit(entry, { op: 'rename', name: setting.name, newName });
    deps.log.info(`renamed setting ${setting.name} to ${newName} in ${entry.folder.name}/${entry.relativePath} (publishing removes the old name's stage values)`);
    return newName;
  };
}
