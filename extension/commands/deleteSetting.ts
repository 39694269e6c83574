// Delete a setting from the definitions file, after asking: publishing deletes its values in
// every stage.
import type { Deps } from './deps';
import { parseArgs, resolveSetting, targetArgsSchema } from './targets';

export function deleteSettingCommand(deps: Pick<Deps, 'model' | 'log' | 'confirm'>) {
  return async (arg?: unknown): Promise<boolean> => {
    parseArgs(targetArgsSchema, arg);
    const target = await resolveSetting(deps.model, arg, 'Delete which setting?');
    if (!target) return false;
    const { entry, setting } = target;
    const ok = await deps.confirm({
      kind: 'delete-setting',
      message: `Delete the setting "${setting.name}"?`,
      detail: `It is removed from ${entry.relativePath}. Publishing then deletes its values in every stage${setting.isSecret ? ' (the secret is gone for good)' : ''}.`,
      confirmLabel: 'Delete',
    });
    if (!ok) return false;
    await deps.model.edit(entry, { op: 'delete', name: setting.name });
    deps.log.info(`deleted setting ${setting.name} from ${entry.folder.name}/${entry.relativePath}`);
    return true;
  };
}
