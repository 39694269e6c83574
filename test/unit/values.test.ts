// Value syntax per setting type (SPEC §2, common/values.ts): every type's rule with its edge
// cases, the length limits (2000 characters; a secret 48 KiB in UTF-8), and error messages
// that describe the rule without ever repeating the value.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, test } from 'node:test';
import { checkValue, describeType, MAX_SECRET_BYTES, MAX_VALUE_LENGTH, SETTING_TYPES, type SettingType } from '../../common/values';

const valid = (type: SettingType, value: string, isSecret = false) => checkValue(type, value, isSecret) === undefined;

/** [type, valid values, invalid values], each value checked as a non-secret and as a secret. */
const TABLE: Array<[SettingType, string[], string[]]> = [
  ['Text', ['', ' ', 'anything at all', 'ünïcødé ✓', 'line\nbreak', 'x'.repeat(2000)], []],
  [
    'Integer',
    ['0', '-0', '+0', '7', '-7', '+7', '007', '2147483647', '-2147483648', '+2147483647'],
    ['', '+', '-', '2147483648', '-2147483649', '99999999999999999999', '1.0', '1.', '.5', '1e3', '1E3', ' 1', '1 ', '0x10', '1_000', '1,000', '--1', '+-1', '١٢', 'NaN', 'Infinity'],
  ],
  [
    'LongInteger',
    ['0', '-1', '2147483648', '-2147483649', '9223372036854775807', '-9223372036854775808', '+9223372036854775807', '0009223372036854775807'],
    ['', '9223372036854775808', '-9223372036854775809', '18446744073709551616', '1.5', '1e18', ' 5', 'five'],
  ],
  [
    'Decimal',
    ['0', '-12.50', '+3.14', '12', '0.000001', '-0', '123456789012345678901234567890.5'],
    ['', '.5', '5.', '1e5', '1E-5', '1.2.3', '1,5', '+', '-.5', ' 1.5', '1.5 ', 'NaN', 'Infinity', '0x1A', '1_0'],
  ],
  [
    'Currency',
    ['0', '1250.00', '-3.5', '+10', '0.01'],
    ['', '$10', '10 EUR', '1e3', '.99', '10.', '1,000.00'],
  ],
  ['Boolean', ['True', 'False'], ['true', 'false', 'TRUE', 'FALSE', '1', '0', 'yes', 'no', '', ' True', 'True ']],
  [
    'Date',
    ['2024-02-29', '2000-02-29', '2023-02-28', '2024-12-31', '2024-01-01', '1999-04-30', '9999-12-31', '1600-02-29', '0000-02-29', '0004-02-29', '0001-01-01'],
    ['2023-02-29', '1900-02-29', '2100-02-29', '0100-02-29', '0001-02-29', '2024-02-30', '2024-04-31', '2024-06-31', '2024-13-01', '2024-00-10', '2024-01-00', '2024-01-32', '2024-1-01', '2024-01-1', '24-01-01', '2024/01/01', '20240101', '2024-01-01T00:00:00', ' 2024-01-01', ''],
  ],
  [
    'Time',
    ['00:00:00', '23:59:59', '12:30:05'],
    ['24:00:00', '23:60:00', '23:59:60', '1:00:00', '12:00', '12:00:00.5', '12:00:00Z', '12-00-00', '', '-1:00:00'],
  ],
  [
    'DateTime',
    ['2024-02-29T12:34:56', '2024-02-29T12:34:56Z', '2024-01-01T00:00:00+05:30', '2024-01-01T23:59:59-08:00', '2024-01-01T00:00:00+00:00', '2024-01-01T00:00:00+14:00', '2024-01-01T00:00:00-23:59'],
    [
      '2023-02-29T00:00:00Z',
      '2024-01-01 12:00:00',
      '2024-01-01T24:00:00',
      '2024-01-01T12:60:00',
      '2024-01-01T12:00',
      '2024-01-01T12:00:00.000Z',
      '2024-01-01T12:00:00+5:30',
      '2024-01-01T12:00:00+0530',
      '2024-01-01T12:00:00+24:00',
      '2024-01-01T12:00:00+05:60',
      '2024-01-01T12:00:00z',
      '2024-01-01T12:00:00ZZ',
      '2024-01-01',
      '12:00:00',
      '',
    ],
  ],
  [
    'Email',
    ['a@b.co', 'name.surname+tag@example.co.uk', 'x_y@sub.domain.org', `${'a'.repeat(64)}@${'b'.repeat(185)}.com`],
    ['', 'a@b', '@b.co', 'a@', 'a b@c.co', 'a@b .co', 'a\t@b.co', 'a@@b.co', 'a@b@c.co', 'a@.co', 'a@b.', 'a@b..co', 'plain', `${'a'.repeat(64)}@${'b'.repeat(186)}.com`],
  ],
  [
    'PhoneNumber',
    ['123', '+1 (555) 123-4567', '1.2.3', '+351 912 345 678', '0'.repeat(32), '+'.repeat(29) + '123'],
    ['', '12', '+12', '1-2', '+-()', '12a', 'ab123', '0'.repeat(33), '123#4', '123/4', 'tel:123', '+1\n555'],
  ],
];

describe('checkValue: every type, valid and invalid', () => {
  test('the table covers every setting type', () => {
    assert.deepEqual(TABLE.map(([t]) => t).sort(), [...SETTING_TYPES].sort());
    assert.equal(SETTING_TYPES.length, 11);
  });

  for (const [type, good, bad] of TABLE) {
    test(`${type}: ${good.length} valid, ${bad.length} invalid`, () => {
      for (const v of good) {
        assert.equal(checkValue(type, v, false), undefined, `${type} ${JSON.stringify(v)} should be valid`);
        assert.equal(checkValue(type, v, true), undefined, `${type} ${JSON.stringify(v)} should be valid as a secret`);
      }
      for (const v of bad) {
        const problem = checkValue(type, v, false);
        assert.equal(typeof problem, 'string', `${type} ${JSON.stringify(v)} should be invalid`);
        assert.match(problem!, /^must be /);
        assert.equal(typeof checkValue(type, v, true), 'string', `${type} ${JSON.stringify(v)} should be invalid as a secret too`);
      }
    });
  }

  test('an email of exactly 254 characters is valid, 255 is not', () => {
    const of = (n: number) => `${'a'.repeat(n - '@example.com'.length)}@example.com`;
    assert.equal(of(254).length, 254);
    assert.ok(valid('Email', of(254)));
    assert.ok(!valid('Email', of(255)));
  });

  test('a phone number of 32 characters is valid, 33 is not; 3 digits are the minimum', () => {
    assert.ok(valid('PhoneNumber', '1'.repeat(32)));
    assert.ok(!valid('PhoneNumber', '1'.repeat(33)));
    assert.ok(valid('PhoneNumber', '(1) 2-3'));
    assert.ok(!valid('PhoneNumber', '(1) 2-'));
  });
});

describe('length limits', () => {
  test('a non-secret value is at most 2000 characters, for every type', () => {
    assert.equal(MAX_VALUE_LENGTH, 2000);
    assert.ok(valid('Text', 'x'.repeat(2000)));
    assert.match(checkValue('Text', 'x'.repeat(2001), false)!, /2000/);
    // Characters, not bytes: 2000 two-byte characters are fine for a non-secret.
    assert.ok(valid('Text', 'é'.repeat(2000)));
    assert.ok(!valid('Text', 'é'.repeat(2001)));
    // A value of the right syntax but too long is still refused.
    assert.ok(!valid('Decimal', '1'.repeat(2001)));
    assert.ok(valid('Decimal', '1'.repeat(2000)));
  });

  test('a secret value is at most 48 KiB in UTF-8 (bytes, not characters)', () => {
    assert.equal(MAX_SECRET_BYTES, 49152);
    assert.ok(valid('Text', 'x'.repeat(2001), true), 'the 2000-character limit is for non-secrets');
    assert.ok(valid('Text', 'x'.repeat(49152), true));
    assert.match(checkValue('Text', 'x'.repeat(49153), true)!, /48 KiB|49152/);
    // 'é' is two bytes: 24576 of them are exactly 48 KiB, one more is over, though far fewer characters.
    assert.ok(valid('Text', 'é'.repeat(24576), true));
    assert.ok(!valid('Text', 'é'.repeat(24577), true));
    // A 4-byte character straddling the limit.
    assert.ok(valid('Text', 'x'.repeat(49148) + '😀', true));
    assert.ok(!valid('Text', 'x'.repeat(49149) + '😀', true));
    // A secret still follows its type's rule.
    assert.ok(!valid('Integer', 'abc', true));
    assert.ok(valid('Integer', '42', true));
  });
});

describe('messages never include the value', () => {
  const canary = () => `CANARY-${randomBytes(12).toString('hex')}`;

  test('an invalid value of every type is described by its rule, not echoed', () => {
    for (const type of SETTING_TYPES) {
      const values = type === 'Text' ? [] : [canary(), `${canary()} 123`, `1${canary()}`];
      values.push(canary() + 'x'.repeat(2000));
      for (const v of values) {
        for (const isSecret of [false, true]) {
          const problem = checkValue(type, isSecret ? v + 'y'.repeat(MAX_SECRET_BYTES) : v, isSecret);
          assert.equal(typeof problem, 'string', `${type} ${v.slice(0, 30)} is invalid`);
          assert.equal(problem!.includes('CANARY-'), false, `${type}: ${problem}`);
          assert.ok(problem!.length < 200, 'a short message');
        }
      }
    }
  });

  // The mask itself (*****) is asserted where users see it: the server's stage values
  // (test/server/values.test.ts), the tree's description (test/ui/settings-tree.test.ts) and the
  // editor (test/webview), each against the literal, not against the constant.
  test('each type has a description for hints', () => {
    for (const type of SETTING_TYPES) assert.ok(describeType(type).trim().length > 0, type);
  });
});
