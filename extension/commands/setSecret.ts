// Is Secret on or off: from the tree's checkbox, the "Set as secret" quick fix, the item menu
// or another command. Asks first; checking removes the default from the file (its old value
// stays in version-control history and must be rotated); unchecking warns that publishing
// deletes the setting's values in every stage.
import * as vscode from 'vscode';
import { z } from 'zod';
import type { Deps } from './deps';
import { parseArgs, resolveSetting, targetArgsSchema } from './targets';

const argsSchema = targetArgsSchema.extend({ isSecret: z.boolean().optional() });

export function setSecretCommand(deps: Pick<Deps, 'model' | 'confirm' | 'log'>) {
  /** Resolves to true when the file now has the requested state because of this call. */
  return async (arg?: unknown, isSecretArg?: unknown): Promise<boolean> => {
    const args = parseArgs(argsSchema, arg);
    const target = await resolveSetting(deps.model, arg, vscode.l10n.t('Toggle Is Secret of which setting?'));
    if (!target) return false;
    const { entry, setting } = target;
    const wanted = args.isSecret ?? (typeof isSecretArg === 'boolean' ? isSecretArg : !setting.isSecret);
    if (wanted === setting.isSecret) return false;
    const hadDefault = setting.defaultValue !== undefined;
    const ok = await deps.confirm(
      wanted
        ? {
            kind: 'mark-secret',
            message: vscode.l10n.t('Mark "{0}" as secret?', setting.name),
            detail: [
              hadDefault
                ? vscode.l10n.t('Its default value will be removed from {0}. The old value stays in version-control history: treat it as exposed and rotate it.', entry.relativePath)
                : vscode.l10n.t('A secret has no default value.'),
              vscode.l10n.t('Its value will be set per stage in the portal, encrypted and never shown again. Publishing deletes the plain-text values stored for it in every stage; each stage then needs the secret set.'),
            ].join('\n\n'),
            confirmLabel: vscode.l10n.t('Mark as Secret'),
          }
        : {
            kind: 'unmark-secret',
            message: vscode.l10n.t('Make "{0}" a non-secret setting?', setting.name),
            detail: vscode.l10n.t("Publishing will delete this setting's values in every stage (a secret is never turned into plain text). Set them again in the portal afterwards."),
            confirmLabel: vscode.l10n.t('Make Not Secret'),
          },
    );
    if (!ok) {
      deps.log.info(`Is Secret of ${setting.name} left unchanged (declined)`);
      return false;
    }
    await deps.model.edit(entry, { op: 'setSecret', name: setting.name, isSecret: wanted });
    deps.log.info(`${setting.name} is now ${wanted ? 'secret' : 'not secret'} in ${entry.folder.name}/${entry.relativePath}${wanted && hadDefault ? ' (default removed)' : ''}`);
    if (wanted && hadDefault) {
      void vscode.window.showWarningMessage(
        vscode.l10n.t('"{0}" is now secret and its default was removed from {1}. The old value stays in version-control history: rotate it, then set the new value per stage in the portal.', setting.name, entry.relativePath),
      );
    }
    return true;
  };
}
