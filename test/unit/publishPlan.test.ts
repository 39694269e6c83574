// The publish plan (SPEC §3, server/services/publishPlan.ts computePlan): each row of the
// table of changes and its effect on stored values, no-change detection (after normalising),
// and order and app-name changes counting as changes.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { normalizeDefinitions, type AppDefinitions, type NormalizedDefinitions } from '../../common/definitions';
import { computePlan, type StoredValueRef } from '../../server/services/publishPlan';

const STAGES = ['development', 'qa', 'production'];

function defs(settings: AppDefinitions['settings'], name = 'Orders'): NormalizedDefinitions {
  return normalizeDefinitions({ app: { key: 'orders', name }, settings });
}

/** Stored values; `reads` counts how often the plan had to read (decrypt) one. */
function stored(entries: Array<[stage: string, name: string, value: string]>) {
  const reads: string[] = [];
  const values: StoredValueRef[] = entries.map(([stage, name, value]) => ({
    stage,
    name,
    read: () => {
      reads.push(`${name}@${stage}`);
      return value;
    },
  }));
  return { values, reads };
}

const BASE: AppDefinitions['settings'] = [
  { name: 'PaymentApiKey', type: 'Text', description: 'Key', isSecret: true },
  { name: 'MaxRetries', type: 'Integer', defaultValue: '3' },
  { name: 'Greeting', type: 'Text', defaultValue: 'hello' },
];
const published = () => {
  const d = defs(BASE);
  return { name: d.app.name, settings: d.settings };
};
/** A value for every setting in every stage, listed in a scrambled stage order. */
const allValues = () =>
  stored([
    ['production', 'PaymentApiKey', 'secret-prod'],
    ['development', 'PaymentApiKey', 'secret-dev'],
    ['qa', 'PaymentApiKey', 'secret-qa'],
    ['qa', 'MaxRetries', '5'],
    ['production', 'MaxRetries', '7'],
    ['qa', 'Greeting', 'hi'],
    ['production', 'Greeting', '42'],
  ]);

describe('computePlan', () => {
  test('a first publish adds every setting and changes the app', () => {
    const { plan, changed } = computePlan(null, defs(BASE), [], STAGES);
    assert.equal(changed, true);
    assert.deepEqual(plan, { added: ['PaymentApiKey', 'MaxRetries', 'Greeting'], removed: [], changed: [], deletions: [] });
    assert.equal(computePlan(null, defs([]), [], STAGES).changed, true, 'even with no settings, a first publish is a change');
  });

  test('the same definitions again: no change, nothing read', () => {
    const { values, reads } = allValues();
    const { plan, changed } = computePlan(published(), defs(BASE), values, STAGES);
    assert.equal(changed, false);
    assert.deepEqual(plan, { added: [], removed: [], changed: [], deletions: [] });
    assert.deepEqual(reads, []);
  });

  test('compared after normalising: absent isSecret = false, absent description = ""', () => {
    const explicit = BASE.map((s) => ({ description: '', isSecret: false, ...s }));
    assert.equal(computePlan(published(), defs(explicit), [], STAGES).changed, false);
  });

  test('setting added: no effect on stored values', () => {
    const { values } = allValues();
    const { plan, changed } = computePlan(published(), defs([...BASE, { name: 'NewSecret', type: 'Text', isSecret: true }]), values, STAGES);
    assert.equal(changed, true);
    assert.deepEqual(plan, { added: ['NewSecret'], removed: [], changed: [], deletions: [] });
  });

  test('setting removed: its values in every stage are deleted, in stage order', () => {
    const { values } = allValues();
    const { plan, changed } = computePlan(published(), defs(BASE.filter((s) => s.name !== 'PaymentApiKey')), values, STAGES);
    assert.equal(changed, true);
    assert.deepEqual(plan.removed, ['PaymentApiKey']);
    assert.deepEqual(plan.added, []);
    assert.deepEqual(plan.deletions, [
      { setting: 'PaymentApiKey', stage: 'development', reason: 'removed' },
      { setting: 'PaymentApiKey', stage: 'qa', reason: 'removed' },
      { setting: 'PaymentApiKey', stage: 'production', reason: 'removed' },
    ]);
  });

  test('a rename is a removal plus an addition', () => {
    const { values } = allValues();
    const renamed = BASE.map((s) => (s.name === 'Greeting' ? { ...s, name: 'Salutation' } : s));
    const { plan } = computePlan(published(), defs(renamed), values, STAGES);
    assert.deepEqual(plan.added, ['Salutation']);
    assert.deepEqual(plan.removed, ['Greeting']);
    assert.deepEqual(plan.deletions.map((d) => `${d.setting}@${d.stage}:${d.reason}`), ['Greeting@qa:removed', 'Greeting@production:removed']);
  });

  test('secret -> non-secret: its values in every stage are deleted, without decrypting them', () => {
    const { values, reads } = allValues();
    const next = BASE.map((s) => (s.name === 'PaymentApiKey' ? { ...s, isSecret: false } : s));
    const { plan, changed } = computePlan(published(), defs(next), values, STAGES);
    assert.equal(changed, true);
    assert.deepEqual(plan.changed, [{ name: 'PaymentApiKey', changes: ['isSecret'] }]);
    assert.deepEqual(plan.deletions, STAGES.map((stage) => ({ setting: 'PaymentApiKey', stage, reason: 'secret-to-non-secret' })));
    assert.deepEqual(reads, []);
  });

  test('non-secret -> secret: its plaintext values in every stage are deleted (and its default goes)', () => {
    const { values } = allValues();
    const next = BASE.map((s) => (s.name === 'MaxRetries' ? { name: 'MaxRetries', type: 'Integer' as const, isSecret: true } : s));
    const { plan } = computePlan(published(), defs(next), values, STAGES);
    assert.deepEqual(plan.changed, [{ name: 'MaxRetries', changes: ['isSecret', 'defaultValue'] }]);
    assert.deepEqual(plan.deletions, [
      { setting: 'MaxRetries', stage: 'qa', reason: 'non-secret-to-secret' },
      { setting: 'MaxRetries', stage: 'production', reason: 'non-secret-to-secret' },
    ]);
  });

  test('type changed: values invalid for the new type are deleted, valid ones kept', () => {
    const { values, reads } = allValues();
    // Greeting: "hi" (qa) is not an Integer, "42" (production) is.
    const next = BASE.map((s) => (s.name === 'Greeting' ? { name: 'Greeting', type: 'Integer' as const, defaultValue: '1' } : s));
    const { plan } = computePlan(published(), defs(next), values, STAGES);
    assert.deepEqual(plan.changed, [{ name: 'Greeting', changes: ['type', 'defaultValue'] }]);
    assert.deepEqual(plan.deletions, [{ setting: 'Greeting', stage: 'qa', reason: 'invalid-for-type' }]);
    assert.deepEqual(reads.sort(), ['Greeting@production', 'Greeting@qa'], 'only the changed setting is read');
  });

  test('type changed on a secret: its values are read (decrypted) to check them, invalid ones deleted', () => {
    const { values, reads } = stored([
      ['development', 'Pin', '1234'],
      ['qa', 'Pin', 'abcd'],
      ['production', 'Pin', '99999999999'],
    ]);
    const before = defs([{ name: 'Pin', type: 'Text', isSecret: true }]);
    const { plan } = computePlan({ name: 'Orders', settings: before.settings }, defs([{ name: 'Pin', type: 'Integer', isSecret: true }]), values, STAGES);
    assert.deepEqual(plan.changed, [{ name: 'Pin', changes: ['type'] }]);
    assert.deepEqual(plan.deletions, [
      { setting: 'Pin', stage: 'qa', reason: 'invalid-for-type' },
      { setting: 'Pin', stage: 'production', reason: 'invalid-for-type' },
    ]);
    assert.equal(reads.length, 3);
  });

  test('a widening type change keeps every value', () => {
    const { values } = allValues();
    const next = BASE.map((s) => (s.name === 'MaxRetries' ? { ...s, type: 'LongInteger' as const } : s));
    const { plan, changed } = computePlan(published(), defs(next), values, STAGES);
    assert.equal(changed, true);
    assert.deepEqual(plan.changed, [{ name: 'MaxRetries', changes: ['type'] }]);
    assert.deepEqual(plan.deletions, []);
  });

  test('description or default changed: no effect on stored values', () => {
    const { values, reads } = allValues();
    const next = BASE.map((s) => (s.name === 'MaxRetries' ? { ...s, defaultValue: '4', description: 'How often' } : s.name === 'PaymentApiKey' ? { ...s, description: 'New text' } : s));
    const { plan, changed } = computePlan(published(), defs(next), values, STAGES);
    assert.equal(changed, true);
    assert.deepEqual(plan.changed, [
      { name: 'PaymentApiKey', changes: ['description'] },
      { name: 'MaxRetries', changes: ['description', 'defaultValue'] },
    ]);
    assert.deepEqual(plan.deletions, []);
    assert.deepEqual(reads, []);
    // Removing a default is a change too ("" and none differ).
    const noDefault = BASE.map((s) => (s.name === 'Greeting' ? { name: 'Greeting', type: 'Text' as const } : s));
    assert.deepEqual(computePlan(published(), defs(noDefault), values, STAGES).plan.changed, [{ name: 'Greeting', changes: ['defaultValue'] }]);
  });

  test('only the order of the settings changed: a change, with an empty plan', () => {
    const { values } = allValues();
    const { plan, changed } = computePlan(published(), defs([BASE[2]!, BASE[0]!, BASE[1]!]), values, STAGES);
    assert.equal(changed, true);
    assert.deepEqual(plan, { added: [], removed: [], changed: [], deletions: [] });
  });

  test('only the app name changed: a change, with an empty plan', () => {
    const { plan, changed } = computePlan(published(), defs(BASE, 'Order Service'), [], STAGES);
    assert.equal(changed, true);
    assert.deepEqual(plan, { added: [], removed: [], changed: [], deletions: [] });
  });

  test('several changes at once: deletions in the old definitions\' order, then stage order', () => {
    const { values } = allValues();
    const next = [
      { name: 'Greeting', type: 'Text' as const, isSecret: true },
      { name: 'PaymentApiKey', type: 'Text' as const, description: 'Key' },
      { name: 'Added', type: 'Boolean' as const, defaultValue: 'True' },
    ];
    const { plan, changed } = computePlan(published(), defs(next), values, STAGES);
    assert.equal(changed, true);
    assert.deepEqual(plan.added, ['Added']);
    assert.deepEqual(plan.removed, ['MaxRetries']);
    assert.deepEqual(plan.changed, [
      { name: 'Greeting', changes: ['isSecret', 'defaultValue'] },
      { name: 'PaymentApiKey', changes: ['isSecret'] },
    ]);
    assert.deepEqual(plan.deletions.map((d) => `${d.setting}@${d.stage}:${d.reason}`), [
      'PaymentApiKey@development:secret-to-non-secret',
      'PaymentApiKey@qa:secret-to-non-secret',
      'PaymentApiKey@production:secret-to-non-secret',
      'MaxRetries@qa:removed',
      'MaxRetries@production:removed',
      'Greeting@qa:non-secret-to-secret',
      'Greeting@production:non-secret-to-secret',
    ]);
  });

  test('a setting with no stored values deletes nothing, whatever changes', () => {
    const next = [{ name: 'PaymentApiKey', type: 'Integer' as const }, { name: 'MaxRetries', type: 'Integer' as const, isSecret: true }];
    const { plan } = computePlan(published(), defs(next), [], STAGES);
    assert.deepEqual(plan.deletions, []);
    assert.deepEqual(plan.removed, ['Greeting']);
  });
});
