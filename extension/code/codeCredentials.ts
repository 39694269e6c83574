// Hard-coded credentials in code (SPEC §15): a string literal is flagged when its form is a
// known credential's (common/credentials.ts, the detector used for defaults), when it matches
// one of the team's patterns (odcSettings.secretPatterns), or when it is a long random token
// (or a password-like word) assigned to a name that says "credential". Random-looking strings
// under other names (UUIDs, hashes, base64 data) are left alone: that keeps false positives low.
// Pure (no vscode import); messages name the kind, never the value.
import { credentialPatternKind, isHighEntropyToken } from '../../common/credentials';
import * as l10n from '../l10n';
import type { StringLiteral } from './scanner';

// Credential kinds name what a string looks like inside a message ("... looks like {kind}"). They
// share the vocabulary of common/credentials.ts, which stays English (common/ knows no vscode).
// l10n-ignore: a credential kind, see above
export const TEAM_PATTERN_KIND = 'a value matching a team pattern (odcSettings.secretPatterns)';

/** Names in code that say "this holds a credential": apiKey, API_KEY, client_secret, dbPassword, authToken... */
const CREDENTIAL_NAME = /(?:password|passwd|pwd|passphrase|secret|secret_?key|token|api_?key|access_?key|private_?key|credentials?)$/i;
/** ...but not names that hold a token's kind or a URL. */
const NOT_CREDENTIAL_NAME = /(?:token_?type|tokenizer|(?:url|uri|endpoint|path|file|name|label|field|header|placeholder|hint|prompt|message|pattern|regex)$)/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const INTEGRITY = /^sha(?:1|256|384|512)-/;
/** Placeholders people write where the real value goes elsewhere. */
const PLACEHOLDER = /^(?:<.*>|\$\{.*\}|\{\{.*\}\}|%\(.*\)s|x+|\*+|\.+|changeme|change_me|replace_?me|your[-_ ].*|example.*|dummy.*|test.*|fake.*|todo|tbd|none|null|undefined|secret|password)$/i;

export interface CompiledPatterns {
  patterns: RegExp[];
  /** One message per refused pattern: its position and why (the pattern text is the user's own). */
  errors: string[];
}

/** Validates odcSettings.secretPatterns: each an ECMAScript regex that compiles and cannot match the empty string. */
export function compileSecretPatterns(value: unknown): CompiledPatterns {
  const patterns: RegExp[] = [];
  const errors: string[] = [];
  if (value === undefined || value === null) return { patterns, errors };
  if (!Array.isArray(value)) return { patterns, errors: [l10n.t('odcSettings.secretPatterns must be a list of regular expressions')] };
  value.forEach((p: unknown, i) => {
    if (typeof p !== 'string' || p === '') {
      errors.push(l10n.t('odcSettings.secretPatterns[{0}] must be a non-empty string', i));
      return;
    }
    let re: RegExp;
    try {
      re = new RegExp(p);
    } catch (err) {
      errors.push(l10n.t('odcSettings.secretPatterns[{0}] is not a valid regular expression ({1})', i, (err as Error).message.replace(/^Invalid regular expression: /, '')));
      return;
    }
    if (re.test('')) {
      errors.push(l10n.t('odcSettings.secretPatterns[{0}] matches the empty string, so it would flag every string', i));
      return;
    }
    patterns.push(re);
  });
  return { patterns, errors };
}

/** A password-like word: 8+ characters without spaces, with a digit, mixing at least three of lower, upper, digit, symbol (an id such as `app.setSecret` has no digit). */
function passwordLike(v: string): boolean {
  if (v.length < 8 || v.length > 200 || /\s/.test(v) || !/[0-9]/.test(v)) return false;
  const classes = [/[a-z]/, /[A-Z]/, /[0-9]/, /[^A-Za-z0-9]/].filter((re) => re.test(v)).length;
  return classes >= 3;
}

/** What the literal looks like, or undefined when it is ordinary code. */
export function literalCredentialKind(literal: Pick<StringLiteral, 'value' | 'context'>, team: readonly RegExp[]): string | undefined {
  const v = literal.value;
  if (v.length < 8) return undefined;
  const known = credentialPatternKind(v);
  if (known) return known;
  for (const re of team) {
    re.lastIndex = 0;
    if (re.test(v)) return TEAM_PATTERN_KIND;
  }
  const name = literal.context;
  if (!name || !CREDENTIAL_NAME.test(name) || NOT_CREDENTIAL_NAME.test(name)) return undefined;
  if (UUID.test(v) || INTEGRITY.test(v) || PLACEHOLDER.test(v)) return undefined;
  if (isHighEntropyToken(v)) return 'a random key or token'; // l10n-ignore: a credential kind (common/credentials.ts has the same)
  if (passwordLike(v)) return 'a password';
  return undefined;
}

export interface CredentialFinding {
  literal: StringLiteral;
  kind: string;
}

export function findCredentials(strings: readonly StringLiteral[], team: readonly RegExp[]): CredentialFinding[] {
  const out: CredentialFinding[] = [];
  for (const literal of strings) {
    const kind = literalCredentialKind(literal, team);
    if (kind) out.push({ literal, kind });
  }
  return out;
}

/** A setting name for the moved literal: from the name it was assigned to (stripeKey -> StripeKey), else from its kind. */
export function suggestSettingName(context: string | undefined, existing: readonly string[]): string {
  let base = 'ApiKey';
  if (context && /^[A-Za-z][A-Za-z0-9_]*$/.test(context)) {
    const words = context
      .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
      .split(/[_\s]+/)
      .filter(Boolean);
    base = words.map((w) => w.charAt(0).toUpperCase() + w.slice(1).toLowerCase()).join('');
  }
  const taken = new Set(existing.map((e) => e.toLowerCase()));
  if (!taken.has(base.toLowerCase())) return base;
  for (let n = 2; ; n++) if (!taken.has(`${base}${n}`.toLowerCase())) return `${base}${n}`;
}
