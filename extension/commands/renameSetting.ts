// Rename a setting. The portal matches names exactly, so publishing a rename removes the old
// setting (and its stage values) and adds the new one; the prompt says so.
import { z } from 'zod';
import { promptSettingName, validateNewSettingName } from '../ui/prompts';
import type { Deps } from './deps';
import { CommandInputError, parseArgs, resolveSetting, targetArgsSchema } from './targets';

const argsSchema = targetArgsSchema.extend({ newName: z.string().optional() });

export function renameSettingCommand(deps: Pick<Deps, 'model' | 'log'>) {
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
    await deps.model.edit(entry, { op: 'rename', name: setting.name, newName });
    deps.log.info(`renamed setting ${setting.name} to ${newName} in ${entry.folder.name}/${entry.relativePath} (publishing removes the old name's stage values)`);
    return newName;
  };
}
