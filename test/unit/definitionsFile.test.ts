// The definitions file as text (extension/definitions/definitionsText.ts): tolerant parsing,
// JSON paths to positions, edits that keep every unrelated byte; and the committed JSON
// Schema (schemas/odc-app.schema.json) being what common/definitions.ts generates.
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import {
  applyDefinitionsEdit,
  EditError,
  isPublishable,
  minimalEdit,
  newDefinitionsText,
  parseDefinitionsText,
  spanOfPath,
  suggestAppKey,
} from '../../extension/definitions/definitionsText';
import { definitionsJsonSchemaText } from '../../scripts/definitions-schema';

const ROOT = path.resolve(__dirname, '../..');

const SAMPLE = `{
  "app": { "key": "orders", "name": "Orders" },
  "settings": [
    {
      "name": "PaymentApiKey",
      "type": "Text",
      "description": "Key for the payment gateway",
      "isSecret": true
    },
    {
      "name": "MaxRetries",
      "type": "Integer",
      "defaultValue": "3"
    }
  ]
}
`;

const at = (text: string, span: { offset: number; length: number }) => text.slice(span.offset, span.offset + span.length);

test('a valid file parses into the document, its app and settings', () => {
  const p = parseDefinitionsText(SAMPLE);
  assert.ok(isPublishable(p));
  assert.deepEqual(p.app, { key: 'orders', name: 'Orders' });
  assert.deepEqual(p.settings.map((s) => [s.name, s.type, s.isSecret, s.defaultValue]), [
    ['PaymentApiKey', 'Text', true, undefined],
    ['MaxRetries', 'Integer', false, '3'],
  ]);
  assert.deepEqual(p.problems, []);
  assert.deepEqual(p.credentialWarnings, []);
});

test('syntax errors are located; settings are still listed as far as they can be read', () => {
  const broken = SAMPLE.replace('"type": "Integer",', '"type": "Integer"');
  const p = parseDefinitionsText(broken);
  assert.equal(isPublishable(p), false);
  assert.ok(p.syntaxErrors.length > 0);
  assert.match(p.syntaxErrors[0]!.message, /comma is expected/);
  assert.equal(broken.slice(p.syntaxErrors[0]!.offset).trimStart().startsWith('"defaultValue"'), true);
  assert.deepEqual(p.problems, [], 'rules are checked once the JSON is valid');
  assert.equal(parseDefinitionsText('').syntaxErrors.length, 1);
  assert.equal(parseDefinitionsText('{ // c\n}').syntaxErrors[0]!.message.includes('comments'), true);
});

test('each rule problem maps to the offending value', () => {
  const text = JSON.stringify(
    {
      app: { key: 'Orders!', name: 'Orders' },
      settings: [
        { name: '9lives', type: 'Text' },
        { name: 'Retries', type: 'Integer', defaultValue: 'three' },
        { name: 'retries', type: 'Text' },
        { name: 'Key', type: 'Text', isSecret: true, defaultValue: 'x' },
      ],
    },
    null,
    2,
  );
  const p = parseDefinitionsText(text);
  const found = p.problems.map((pr) => [pr.path.join('.'), at(text, spanOfPath(p.root, pr.path, pr.message))]);
  assert.deepEqual(found, [
    ['app.key', '"Orders!"'],
    ['settings.0.name', '"9lives"'],
    ['settings.1.defaultValue', '"three"'],
    ['settings.2.name', '"retries"'],
    ['settings.3.defaultValue', '"x"'],
  ]);
});

test('shape problems point at unknown fields, wrong types and missing fields', () => {
  const text = JSON.stringify({ app: { key: 'orders', name: 'Orders' }, settings: [{ name: 'A', type: 'Txt' }, { name: 'B', type: 'Text', isSceret: true }, { name: 'C' }] }, null, 2);
  const p = parseDefinitionsText(text);
  assert.equal(p.doc, undefined);
  const found = p.problems.map((pr) => [pr.path.join('.'), at(text, spanOfPath(p.root, pr.path, pr.message))]);
  assert.deepEqual(found, [
    ['settings.0.type', '"Txt"'],
    ['settings.1', '"isSceret"'],
    ['settings.2.type', '"C"'],
  ]);
  // The tree still lists the three settings.
  assert.deepEqual(p.settings.map((s) => [s.name, s.type, s.rawType]), [
    ['A', undefined, 'Txt'],
    ['B', 'Text', 'Text'],
    ['C', undefined, undefined],
  ]);
});

test('a non-secret default that looks like a credential gets a warning at the default', () => {
  const value = 'sk_live_' + 'a1B2c3D4e5F6g7H8i9J0k1L2';
  const text = SAMPLE.replace('"defaultValue": "3"', '"defaultValue": "3"\n    },\n    {\n      "name": "DbPassword",\n      "type": "Text",\n      "defaultValue": "hunter2"\n    },\n    {\n      "name": "Gateway",\n      "type": "Text",\n      "defaultValue": "' + value + '"');
  const p = parseDefinitionsText(text);
  assert.deepEqual(p.credentialWarnings.map((w) => [w.name, w.hint.basis]), [
    ['DbPassword', 'name'],
    ['Gateway', 'value'],
  ]);
  const span = spanOfPath(p.root, p.credentialWarnings[1]!.path);
  assert.equal(at(text, span), JSON.stringify(value));
  for (const w of p.credentialWarnings) assert.ok(!JSON.stringify(w).includes(value) && !JSON.stringify(w).includes('hunter2'));
});

test('edits change only what they must and keep unrelated content and formatting', () => {
  const custom = SAMPLE.replace('"app": { "key": "orders", "name": "Orders" },', '"$schema": "./schemas/odc-app.schema.json",\n  "app": { "key": "orders", "name": "Orders" },');
  const added = applyDefinitionsEdit(custom, { op: 'add', setting: { name: 'Greeting', type: 'Text', defaultValue: 'hello' } });
  assert.ok(added.startsWith(custom.slice(0, custom.lastIndexOf('}\n  ]'))), 'everything before the new element is untouched');
  assert.ok(added.includes('"$schema": "./schemas/odc-app.schema.json"'));
  assert.ok(added.includes('"app": { "key": "orders", "name": "Orders" }'), 'one-line app object stays as it was');
  assert.deepEqual(JSON.parse(added).settings[2], { name: 'Greeting', type: 'Text', defaultValue: 'hello' });
  assert.match(added, /\n {4}\{\n {6}"name": "Greeting",\n {6}"type": "Text",\n {6}"defaultValue": "hello"\n {4}\}\n {2}\]/);

  const renamed = applyDefinitionsEdit(added, { op: 'rename', name: 'Greeting', newName: 'Welcome' });
  assert.equal(renamed, added.replace('"Greeting"', '"Welcome"'));

  const described = applyDefinitionsEdit(renamed, { op: 'setDescription', name: 'MaxRetries', description: 'How often' });
  assert.equal(JSON.parse(described).settings[1].description, 'How often');
  assert.equal(JSON.parse(applyDefinitionsEdit(described, { op: 'setDescription', name: 'MaxRetries', description: '' })).settings[1].description, undefined);

  const typed = applyDefinitionsEdit(described, { op: 'setType', name: 'MaxRetries', type: 'LongInteger', defaultValue: '30' });
  assert.deepEqual(JSON.parse(typed).settings[1], { name: 'MaxRetries', type: 'LongInteger', defaultValue: '30', description: 'How often' });
  const noDefault = applyDefinitionsEdit(typed, { op: 'setDefault', name: 'MaxRetries', defaultValue: undefined });
  assert.equal('defaultValue' in JSON.parse(noDefault).settings[1], false);

  const secret = applyDefinitionsEdit(typed, { op: 'setSecret', name: 'Welcome', isSecret: true });
  assert.deepEqual(JSON.parse(secret).settings[2], { name: 'Welcome', type: 'Text', isSecret: true });
  const notSecret = applyDefinitionsEdit(secret, { op: 'setSecret', name: 'Welcome', isSecret: false });
  assert.deepEqual(JSON.parse(notSecret).settings[2], { name: 'Welcome', type: 'Text' });

  const deleted = applyDefinitionsEdit(notSecret, { op: 'delete', name: 'PaymentApiKey' });
  assert.deepEqual(JSON.parse(deleted).settings.map((s: { name: string }) => s.name), ['MaxRetries', 'Welcome']);
  assert.ok(parseDefinitionsText(deleted).syntaxErrors.length === 0);
});

test('edits refuse what the rules forbid and keep CRLF line ends', () => {
  assert.throws(() => applyDefinitionsEdit(SAMPLE, { op: 'add', setting: { name: 'maxretries', type: 'Text' } }), EditError);
  assert.throws(() => applyDefinitionsEdit(SAMPLE, { op: 'rename', name: 'MaxRetries', newName: 'paymentapikey' }), /already exists/);
  assert.throws(() => applyDefinitionsEdit(SAMPLE, { op: 'setDefault', name: 'PaymentApiKey', defaultValue: 'x' }), /secret has no default/);
  assert.throws(() => applyDefinitionsEdit(SAMPLE, { op: 'delete', name: 'maxretries' }), /no setting named/, 'names match exactly');
  assert.throws(() => applyDefinitionsEdit('{ "app": ', { op: 'delete', name: 'A' }), /syntax errors/);
  // A rename to a different case of the same name is allowed.
  assert.equal(JSON.parse(applyDefinitionsEdit(SAMPLE, { op: 'rename', name: 'MaxRetries', newName: 'MAXRETRIES' })).settings[1].name, 'MAXRETRIES');
  const crlf = SAMPLE.replace(/\n/g, '\r\n');
  const out = applyDefinitionsEdit(crlf, { op: 'add', setting: { name: 'X', type: 'Boolean', defaultValue: 'True' } });
  assert.equal(out.replace(/\r\n/g, '').includes('\n'), false, 'no bare LF introduced');
});

test('minimalEdit turns one text into another with the changed middle only', () => {
  const before = 'abc "x" def';
  const after = 'abc "yy" def';
  const e = minimalEdit(before, after)!;
  assert.deepEqual(e, { offset: 5, length: 1, content: 'yy' });
  assert.equal(before.slice(0, e.offset) + e.content + before.slice(e.offset + e.length), after);
  assert.equal(minimalEdit('same', 'same'), undefined);
});

test('a new file is stable 2-space JSON and a valid, empty app', () => {
  const text = newDefinitionsText({ key: 'orders', name: 'Orders' });
  assert.equal(text, '{\n  "app": {\n    "key": "orders",\n    "name": "Orders"\n  },\n  "settings": []\n}\n');
  assert.ok(isPublishable(parseDefinitionsText(text)));
  assert.equal(suggestAppKey('My Orders App'), 'my-orders-app');
  assert.equal(suggestAppKey('2024_Billing'), 'billing');
  assert.equal(suggestAppKey('___'), 'my-app');
});

test('schemas/odc-app.schema.json is up to date with common/definitions.ts (regenerate: node scripts/build.mjs schema)', () => {
  const committed = fs.readFileSync(path.join(ROOT, 'schemas/odc-app.schema.json'), 'utf8');
  assert.equal(committed, definitionsJsonSchemaText());
  const schema = JSON.parse(committed);
  assert.equal(schema.properties.settings.items.additionalProperties, false);
  assert.deepEqual(schema.properties.settings.items.required, ['name', 'type']);
  assert.ok(schema.properties.settings.items.properties.type.enum.includes('PhoneNumber'));
});

test('package.json points VS Code at the schema for the definitions file', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const entry = pkg.contributes.jsonValidation.find((j: { url: string }) => j.url === './schemas/odc-app.schema.json');
  assert.ok(entry && entry.fileMatch.includes('odc-app.json'));
});
