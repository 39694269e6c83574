// Rename a setting. The portal matches names exactly, so publishing a rename removes the old
// setting (and its stage values, secrets included) and adds the new one; it asks first and says so.
import { z } from 'zod';
import { promptSettingName, validateNewSettingName } from '../ui/prompts';
import type { Deps } from './deps';
import { CommandInputError, parseArgs, resolveSetting, targetArgsSchema } from './targets';

const argsSchema = targetArgsSchema.extend({ newName: z.string().optional() });

export function renameSettingCommand(deps: Pick<Deps, 'model' | 'log' | 'confirm'>) {
  return async (arg?: unknown): Promise<string | undefined> => {
    const args = parseArgs(argsSchema, arg);
    const target = await resolveSetting(deps.model, arg, 'Rename which setting?');
    if (!target) return undefined;
    const { entry, setting } = target;
    const existing = entry.parsed?.settings.map((s) => s.name) ?? [];
    const newName = args.newName ?? (await promptSettingName(existing, setting.name));
    if (newName === undefined || newName === setting.name) return undefined;
    const problem = validateNewSettingName(newName, existing, setting.name);
    if (problem) throw new CommandInputError(problem);
    const ok = await deps.confirm({
      kind: 'rename-setting',
      message: `Rename "${setting.name}" to "${newName}"?`,
      detail:
        `The portal matches names exactly, so publishing this rename deletes every stage's values of "${setting.name}"${setting.isSecret ? ' (a secret: its values are gone for good)' : ''}, ` +
        `and "${newName}" starts with no value in any stage. The publish plan lists each value it deletes before anything happens.`,
      confirmLabel: 'Rename',
    });
    if (!ok) return undefined;
    await deps.model.edit(entry, { op: 'rename', name: setting.name, newName });
    deps.log.info(`renamed setting ${setting.name} to ${newName} in ${entry.folder.name}/${entry.relativePath} (publishing removes the old name's stage values)`);
    return newName;
  };
}
