// Input boxes and pickers, each validating as you type against SPEC §2 with the shared rules.
import * as vscode from 'vscode';
import { APP_KEY_PATTERN, checkSettingName, MAX_APP_NAME_LENGTH, MAX_DESCRIPTION_LENGTH, SETTING_TYPES, type SettingType } from '../../common/definitions';
import { checkValue, describeType } from '../../common/values';

/** A message when `name` is not a valid, unused setting name (ignoring case; `current` is the setting being renamed). */
export function validateNewSettingName(name: string, existing: readonly string[], current?: string): string | undefined {
  const syntax = checkSettingName(name);
  if (syntax) return syntax;
  const clash = existing.find((e) => e !== current && e.toLowerCase() === name.toLowerCase());
  return clash ? `a setting named "${clash}" already exists (names are unique, ignoring case)` : undefined;
}

export function promptSettingName(existing: readonly string[], current?: string): Thenable<string | undefined> {
  return vscode.window.showInputBox({
    title: current ? `Rename setting "${current}"` : 'Add setting',
    prompt: 'Setting name: a letter, then letters, digits or "_" (unique, ignoring case)',
    value: current ?? '',
    placeHolder: 'e.g. MaxRetries',
    ignoreFocusOut: true,
    validateInput: (v) => validateNewSettingName(v, existing, current),
  });
}

export async function pickType(current?: SettingType, title = 'Setting type'): Promise<SettingType | undefined> {
  const items = SETTING_TYPES.map((t) => ({ label: t, description: t === current ? '(current)' : undefined, detail: describeType(t), type: t }));
  const picked = await vscode.window.showQuickPick(items, { title, placeHolder: 'Choose the data type of the setting\'s values', ignoreFocusOut: true });
  return picked?.type;
}

/** With emptyMeansNone, an empty answer is allowed and means "no default" (even for Text). */
export function promptDefaultValue(name: string, type: SettingType, current: string | undefined, opts: { emptyMeansNone?: boolean } = {}): Thenable<string | undefined> {
  return vscode.window.showInputBox({
    title: `Default value of "${name}" (${type})`,
    prompt: `${describeType(type)}. Used in every stage that has no value of its own.${opts.emptyMeansNone ? ' Leave empty for no default.' : ''}`,
    value: current ?? '',
    ignoreFocusOut: true,
    validateInput: (v) => {
      if (v === '' && opts.emptyMeansNone) return undefined;
      const problem = checkValue(type, v, false);
      return problem ? `a ${type} default ${problem}` : undefined;
    },
  });
}

export function promptDescription(name: string, current: string | undefined): Thenable<string | undefined> {
  return vscode.window.showInputBox({
    title: `Description of "${name}"`,
    prompt: 'What the setting is for (empty removes the description)',
    value: current ?? '',
    ignoreFocusOut: true,
    validateInput: (v) => (v.length > MAX_DESCRIPTION_LENGTH ? `at most ${MAX_DESCRIPTION_LENGTH} characters (now ${v.length})` : undefined),
  });
}

export function promptAppKey(suggested: string): Thenable<string | undefined> {
  return vscode.window.showInputBox({
    title: 'Create definitions file (1/2)',
    prompt: 'App key: 1-64 characters of a-z, 0-9 and "-", starting with a letter',
    value: suggested,
    ignoreFocusOut: true,
    validateInput: (v) => (APP_KEY_PATTERN.test(v) ? undefined : 'app key must be 1-64 characters of a-z, 0-9 and "-", starting with a letter'),
  });
}

export function promptAppName(suggested: string): Thenable<string | undefined> {
  return vscode.window.showInputBox({
    title: 'Create definitions file (2/2)',
    prompt: "The app's display name",
    value: suggested,
    ignoreFocusOut: true,
    validateInput: (v) => (v.trim() === '' || v.length > MAX_APP_NAME_LENGTH ? `1-${MAX_APP_NAME_LENGTH} characters, not blank` : undefined),
  });
}
