// Does a non-secret setting's default value look like a credential? Pure heuristics used by
// the extension's "Set as secret" warning. The answer names the kind of credential, never the
// value, so it can go into a diagnostic or a log as it is.

export interface CredentialHint {
  /** What it looks like, e.g. "a GitHub token" (never derived from the value's characters). */
  kind: string;
  /** What triggered the hint: the value's form, or the setting's name plus a non-empty default. */
  basis: 'value' | 'name';
}

const VALUE_PATTERNS: ReadonlyArray<{ kind: string; test: RegExp }> = [
  { kind: 'a GitHub token', test: /\b(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})\b/ },
  { kind: 'a GitLab token', test: /\bglpat-[A-Za-z0-9_-]{20,}\b/ },
  { kind: 'a Stripe secret key', test: /\b(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{16,}\b/ },
  { kind: 'a Slack token', test: /\bxox[abposr]-[A-Za-z0-9-]{10,}\b/ },
  { kind: 'an AWS access key id', test: /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/ },
  { kind: 'a Google API key', test: /\bAIza[A-Za-z0-9_-]{35}\b/ },
  { kind: 'an OpenAI API key', test: /\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}\b/ },
  { kind: 'an npm token', test: /\bnpm_[A-Za-z0-9]{36}\b/ },
  { kind: 'a SendGrid API key', test: /\bSG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}\b/ },
  { kind: 'a PEM key or certificate block', test: /-----BEGIN [A-Z0-9 ]{2,40}-----/ },
  { kind: 'a JSON Web Token', test: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/ },
  { kind: 'a URL with a password in it', test: /^[a-z][a-z0-9+.-]*:\/\/[^\s/:@]+:[^\s/@]+@/i },
  { kind: 'a connection string with a password', test: /(?:^|;)\s*(?:password|pwd)\s*=\s*[^;\s]+/i },
];

/** Names that say "this is a credential": *Password, *Secret, *Token, *ApiKey and a few relatives. */
const CREDENTIAL_NAME = /(?:password|passwd|passphrase|secret|token|apikey|api_key|accesskey|access_key|privatekey|private_key|credentials?)$/i;

/** Shannon entropy in bits per character. */
export function entropy(text: string): number {
  const counts = new Map<string, number>();
  for (const ch of text) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let bits = 0;
  for (const n of counts.values()) {
    const p = n / text.length;
    bits -= p * Math.log2(p);
  }
  return bits;
}

/**
 * A long random-looking token: one word of base64/hex/url-safe characters mixing letters and
 * digits, with high entropy. URLs, sentences, paths and identifiers fail the character set or
 * the entropy bar.
 */
export function isHighEntropyToken(value: string): boolean {
  const v = value.trim();
  if (!/[0-9]/.test(v) || !/[A-Za-z]/.test(v)) return false;
  if (/^[0-9a-fA-F]+$/.test(v)) return v.length >= 32 && entropy(v) >= 3.0;
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(v)) return false;
  return v.length >= 24 && entropy(v) >= 3.5;
}

/** A hint when `defaultValue` (of a non-secret setting called `name`) looks like a credential. */
export function credentialHint(name: string, defaultValue: string | undefined | null): CredentialHint | undefined {
  if (defaultValue === undefined || defaultValue === null || defaultValue.trim() === '') return undefined;
  for (const p of VALUE_PATTERNS) if (p.test.test(defaultValue)) return { kind: p.kind, basis: 'value' };
  if (isHighEntropyToken(defaultValue)) return { kind: 'a random key or token', basis: 'value' };
  // A flag such as UseToken = True is configuration, not a credential.
  if (CREDENTIAL_NAME.test(name) && !/^(?:true|false)$/i.test(defaultValue.trim())) return { kind: 'a credential (by its name)', basis: 'name' };
  return undefined;
}

/**
 * The shapes above as one regex per flag set: one pass over a value rules out the common case (no
 * match) before the patterns are tried one by one to name the kind. Cheap exact gates first (this
 * runs for every string literal of a file): the token shapes (no flags) match nothing shorter than
 * TOKEN_MIN_LENGTH characters, and the two case-insensitive ones (a URL with a password, a
 * connection string) need `://` or `=` in the value.
 */
const TOKEN_SHAPES = new RegExp(VALUE_PATTERNS.filter((p) => p.test.flags === '').map((p) => `(?:${p.test.source})`).join('|'));
const URL_OR_ASSIGNMENT_SHAPES = new RegExp(VALUE_PATTERNS.filter((p) => p.test.flags === 'i').map((p) => `(?:${p.test.source})`).join('|'), 'i');
if (VALUE_PATTERNS.some((p) => p.test.flags !== '' && p.test.flags !== 'i')) throw new Error('credentials: a value pattern with flags other than none or i');
/** The shortest match of any token shape: a Slack token, `xoxb-` and 10 more. */
const TOKEN_MIN_LENGTH = 15;

/** The kind of credential a value's form matches (the well-known token shapes above), if any. */
export function credentialPatternKind(value: string): string | undefined {
  const maybe =
    (value.length >= TOKEN_MIN_LENGTH && TOKEN_SHAPES.test(value)) ||
    ((value.includes('://') || value.includes('=')) && URL_OR_ASSIGNMENT_SHAPES.test(value));
  if (!maybe) return undefined;
  for (const p of VALUE_PATTERNS) if (p.test.test(value)) return p.kind;
  return undefined;
}
