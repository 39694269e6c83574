// The definitions file as text: parse it (tolerating errors, so the tree and the Problems panel
// still show what they can), locate JSON paths in it, and compute minimal edits that keep every
// unrelated byte (other fields, comments, formatting). Pure: no vscode import, unit-tested.
import * as jsonc from 'jsonc-parser';
import {
  definitionProblems,
  type AppDefinitions,
  type DefinitionProblem,
  type JsonPath,
  type SettingDefinition,
  type SettingType,
  SETTING_TYPES,
} from '../../common/definitions';
import { credentialHint, type CredentialHint } from '../../common/credentials';
import * as l10n from '../l10n';

export interface TextSpan {
  offset: number;
  length: number;
}

export interface SyntaxError extends TextSpan {
  message: string;
}

/** A setting as far as the file lets us read it, for the tree even when the file has problems. */
export interface LooseSetting {
  index: number;
  name: string;
  type: SettingType | undefined;
  /** The raw `type` text when it is not a known type. */
  rawType: string | undefined;
  description: string | undefined;
  defaultValue: string | undefined;
  isSecret: boolean;
}

export interface CredentialWarning {
  index: number;
  name: string;
  hint: CredentialHint;
  path: JsonPath;
}

export interface ParsedDefinitions {
  text: string;
  /** jsonc's syntax tree, for locating problems and making edits (built on first use for a valid file). */
  readonly root: jsonc.Node | undefined;
  syntaxErrors: SyntaxError[];
  /** The whole document when it has the right shape and no syntax errors. */
  doc: AppDefinitions | undefined;
  /** Shape problems, or rule problems once the shape is right. */
  problems: DefinitionProblem[];
  app: { key: string | undefined; name: string | undefined };
  settings: LooseSetting[];
  credentialWarnings: CredentialWarning[];
}

/** true when the file can be published: valid JSON, right shape, every §2 rule kept. */
export function isPublishable(p: ParsedDefinitions): p is ParsedDefinitions & { doc: AppDefinitions } {
  return p.syntaxErrors.length === 0 && p.problems.length === 0 && p.doc !== undefined;
}

const PARSE_OPTIONS: jsonc.ParseOptions = { allowTrailingComma: false, disallowComments: true };

export function parseDefinitionsText(text: string): ParsedDefinitions {
  // The usual case, a valid JSON file: JSON.parse is many times faster than building jsonc's
  // syntax tree (which 2,000 settings make the bulk of filling the tree), and that tree is only
  // needed to place a problem or make an edit, so it is built on first use. The rules are the
  // same: strict JSON, no comments, no trailing commas.
  let value: unknown;
  let valid = false;
  try {
    value = JSON.parse(text);
    valid = true;
  } catch {
    // Not valid JSON: the tolerant parser below says where and why.
  }
  if (valid) {
    let tree: jsonc.Node | undefined | null = null;
    const root = () => (tree === null ? (tree = jsonc.parseTree(text, [], PARSE_OPTIONS)) : tree);
    return {
      text,
      get root() {
        return root();
      },
      ...describeValue(value, []),
    };
  }
  const errors: jsonc.ParseError[] = [];
  const root = jsonc.parseTree(text, errors, PARSE_OPTIONS);
  const syntaxErrors = errors.map((e) => ({ offset: e.offset, length: Math.max(e.length, 1), message: describeParseError(e.error) }));
  if (!root && syntaxErrors.length === 0) syntaxErrors.push({ offset: 0, length: 0, message: l10n.t('the file is empty; it should hold a JSON object with "app" and "settings"') });
  return { text, root, ...describeValue(root ? jsonc.getNodeValue(root) : undefined, syntaxErrors) };
}

/** Everything but the text and its syntax tree: the document, its problems, the loose view for the tree. */
function describeValue(value: unknown, syntaxErrors: SyntaxError[]): Omit<ParsedDefinitions, 'text' | 'root'> {
  const problems = syntaxErrors.length === 0 ? definitionProblems(value) : [];
  const doc = syntaxErrors.length === 0 && problems.every((p) => p.kind !== 'shape') ? (value as AppDefinitions) : undefined;
  const settings = looseSettings(value);
  const app = looseApp(value);
  const credentialWarnings: CredentialWarning[] = [];
  for (const s of settings) {
    if (s.isSecret) continue;
    const hint = credentialHint(s.name, s.defaultValue);
    if (hint) credentialWarnings.push({ index: s.index, name: s.name, hint, path: ['settings', s.index, 'defaultValue'] });
  }
  return { syntaxErrors, doc, problems, app, settings, credentialWarnings };
}

function describeParseError(code: jsonc.ParseErrorCode): string {
  const name = jsonc.printParseErrorCode(code);
  const words: Record<string, string> = {
    InvalidSymbol: l10n.t('invalid symbol'),
    InvalidNumberFormat: l10n.t('invalid number'),
    PropertyNameExpected: l10n.t('a property name is expected'),
    ValueExpected: l10n.t('a value is expected'),
    ColonExpected: l10n.t('a colon is expected'),
    CommaExpected: l10n.t('a comma is expected'),
    CloseBraceExpected: l10n.t('a closing brace is expected'),
    CloseBracketExpected: l10n.t('a closing bracket is expected'),
    EndOfFileExpected: l10n.t('the end of the file is expected'),
    InvalidCommentToken: l10n.t('comments are not allowed in this file'),
    UnexpectedEndOfComment: l10n.t('unexpected end of comment'),
    UnexpectedEndOfString: l10n.t('unexpected end of string'),
    UnexpectedEndOfNumber: l10n.t('unexpected end of number'),
    InvalidUnicode: l10n.t('invalid unicode escape'),
    InvalidEscapeCharacter: l10n.t('invalid escape character'),
    InvalidCharacter: l10n.t('invalid character'),
  };
  return l10n.t('JSON syntax error: {0}', words[name] ?? name);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function looseApp(value: unknown): { key: string | undefined; name: string | undefined } {
  const app = isRecord(value) && isRecord(value.app) ? value.app : {};
  return { key: typeof app.key === 'string' ? app.key : undefined, name: typeof app.name === 'string' ? app.name : undefined };
}

function looseSettings(value: unknown): LooseSetting[] {
  if (!isRecord(value) || !Array.isArray(value.settings)) return [];
  const out: LooseSetting[] = [];
  value.settings.forEach((s: unknown, index: number) => {
    if (!isRecord(s) || typeof s.name !== 'string') return;
    const rawType = typeof s.type === 'string' ? s.type : undefined;
    out.push({
      index,
      name: s.name,
      type: (SETTING_TYPES as readonly string[]).includes(rawType ?? '') ? (rawType as SettingType) : undefined,
      rawType,
      description: typeof s.description === 'string' ? s.description : undefined,
      defaultValue: typeof s.defaultValue === 'string' ? s.defaultValue : undefined,
      isSecret: s.isSecret === true,
    });
  });
  return out;
}

/** The setting's index in `settings`, matching the name exactly (case included), as the API does. */
export function indexOfSetting(parsed: ParsedDefinitions, name: string): number | undefined {
  return parsed.settings.find((s) => s.name === name)?.index;
}

// ---- locating a JSON path -----------------------------------------------------

/**
 * Where a problem at `path` should be underlined. The value's node when it exists; for an
 * "unknown field" problem on an object, the first unknown property's key; for a missing
 * field, the opening brace of the nearest object that exists.
 */
export function spanOfPath(root: jsonc.Node | undefined, path: JsonPath, message = ''): TextSpan {
  if (!root) return { offset: 0, length: 0 };
  const node = jsonc.findNodeAtLocation(root, [...path]);
  if (node) {
    const unknown = /^unknown fields?: (.+)$/.exec(message);
    if (unknown && node.type === 'object') {
      const keys = unknown[1]!.split(', ');
      const prop = node.children?.find((p) => keys.includes(String(p.children?.[0]?.value)));
      const key = prop?.children?.[0];
      if (key) return { offset: key.offset, length: key.length };
    }
    if (node.type === 'object' || node.type === 'array') return { offset: node.offset, length: 1 };
    return { offset: node.offset, length: node.length };
  }
  for (let i = path.length - 1; i >= 0; i--) {
    const parent = jsonc.findNodeAtLocation(root, [...path.slice(0, i)]);
    if (!parent) continue;
    // A missing field of a setting: underline the setting's "name" value when there is one, so the
    // squiggle sits on one line; else the object's opening brace.
    const nameNode = parent.type === 'object' ? jsonc.findNodeAtLocation(parent, ['name']) : undefined;
    if (nameNode) return { offset: nameNode.offset, length: nameNode.length };
    return { offset: parent.offset, length: 1 };
  }
  return { offset: 0, length: 1 };
}

// ---- edits ----------------------------------------------------------------------

export type DefinitionsEdit =
  | { op: 'add'; setting: SettingDefinition }
  | { op: 'rename'; name: string; newName: string }
  | { op: 'setDescription'; name: string; description: string }
  | { op: 'setType'; name: string; type: SettingType; defaultValue: string | undefined }
  | { op: 'setDefault'; name: string; defaultValue: string | undefined }
  | { op: 'setSecret'; name: string; isSecret: boolean }
  | { op: 'delete'; name: string };

export interface TextEdit {
  offset: number;
  length: number;
  content: string;
}

export class EditError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EditError';
  }
}

function detectEol(text: string): string {
  return text.includes('\r\n') ? '\r\n' : '\n';
}

/** The new text after `edit`; throws EditError when the file cannot take it (no such setting, not an object...). */
export function applyDefinitionsEdit(text: string, edit: DefinitionsEdit): string {
  const parsed = parseDefinitionsText(text);
  if (parsed.syntaxErrors.length > 0) throw new EditError(l10n.t('the definitions file has JSON syntax errors; fix them first (see the Problems panel)'));
  if (!parsed.root || parsed.root.type !== 'object') throw new EditError(l10n.t('the definitions file must hold a JSON object'));
  const options: jsonc.ModificationOptions = { formattingOptions: { insertSpaces: true, tabSize: 2, eol: detectEol(text) } };
  const set = (t: string, path: jsonc.JSONPath, value: unknown, extra: Partial<jsonc.ModificationOptions> = {}) =>
    jsonc.applyEdits(t, jsonc.modify(t, path, value, { ...options, ...extra }));

  if (edit.op === 'add') {
    if (parsed.settings.some((s) => s.name.toLowerCase() === edit.setting.name.toLowerCase())) {
      throw new EditError(l10n.t('a setting named "{0}" already exists (names are unique, ignoring case)', edit.setting.name));
    }
    const settingsNode = jsonc.findNodeAtLocation(parsed.root, ['settings']);
    if (!settingsNode) return set(text, ['settings'], [cleanSetting(edit.setting)]);
    if (settingsNode.type !== 'array') throw new EditError(l10n.t('"settings" must be an array'));
    return set(text, ['settings', -1], cleanSetting(edit.setting), { isArrayInsertion: true });
  }

  const index = indexOfSetting(parsed, edit.name);
  if (index === undefined) throw new EditError(l10n.t('there is no setting named "{0}" in the definitions file', edit.name));
  const at = (field: string): jsonc.JSONPath => ['settings', index, field];
  const has = (t: string, field: string) => {
    const r = jsonc.parseTree(t, [], PARSE_OPTIONS);
    return r ? jsonc.findNodeAtLocation(r, at(field)) !== undefined : false;
  };
  const remove = (t: string, field: string) => (has(t, field) ? set(t, at(field), undefined) : t);

  switch (edit.op) {
    case 'rename': {
      const clash = parsed.settings.find((s) => s.index !== index && s.name.toLowerCase() === edit.newName.toLowerCase());
      if (clash) throw new EditError(l10n.t('a setting named "{0}" already exists (names are unique, ignoring case)', clash.name));
      return set(text, at('name'), edit.newName);
    }
    case 'setDescription':
      return edit.description === '' ? remove(text, 'description') : set(text, at('description'), edit.description);
    case 'setType': {
      const t = set(text, at('type'), edit.type);
      return edit.defaultValue === undefined ? remove(t, 'defaultValue') : set(t, at('defaultValue'), edit.defaultValue);
    }
    case 'setDefault':
      if (edit.defaultValue !== undefined && parsed.settings.find((s) => s.index === index)?.isSecret) {
        throw new EditError(l10n.t('"{0}" is a secret: a secret has no default value; set its value per stage in the portal', edit.name));
      }
      return edit.defaultValue === undefined ? remove(text, 'defaultValue') : set(text, at('defaultValue'), edit.defaultValue);
    case 'setSecret': {
      if (!edit.isSecret) return remove(text, 'isSecret');
      return remove(set(text, at('isSecret'), true), 'defaultValue');
    }
    case 'delete':
      return set(text, ['settings', index], undefined);
  }
}

/** A setting object with its fields in the documented order and no empty optional ones. */
function cleanSetting(s: SettingDefinition): SettingDefinition {
  const out: SettingDefinition = { name: s.name, type: s.type };
  if (s.description) out.description = s.description;
  if (s.isSecret) out.isSecret = true;
  else if (s.defaultValue !== undefined) out.defaultValue = s.defaultValue;
  return out;
}

/** One edit turning `before` into `after`: the changed middle, so an open editor keeps its cursor and undo. */
export function minimalEdit(before: string, after: string): TextEdit | undefined {
  if (before === after) return undefined;
  let start = 0;
  const max = Math.min(before.length, after.length);
  while (start < max && before.charCodeAt(start) === after.charCodeAt(start)) start++;
  let endB = before.length;
  let endA = after.length;
  while (endB > start && endA > start && before.charCodeAt(endB - 1) === after.charCodeAt(endA - 1)) {
    endB--;
    endA--;
  }
  return { offset: start, length: endB - start, content: after.slice(start, endA) };
}

/** The text of a new definitions file: stable, readable JSON with a 2-space indent. */
export function newDefinitionsText(app: { key: string; name: string }, settings: SettingDefinition[] = []): string {
  return JSON.stringify({ app: { key: app.key, name: app.name }, settings: settings.map(cleanSetting) }, null, 2) + '\n';
}

/** A suggested app key from a folder name: lower case, a-z 0-9 and "-", starting with a letter. */
export function suggestAppKey(folderName: string): string {
  const slug = folderName
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^[^a-z]+/, '')
    .replace(/-+$/, '')
    .slice(0, 64)
    .replace(/-+$/, '');
  return slug || 'my-app';
}
