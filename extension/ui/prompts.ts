// Input boxes and pickers, each validating as you type against SPEC §2 with the shared rules.
import * as vscode from 'vscode';
import { APP_KEY_PATTERN, checkSettingName, MAX_APP_NAME_LENGTH, MAX_DESCRIPTION_LENGTH, SETTING_TYPES, type SettingType } from '../../common/definitions';
import { checkValue, describeType } from '../../common/values';

/** A message when `name` is not a valid, unused setting name (ignoring case; `current` is the setting being renamed). */
export function validateNewSettingName(name: string, existing: readonly string[], current?: string): string | undefined {
  const syntax = checkSettingName(name);
  if (syntax) return syntax;
  const clash = existing.find((e) => e !== current && e.toLowerCase() === name.toLowerCase());
  return clash ? vscode.l10n.t('a setting named "{0}" already exists (names are unique, ignoring case)', clash) : undefined;
}

export function promptSettingName(existing: readonly string[], current?: string): Thenable<string | undefined> {
  return vscode.window.showInputBox({
    title: current ? vscode.l10n.t('Rename setting "{0}"', current) : vscode.l10n.t('Add setting'),
    prompt: vscode.l10n.t('Setting name: a letter, then letters, digits or "_" (unique, ignoring case)'),
    value: current ?? '',
    placeHolder: vscode.l10n.t('e.g. MaxRetries'),
    ignoreFocusOut: true,
    validateInput: (v) => validateNewSettingName(v, existing, current),
  });
}

export async function pickType(current?: SettingType, title = vscode.l10n.t('Setting type')): Promise<SettingType | undefined> {
  const items = SETTING_TYPES.map((t) => ({ label: t, description: t === current ? vscode.l10n.t('(current)') : undefined, detail: describeType(t), type: t }));
  const picked = await vscode.window.showQuickPick(items, { title, placeHolder: vscode.l10n.t("Choose the data type of the setting's values"), ignoreFocusOut: true });
  return picked?.type;
}

/** With emptyMeansNone, an empty answer is allowed and means "no default" (even for Text). */
export function promptDefaultValue(name: string, type: SettingType, current: string | undefined, opts: { emptyMeansNone?: boolean } = {}): Thenable<string | undefined> {
  return vscode.window.showInputBox({
    title: vscode.l10n.t('Default value of "{0}" ({1})', name, type),
    prompt: opts.emptyMeansNone
      ? vscode.l10n.t('{0}. Used in every stage that has no value of its own. Leave empty for no default.', describeType(type))
      : vscode.l10n.t('{0}. Used in every stage that has no value of its own.', describeType(type)),
    value: current ?? '',
    ignoreFocusOut: true,
    validateInput: (v) => {
      if (v === '' && opts.emptyMeansNone) return undefined;
      const problem = checkValue(type, v, false);
      return problem ? vscode.l10n.t('a {0} default {1}', type, problem) : undefined;
    },
  });
}

export function promptDescription(name: string, current: string | undefined): Thenable<string | undefined> {
  return vscode.window.showInputBox({
    title: vscode.l10n.t('Description of "{0}"', name),
    prompt: vscode.l10n.t('What the setting is for (empty removes the description)'),
    value: current ?? '',
    ignoreFocusOut: true,
    validateInput: (v) => (v.length > MAX_DESCRIPTION_LENGTH ? vscode.l10n.t('at most {0} characters (now {1})', MAX_DESCRIPTION_LENGTH, v.length) : undefined),
  });
}

export function promptAppKey(suggested: string): Thenable<string | undefined> {
  return vscode.window.showInputBox({
    title: vscode.l10n.t('Create definitions file ({0})', '1/2'),
    prompt: vscode.l10n.t('App key: 1-64 characters of a-z, 0-9 and "-", starting with a letter'),
    value: suggested,
    ignoreFocusOut: true,
    validateInput: (v) => (APP_KEY_PATTERN.test(v) ? undefined : vscode.l10n.t('app key must be 1-64 characters of a-z, 0-9 and "-", starting with a letter')),
  });
}

export function promptAppName(suggested: string): Thenable<string | undefined> {
  return vscode.window.showInputBox({
    title: vscode.l10n.t('Create definitions file ({0})', '2/2'),
    prompt: vscode.l10n.t("The app's display name"),
    value: suggested,
    ignoreFocusOut: true,
    validateInput: (v) => (v.trim() === '' || v.length > MAX_APP_NAME_LENGTH ? vscode.l10n.t('1-{0} characters, not blank', MAX_APP_NAME_LENGTH) : undefined),
  });
}
