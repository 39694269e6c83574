// The definitions document (SPEC §2) and its rules, written once and used by the
// tree's diagnostics, the publish pre-check, the webview's inline validation and
// the server. Imports nothing from extension/, webview/ or server/.
import { z } from 'zod';
import { checkValue, SETTING_TYPES, type SettingType } from './values';

export { SETTING_TYPES, type SettingType } from './values';

export const APP_KEY_PATTERN = /^[a-z][a-z0-9-]{0,63}$/;
export const SETTING_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_]{0,99}$/;
export const MAX_DESCRIPTION_LENGTH = 2000;
export const MAX_APP_NAME_LENGTH = 200;
export const MAX_SETTINGS_PER_APP = 10_000;
export const DEFAULT_DEFINITIONS_FILE = 'odc-app.json';
/** `rotationDays` (SPEC §13): a secret's value older than this many days is due for rotation. */
export const MIN_ROTATION_DAYS = 1;
export const MAX_ROTATION_DAYS = 3650;

/** Where in the document a problem is, as a JSON path (`["settings", 2, "name"]`). */
export type JsonPath = ReadonlyArray<string | number>;

export interface DefinitionProblem {
  path: JsonPath;
  message: string;
  /** `shape` = not the document's form (HTTP 400); `rule` = breaks a §2 rule (HTTP 422). */
  kind: 'shape' | 'rule';
}

// The shape: unknown fields are refused so a typo (`isSceret`) is never silently dropped.
export const settingDefinitionSchema = z.strictObject({
  name: z.string(),
  type: z.enum(SETTING_TYPES),
  description: z.string().optional(),
  defaultValue: z.string().optional(),
  isSecret: z.boolean().optional(),
  rotationDays: z.number().optional(),
});

export const appDefinitionsSchema = z.strictObject({
  $schema: z.string().optional(),
  app: z.strictObject({ key: z.string(), name: z.string() }),
  settings: z.array(settingDefinitionSchema),
});

export type SettingDefinition = z.infer<typeof settingDefinitionSchema>;
export type AppDefinitions = z.infer<typeof appDefinitionsSchema>;

/** A definition with the optional fields made explicit: what the store keeps and compares. */
export interface NormalizedSetting {
  name: string;
  type: SettingType;
  description: string;
  defaultValue: string | null;
  isSecret: boolean;
  /** Only on a secret, only when set: absent otherwise (so older stored documents compare equal). */
  rotationDays?: number;
}

export interface NormalizedDefinitions {
  app: { key: string; name: string };
  settings: NormalizedSetting[];
}

export function normalizeSetting(s: SettingDefinition): NormalizedSetting {
  const isSecret = s.isSecret ?? false;
  return {
    name: s.name,
    type: s.type,
    description: s.description ?? '',
    // A secret never has a default; rules reject one, this keeps the invariant in the store too.
    defaultValue: isSecret ? null : (s.defaultValue ?? null),
    isSecret,
    ...(isSecret && s.rotationDays !== undefined ? { rotationDays: s.rotationDays } : {}),
  };
}

export function normalizeDefinitions(doc: AppDefinitions): NormalizedDefinitions {
  return { app: { key: doc.app.key, name: doc.app.name }, settings: doc.settings.map(normalizeSetting) };
}

/** Problems of form (wrong types, missing or unknown fields). Empty when `doc` has the document's shape. */
export function shapeProblems(doc: unknown): DefinitionProblem[] {
  const parsed = appDefinitionsSchema.safeParse(doc);
  if (parsed.success) return [];
  return parsed.error.issues.map((issue) => ({
    path: issue.path.filter((p): p is string | number => typeof p !== 'symbol'),
    message: describeIssue(issue),
    kind: 'shape' as const,
  }));
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `unknown field${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.join(', ')}`;
  if (issue.code === 'invalid_value') return `must be one of ${SETTING_TYPES.join(', ')}`;
  if (issue.code === 'invalid_type') {
    return issue.input === undefined ? `is required (${issue.expected})` : `must be ${article(issue.expected)}`;
  }
  return issue.message;
}

function article(t: string): string {
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

/** Problems against §2's rules, for a document that already has the right shape. */
export function ruleProblems(doc: AppDefinitions): DefinitionProblem[] {
  const problems: DefinitionProblem[] = [];
  const rule = (path: JsonPath, message: string) => problems.push({ path, message, kind: 'rule' });

  if (!APP_KEY_PATTERN.test(doc.app.key)) {
    rule(['app', 'key'], 'app key must be 1-64 characters of a-z, 0-9 and "-", starting with a letter');
  }
  if (doc.app.name.trim() === '' || doc.app.name.length > MAX_APP_NAME_LENGTH) {
    rule(['app', 'name'], `app name must be 1-${MAX_APP_NAME_LENGTH} characters and not blank`);
  }
  if (doc.settings.length > MAX_SETTINGS_PER_APP) {
    rule(['settings'], `an app has at most ${MAX_SETTINGS_PER_APP} settings`);
  }
  const seen = new Map<string, number>();
  doc.settings.forEach((s, i) => {
    const nameError = checkSettingName(s.name);
    if (nameError) rule(['settings', i, 'name'], nameError);
    const folded = s.name.toLowerCase();
    const first = seen.get(folded);
    if (first !== undefined) {
      rule(['settings', i, 'name'], `setting name "${s.name}" is already used by setting ${first + 1} (names are unique, ignoring case)`);
    } else {
      seen.set(folded, i);
    }
    if (s.description !== undefined && s.description.length > MAX_DESCRIPTION_LENGTH) {
      rule(['settings', i, 'description'], `description must be at most ${MAX_DESCRIPTION_LENGTH} characters`);
    }
    if (s.rotationDays !== undefined) {
      if (!s.isSecret) rule(['settings', i, 'rotationDays'], 'rotationDays applies to secrets only: remove it or make the setting secret');
      else if (!Number.isInteger(s.rotationDays) || s.rotationDays < MIN_ROTATION_DAYS || s.rotationDays > MAX_ROTATION_DAYS) {
        rule(['settings', i, 'rotationDays'], `rotationDays must be a whole number of days from ${MIN_ROTATION_DAYS} to ${MAX_ROTATION_DAYS}`);
      }
    }
    if (s.defaultValue !== undefined) {
      if (s.isSecret) {
        rule(['settings', i, 'defaultValue'], 'a secret has no default value: set its value per stage in the portal');
      } else {
        const valueError = checkValue(s.type, s.defaultValue, false);
        if (valueError) rule(['settings', i, 'defaultValue'], `default value ${valueError}`);
      }
    }
  });
  return problems;
}

/** All problems of a parsed JSON value: shape first; rules only once the shape is right. */
export function definitionProblems(doc: unknown): DefinitionProblem[] {
  const shape = shapeProblems(doc);
  if (shape.length > 0) return shape;
  return ruleProblems(doc as AppDefinitions);
}

export function checkSettingName(name: string): string | undefined {
  if (name.length === 0) return 'setting name is required';
  if (name.length > 100) return 'setting name must be at most 100 characters';
  if (!SETTING_NAME_PATTERN.test(name)) return 'setting name must start with a letter, then letters, digits or "_"';
  return undefined;
}

/** Fields of a definition that differ, in the order the plan reports them. */
export const DEFINITION_FIELDS = ['type', 'isSecret', 'description', 'defaultValue', 'rotationDays'] as const;
export type DefinitionField = (typeof DEFINITION_FIELDS)[number];

export function changedFields(before: NormalizedSetting, after: NormalizedSetting): DefinitionField[] {
  return DEFINITION_FIELDS.filter((f) => before[f] !== after[f]);
}

export { checkValue };

/** Whether a secret's value written at `updatedAt` is due for rotation at `now` (SPEC §13). */
export function isDueForRotation(setting: Pick<NormalizedSetting, 'isSecret' | 'rotationDays'>, updatedAt: string | null, now: number): boolean {
  if (!setting.isSecret || setting.rotationDays === undefined || updatedAt === null) return false;
  const written = Date.parse(updatedAt);
  return !Number.isNaN(written) && now - written > setting.rotationDays * 86_400_000;
}
