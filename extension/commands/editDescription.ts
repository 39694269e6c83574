// Edit a setting's description (empty removes it).
import { z } from 'zod';
import { MAX_DESCRIPTION_LENGTH } from '../../common/definitions';
import * as l10n from '../l10n';
import { promptDescription } from '../ui/prompts';
import type { Deps } from './deps';
import { CommandInputError, parseArgs, resolveSetting, targetArgsSchema } from './targets';

const argsSchema = targetArgsSchema.extend({ description: z.string().optional() });

export function editDescriptionCommand(deps: Pick<Deps, 'model' | 'log'>) {
  return async (arg?: unknown): Promise<boolean> => {
    const args = parseArgs(argsSchema, arg);
    const target = await resolveSetting(deps.model, arg, l10n.t('Edit the description of which setting?'));
    if (!target) return false;
    const { entry, setting } = target;
    const description = args.description ?? (await promptDescription(setting.name, setting.description));
    if (description === undefined) return false;
    if (description.length > MAX_DESCRIPTION_LENGTH) throw new CommandInputError(l10n.t('a description has at most {0} characters', MAX_DESCRIPTION_LENGTH));
    await deps.model.edit(entry, { op: 'setDescription', name: setting.name, description });
    deps.log.info(`edited the description of ${setting.name} in ${entry.folder.name}/${entry.relativePath}`);
    return true;
  };
}
