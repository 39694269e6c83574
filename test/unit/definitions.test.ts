// The definitions document's rules (SPEC §2, common/definitions.ts): app key, setting name
// syntax and case-insensitive uniqueness, types, description and default limits, no default
// for a secret; shape problems (400) apart from rule problems (422); each located by path,
// and no message repeating a value.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  changedFields,
  checkSettingName,
  definitionProblems,
  normalizeDefinitions,
  ruleProblems,
  shapeProblems,
  type AppDefinitions,
  type DefinitionProblem,
} from '../../common/definitions';

const SAMPLE: AppDefinitions = {
  app: { key: 'orders', name: 'Orders' },
  settings: [
    { name: 'PaymentApiKey', type: 'Text', description: 'Key for the payment gateway', isSecret: true },
    { name: 'MaxRetries', type: 'Integer', defaultValue: '3' },
  ],
};

function withApp(key: string): AppDefinitions {
  return { ...SAMPLE, app: { key, name: 'X' } };
}
function withSettings(...settings: AppDefinitions['settings']): AppDefinitions {
  return { app: { key: 'orders', name: 'Orders' }, settings };
}
const paths = (ps: DefinitionProblem[]) => ps.map((p) => p.path.join('.'));

describe('a valid document', () => {
  test('the SPEC sample has no problems', () => {
    assert.deepEqual(definitionProblems(SAMPLE), []);
    assert.deepEqual(definitionProblems({ app: { key: 'a', name: 'A' }, settings: [] }), []);
  });

  test('every type is accepted, with a valid default where it has one', () => {
    const defaults: Record<string, string> = {
      Text: '',
      Integer: '-2147483648',
      LongInteger: '9223372036854775807',
      Decimal: '-0.5',
      Boolean: 'False',
      Date: '2024-02-29',
      Time: '23:59:59',
      DateTime: '2024-02-29T23:59:59+01:00',
      Email: 'a@b.co',
      PhoneNumber: '+1 555 0100',
      Currency: '12.50',
    };
    const doc = withSettings(...Object.entries(defaults).map(([type, defaultValue]) => ({ name: `S${type}`, type: type as 'Text', defaultValue })));
    assert.deepEqual(definitionProblems(doc), []);
  });
});

describe('app.key: 1-64 of a-z 0-9 -, starting with a letter', () => {
  const good = ['a', 'orders', 'order-service', 'a1', 'a-', 'x'.repeat(64), 'a' + '0'.repeat(63)];
  const bad = ['', '1orders', '-orders', 'Orders', 'orDers', 'or_ders', 'or ders', 'orders.', 'ordérs', 'x'.repeat(65), ' orders'];
  for (const key of good) test(`"${key.slice(0, 20)}" (${key.length}) is valid`, () => assert.deepEqual(ruleProblems(withApp(key)), []));
  test(`${bad.length} invalid keys are refused at app.key`, () => {
    for (const key of bad) {
      const ps = ruleProblems(withApp(key));
      assert.deepEqual(paths(ps), ['app.key'], `key ${JSON.stringify(key)}`);
      assert.equal(ps[0]!.kind, 'rule');
    }
  });
});

describe('setting name: 1-100, a letter then letters, digits or _; unique ignoring case', () => {
  test('valid names', () => {
    for (const name of ['A', 'a', 'MaxRetries', 'max_retries', 'API_KEY', 'x1_', 'N' + 'a'.repeat(99)]) assert.equal(checkSettingName(name), undefined, name);
  });
  test('invalid names are located at settings.i.name', () => {
    for (const name of ['', '1abc', '_abc', 'has-dash', 'has space', 'dot.ted', 'Näme', 'N' + 'a'.repeat(100), 'tab\t']) {
      assert.equal(typeof checkSettingName(name), 'string', JSON.stringify(name));
      const ps = ruleProblems(withSettings({ name: 'Ok', type: 'Text' }, { name, type: 'Text' }));
      assert.deepEqual(paths(ps), ['settings.1.name'], JSON.stringify(name));
    }
  });
  test('names are unique ignoring case: the later duplicate is the one reported', () => {
    const ps = ruleProblems(withSettings({ name: 'ApiKey', type: 'Text' }, { name: 'Other', type: 'Text' }, { name: 'APIKEY', type: 'Integer' }, { name: 'apikey', type: 'Text' }));
    assert.deepEqual(paths(ps), ['settings.2.name', 'settings.3.name']);
    assert.match(ps[0]!.message, /setting 1\b/, 'it says which setting it duplicates');
    // Different names that only look alike are fine.
    assert.deepEqual(ruleProblems(withSettings({ name: 'ApiKey', type: 'Text' }, { name: 'API_KEY', type: 'Text' })), []);
  });
});

describe('type', () => {
  test("a type outside the list (binary, identifier, wrong case) is a shape problem at settings.i.type", () => {
    for (const type of ['BinaryData', 'Identifier', 'EntityIdentifier', 'text', 'Int', '', 'Object']) {
      const doc = { app: { key: 'orders', name: 'Orders' }, settings: [{ name: 'S', type }] };
      const ps = definitionProblems(doc);
      assert.deepEqual(paths(ps), ['settings.0.type'], type);
      assert.equal(ps[0]!.kind, 'shape');
    }
  });
});

describe('description and defaultValue limits', () => {
  test('a description is at most 2000 characters', () => {
    assert.deepEqual(ruleProblems(withSettings({ name: 'S', type: 'Text', description: 'd'.repeat(2000) })), []);
    assert.deepEqual(paths(ruleProblems(withSettings({ name: 'S', type: 'Text', description: 'd'.repeat(2001) }))), ['settings.0.description']);
  });
  test('a default is at most 2000 characters and valid for the type', () => {
    assert.deepEqual(ruleProblems(withSettings({ name: 'S', type: 'Text', defaultValue: 'v'.repeat(2000) })), []);
    assert.deepEqual(paths(ruleProblems(withSettings({ name: 'S', type: 'Text', defaultValue: 'v'.repeat(2001) }))), ['settings.0.defaultValue']);
    const bad: Array<[string, string]> = [
      ['Integer', '2147483648'],
      ['LongInteger', '9223372036854775808'],
      ['Decimal', '1e3'],
      ['Boolean', 'true'],
      ['Date', '2023-02-29'],
      ['Time', '24:00:00'],
      ['DateTime', '2024-01-01T00:00:00+24:00'],
      ['Email', 'nobody'],
      ['PhoneNumber', '12'],
      ['Currency', '1,00'],
    ];
    for (const [type, defaultValue] of bad) {
      const ps = ruleProblems(withSettings({ name: 'S', type: type as 'Text', defaultValue }));
      assert.deepEqual(paths(ps), ['settings.0.defaultValue'], `${type} ${defaultValue}`);
      assert.match(ps[0]!.message, /^default value must be/);
    }
  });
  test('an absent default is fine for every type', () => {
    assert.deepEqual(ruleProblems(withSettings({ name: 'A', type: 'Integer' }, { name: 'B', type: 'Date' }, { name: 'C', type: 'Boolean' })), []);
  });
  test('a secret has no default value, not even an empty one', () => {
    for (const defaultValue of ['x', '']) {
      const ps = ruleProblems(withSettings({ name: 'S', type: 'Text', isSecret: true, defaultValue }));
      assert.deepEqual(paths(ps), ['settings.0.defaultValue']);
      assert.match(ps[0]!.message, /secret/);
    }
    assert.deepEqual(ruleProblems(withSettings({ name: 'S', type: 'Text', isSecret: true })), []);
  });
  test('a message never repeats the value it refuses', () => {
    const canary = 'CANARY-5f1c0de2b7a94e31';
    const ps = ruleProblems(
      withSettings(
        { name: 'A', type: 'Integer', defaultValue: canary },
        { name: 'B', type: 'Text', isSecret: true, defaultValue: canary },
        { name: 'C', type: 'Text', defaultValue: canary + 'x'.repeat(2000) },
        { name: 'D', type: 'Email', defaultValue: canary },
      ),
    );
    assert.equal(ps.length, 4);
    for (const p of ps) assert.equal(p.message.includes('CANARY'), false, p.message);
  });
});

describe('shape problems (400) come before rule problems (422)', () => {
  test('unknown, missing and wrong-typed fields are located shape problems', () => {
    const cases: Array<[unknown, string]> = [
      [{ ...SAMPLE, extra: 1 }, ''],
      [{ settings: [] }, 'app'],
      [{ app: { key: 'orders' }, settings: [] }, 'app.name'],
      [{ app: { key: 'orders', name: 'O' } }, 'settings'],
      [{ app: { key: 'orders', name: 'O' }, settings: [{ name: 'S', type: 'Text', isSceret: true }] }, 'settings.0'],
      [{ app: { key: 'orders', name: 'O' }, settings: [{ name: 'S', type: 'Text', isSecret: 'yes' }] }, 'settings.0.isSecret'],
      [{ app: { key: 'orders', name: 'O' }, settings: [{ name: 'S', type: 'Integer', defaultValue: 3 }] }, 'settings.0.defaultValue'],
      [{ app: { key: 'orders', name: 'O' }, settings: [{ type: 'Text' }] }, 'settings.0.name'],
      [{ app: { key: 'orders', name: 'O' }, settings: {} }, 'settings'],
    ];
    for (const [doc, where] of cases) {
      const ps = shapeProblems(doc);
      assert.ok(ps.length > 0, JSON.stringify(doc));
      assert.ok(ps.every((p) => p.kind === 'shape'));
      assert.ok(paths(ps).includes(where), `${JSON.stringify(doc)} -> ${paths(ps).join(', ')}`);
    }
    for (const doc of [null, [], 'text', 42]) assert.ok(shapeProblems(doc).length > 0);
  });
  test('a document with a wrong shape reports only its shape problems', () => {
    const ps = definitionProblems({ app: { key: 'BAD KEY', name: 'O' }, settings: [{ name: '1bad', type: 'Text', unknown: true }] });
    assert.ok(ps.length > 0);
    assert.ok(ps.every((p) => p.kind === 'shape'));
  });
  test('the $schema reference is allowed', () => {
    assert.deepEqual(definitionProblems({ $schema: './odc-app.schema.json', ...SAMPLE }), []);
  });
  test('every rule problem in one document is reported at once', () => {
    const ps = ruleProblems({
      app: { key: '9bad', name: 'O' },
      settings: [
        { name: 'bad name', type: 'Text' },
        { name: 'Dup', type: 'Text' },
        { name: 'DUP', type: 'Text' },
        { name: 'S', type: 'Integer', defaultValue: 'x' },
      ],
    });
    assert.deepEqual(paths(ps).sort(), ['app.key', 'settings.0.name', 'settings.2.name', 'settings.3.defaultValue'].sort());
  });
});

describe('normalising and comparing', () => {
  test('absent isSecret is false, absent description is "", absent default is null; a secret has no default', () => {
    const n = normalizeDefinitions({
      $schema: 'x',
      app: { key: 'orders', name: 'Orders' },
      settings: [{ name: 'A', type: 'Text' }, { name: 'B', type: 'Integer', defaultValue: '3', description: 'd', isSecret: false }, { name: 'C', type: 'Text', isSecret: true }],
    } as AppDefinitions);
    assert.deepEqual(n, {
      app: { key: 'orders', name: 'Orders' },
      settings: [
        { name: 'A', type: 'Text', description: '', defaultValue: null, isSecret: false },
        { name: 'B', type: 'Integer', description: 'd', defaultValue: '3', isSecret: false },
        { name: 'C', type: 'Text', description: '', defaultValue: null, isSecret: true },
      ],
    });
  });
  test('changedFields lists the fields that differ in the order type, isSecret, description, defaultValue', () => {
    const base = { name: 'S', type: 'Text' as const, description: '', defaultValue: null, isSecret: false };
    assert.deepEqual(changedFields(base, { ...base }), []);
    assert.deepEqual(changedFields(base, { ...base, defaultValue: '' }), ['defaultValue'], 'no default and "" differ');
    assert.deepEqual(changedFields(base, { ...base, defaultValue: 'x', description: 'y', isSecret: true, type: 'Integer' }), ['type', 'isSecret', 'description', 'defaultValue']);
  });
});
