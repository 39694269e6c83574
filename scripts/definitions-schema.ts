// The JSON Schema of the definitions file (schemas/odc-app.schema.json), generated from the
// zod schema in common/definitions.ts so the two cannot drift, then annotated for people:
// descriptions and snippets for completion, and the §2 patterns and limits so hand-editing
// is checked as you type. The extension's own diagnostics enforce every rule either way.
//
// Regenerate with: node scripts/build.mjs schema   (a unit test fails when the file is stale)
import { z } from 'zod';
import {
  APP_KEY_PATTERN,
  appDefinitionsSchema,
  MAX_APP_NAME_LENGTH,
  MAX_DESCRIPTION_LENGTH,
  MAX_ROTATION_DAYS,
  MAX_SETTINGS_PER_APP,
  MIN_ROTATION_DAYS,
  SETTING_NAME_PATTERN,
} from '../common/definitions';
import { describeType, MAX_VALUE_LENGTH, SETTING_TYPES } from '../common/values';

type Json = Record<string, unknown>;

function obj(value: unknown, where: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`schema generation: ${where} is not an object`);
  return value as Json;
}

export function definitionsJsonSchema(): Json {
  const schema = obj(z.toJSONSchema(appDefinitionsSchema, { target: 'draft-7' }), 'root');
  const props = obj(schema.properties, 'properties');
  const app = obj(props.app, 'app');
  const appProps = obj(app.properties, 'app.properties');
  const settings = obj(props.settings, 'settings');
  const item = obj(settings.items, 'settings.items');
  const itemProps = obj(item.properties, 'settings.items.properties');

  schema.$id = 'https://odc-settings.invalid/schemas/odc-app.schema.json';
  schema.title = 'ODC app settings definitions';
  schema.description = "An app's settings: names, types, descriptions, defaults and which are secret. Values per stage live in the portal, never here.";
  Object.assign(obj(props.$schema, '$schema'), { description: 'The JSON Schema this file follows (optional).' });

  app.description = 'The app these settings belong to.';
  Object.assign(obj(appProps.key, 'app.key'), {
    description: 'The app key: 1-64 characters of a-z, 0-9 and "-", starting with a letter. Publishing uses it to find the app in the portal.',
    pattern: APP_KEY_PATTERN.source,
    patternErrorMessage: 'app key must be 1-64 characters of a-z, 0-9 and "-", starting with a letter',
    minLength: 1,
    maxLength: 64,
  });
  Object.assign(obj(appProps.name, 'app.name'), { description: "The app's display name.", minLength: 1, maxLength: MAX_APP_NAME_LENGTH });

  Object.assign(settings, {
    description: 'The app settings, in the order they are shown.',
    maxItems: MAX_SETTINGS_PER_APP,
    defaultSnippets: [{ label: 'New setting', body: { name: '$1', type: '${2|' + SETTING_TYPES.join(',') + '|}', description: '$3' } }],
  });
  item.defaultSnippets = [
    { label: 'New setting', body: { name: '$1', type: '${2|' + SETTING_TYPES.join(',') + '|}', description: '$3' } },
    { label: 'New secret setting', body: { name: '$1', type: 'Text', description: '$2', isSecret: true } },
  ];
  Object.assign(obj(itemProps.name, 'name'), {
    description: 'The setting name: a letter, then letters, digits or "_" (at most 100); unique in the app, ignoring case.',
    pattern: SETTING_NAME_PATTERN.source,
    patternErrorMessage: 'setting name must start with a letter, then letters, digits or "_"',
    minLength: 1,
    maxLength: 100,
  });
  Object.assign(obj(itemProps.type, 'type'), {
    description: 'The data type of the setting\'s values.',
    enumDescriptions: SETTING_TYPES.map((t) => `${t}: ${describeType(t)}`),
  });
  Object.assign(obj(itemProps.description, 'description'), { description: 'What the setting is for.', maxLength: MAX_DESCRIPTION_LENGTH });
  Object.assign(obj(itemProps.defaultValue, 'defaultValue'), {
    description: 'The value used in a stage that has none, as a string valid for the type (e.g. "3", "True", "2025-01-31"). A secret has no default.',
    maxLength: MAX_VALUE_LENGTH,
  });
  Object.assign(obj(itemProps.isSecret, 'isSecret'), {
    description: 'Is Secret: the value is private (password, token, key). It has no default, is set per stage in the portal, is never shown again and is encrypted at rest.',
  });
  Object.assign(obj(itemProps.rotationDays, 'rotationDays'), {
    description: `Secrets only: after this many days (${MIN_ROTATION_DAYS}-${MAX_ROTATION_DAYS}) a stage's value is "due for rotation" and the portal warns.`,
    type: 'integer',
    minimum: MIN_ROTATION_DAYS,
    maximum: MAX_ROTATION_DAYS,
  });
  // "A secret has no defaultValue" (§2), so the editor flags it as you type.
  item.if = { properties: { isSecret: { const: true } }, required: ['isSecret'] };
  item.then = { not: { required: ['defaultValue'] }, errorMessage: 'a secret has no default value' };
  // rotationDays only on a secret (§13).
  item.else = { not: { required: ['rotationDays'] }, errorMessage: 'rotationDays applies to secrets only' };
  return schema;
}

/** The file's text as committed: 2-space JSON and a final newline. */
export function definitionsJsonSchemaText(): string {
  return JSON.stringify(definitionsJsonSchema(), null, 2) + '\n';
}
