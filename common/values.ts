// Value syntax per setting type (SPEC §2). Messages describe the rule, never the value:
// the same checks run on secrets, and an error must not echo one.

export const SETTING_TYPES = [
  'Text',
  'Integer',
  'LongInteger',
  'Decimal',
  'Boolean',
  'Date',
  'Time',
  'DateTime',
  'Email',
  'PhoneNumber',
  'Currency',
] as const;
export type SettingType = (typeof SETTING_TYPES)[number];

export const MAX_VALUE_LENGTH = 2000;
export const MAX_SECRET_BYTES = 48 * 1024;
export const SECRET_MASK = '*****';

const INT32 = [-(2n ** 31n), 2n ** 31n - 1n] as const;
const INT64 = [-(2n ** 63n), 2n ** 63n - 1n] as const;

function inRange(text: string, [min, max]: readonly [bigint, bigint]): boolean {
  if (!/^[+-]?\d+$/.test(text)) return false;
  const n = BigInt(text.startsWith('+') ? text.slice(1) : text);
  return n >= min && n <= max;
}

function isDate(text: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (mo < 1 || mo > 12 || d < 1) return false;
  // Arithmetic, not Date.UTC: that maps years 0-99 to 1900-1999 (0000 is a leap year, 1900 is not).
  const leap = y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0);
  const daysInMonth = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1]!;
  return d <= daysInMonth;
}

function isTime(text: string): boolean {
  const m = /^(\d{2}):(\d{2}):(\d{2})$/.exec(text);
  return !!m && Number(m[1]) <= 23 && Number(m[2]) <= 59 && Number(m[3]) <= 59;
}

function isDateTime(text: string): boolean {
  const m = /^(\d{4}-\d{2}-\d{2})T(\d{2}:\d{2}:\d{2})(Z|[+-](\d{2}):(\d{2}))?$/.exec(text);
  if (!m || !isDate(m[1]!) || !isTime(m[2]!)) return false;
  if (m[4] !== undefined && (Number(m[4]) > 23 || Number(m[5]) > 59)) return false;
  return true;
}

function isEmail(text: string): boolean {
  if (text.length > 254 || /\s/.test(text)) return false;
  const parts = text.split('@');
  if (parts.length !== 2) return false;
  const [local, domain] = parts as [string, string];
  return local.length > 0 && /^[^.]+(\.[^.]+)+$/.test(domain);
}

function isPhoneNumber(text: string): boolean {
  return /^[0-9 +\-().]{3,32}$/.test(text) && (text.match(/\d/g)?.length ?? 0) >= 3;
}

const RULES: Record<SettingType, { test: (v: string) => boolean; expect: string }> = {
  Text: { test: () => true, expect: 'any text' },
  Integer: { test: (v) => inRange(v, INT32), expect: 'a whole number between -2147483648 and 2147483647' },
  LongInteger: { test: (v) => inRange(v, INT64), expect: 'a whole number within 64-bit signed range' },
  Decimal: { test: (v) => /^[+-]?\d+(\.\d+)?$/.test(v), expect: 'a decimal number such as -12.50 (no exponent)' },
  Currency: { test: (v) => /^[+-]?\d+(\.\d+)?$/.test(v), expect: 'an amount such as 1250.00 (no exponent)' },
  Boolean: { test: (v) => v === 'True' || v === 'False', expect: 'True or False' },
  Date: { test: isDate, expect: 'a calendar date as YYYY-MM-DD' },
  Time: { test: isTime, expect: 'a time as HH:MM:SS' },
  DateTime: { test: isDateTime, expect: 'a date and time as YYYY-MM-DDTHH:MM:SS, optionally with Z or +HH:MM' },
  Email: { test: isEmail, expect: 'an email address such as name@example.com' },
  PhoneNumber: { test: isPhoneNumber, expect: '3-32 digits, spaces and + - ( ) ., with at least 3 digits' },
};

/** What a value of this type looks like, for hints and placeholders. */
export function describeType(type: SettingType): string {
  return RULES[type].expect;
}

/**
 * Checks a default or stage value. Returns a short reason ("must be ...") or
 * undefined when valid. Never includes the value itself.
 */
export function checkValue(type: SettingType, value: string, isSecret: boolean): string | undefined {
  if (isSecret) {
    if (new TextEncoder().encode(value).length > MAX_SECRET_BYTES) return `must be at most ${MAX_SECRET_BYTES} bytes (48 KiB) in UTF-8`;
  } else if (value.length > MAX_VALUE_LENGTH) {
    return `must be at most ${MAX_VALUE_LENGTH} characters`;
  }
  return RULES[type].test(value) ? undefined : `must be ${RULES[type].expect}`;
}
