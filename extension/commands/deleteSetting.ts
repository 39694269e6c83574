// Delete a setting from the definitions file, after asking: publishing deletes its values in
// every stage.
import * as l10n from '../l10n';
import type { Deps } from './deps';
import { parseArgs, resolveSetting, targetArgsSchema } from './targets';

export function deleteSettingCommand(deps: Pick<Deps, 'model' | 'log' | 'confirm'>) {
  return async (arg?: unknown): Promise<boolean> => {
    parseArgs(targetArgsSchema, arg);
    const target = await resolveSetting(deps.model, arg, l10n.t('Delete which setting?'));
    if (!target) return false;
    const { entry, setting } = target;
    const ok = await deps.confirm({
      kind: 'delete-setting',
      message: l10n.t('Delete the setting "{0}"?', setting.name),
      detail: setting.isSecret
        ? l10n.t('It is removed from {0}. Publishing then deletes its values in every stage (the secret is gone for good).', entry.relativePath)
        : l10n.t('It is removed from {0}. Publishing then deletes its values in every stage.', entry.relativePath),
      confirmLabel: l10n.t('Delete'),
    });
    if (!ok) return false;
    await deps.model.edit(entry, { op: 'delete', name: setting.name });
    deps.log.info(`deleted setting ${setting.name} from ${entry.folder.name}/${entry.relativePath}`);
    return true;
  };
}
