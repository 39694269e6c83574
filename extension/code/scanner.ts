// A small scanner per language (JavaScript/TypeScript in scanJs.ts, Python here) that finds where code reads
// the environment and which string literals it holds. Real syntax where it matters: comments,
// strings, template literals (with their ${...} code), regular expression literals and Python's
// prefixed and triple-quoted strings are skipped as wholes, so `process.env.X` inside a comment
// or a string is not a read. One linear pass, no dependencies, no vscode import (unit-tested).

import { scanJs, siteAt, type JsSite } from './scanJs';

export type SourceLanguage = 'js' | 'py';

type TokenKind = 'ident' | 'string' | 'punct' | 'number' | 'other';

interface Token {
  kind: TokenKind;
  start: number;
  end: number;
  /** ident: the name; punct: the character; string: the raw content between the quotes. */
  text: string;
  /** Strings only: where the content starts and ends (the end is the text's end when unterminated). */
  contentStart?: number;
  contentEnd?: number;
  terminated?: boolean;
  /** Strings only: a template literal with ${...} or a Python f-string (not a plain literal). */
  interpolated?: boolean;
}

export interface EnvRead {
  /** The variable's name as written. */
  variable: string;
  /** Offsets of the name itself (inside the quotes for a string form). */
  start: number;
  end: number;
}

export interface StringLiteral {
  /** The literal including its quotes (and prefix). */
  start: number;
  end: number;
  /** The raw text between the quotes (escapes not decoded). */
  value: string;
  /** The name it is assigned to or keyed by (`apiKey = "..."`, `apiKey: "..."`, `"apiKey": "..."`), if any. */
  context: string | undefined;
}

export interface ScanResult {
  reads: EnvRead[];
  strings: StringLiteral[];
  /** JS: whether the file reads through import.meta.env (then a fix writes that form). Python: whether `os` is imported. */
  usesImportMetaEnv: boolean;
  importsOs: boolean;
  /** Python: offset of the first top-level import line, where `import os` would go. */
  firstImportOffset: number | undefined;
  /** JavaScript: where a variable name can be completed (see completionSite). */
  jsSites?: JsSite[];
}

const isIdentStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36 || c > 127;
const isIdentPart = (c: number) => isIdentStart(c) || (c >= 48 && c <= 57);
const isDigit = (c: number) => c >= 48 && c <= 57;
const NL = 10;

function tokenizePy(text: string): Token[] {
  const tokens: Token[] = [];
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9 || c === NL || c === 13 || c === 92 /* line continuation */) {
      i++;
    } else if (c === 35) {
      const e = text.indexOf('\n', i);
      i = e < 0 ? n : e;
    } else if (isIdentStart(c) || c === 39 || c === 34) {
      // An identifier, or a string with an optional prefix (r, b, u, f and pairs).
      let j = i;
      while (j < n && isIdentPart(text.charCodeAt(j))) j++;
      const word = text.slice(i, j);
      const q = text.charCodeAt(j);
      if ((q === 39 || q === 34) && (word === '' || /^(?:[rRbBuUfF]|[rR][bBfF]|[bBfF][rR])$/.test(word))) {
        const triple = text.charCodeAt(j + 1) === q && text.charCodeAt(j + 2) === q;
        const open = triple ? 3 : 1;
        let k = j + open;
        let terminated = false;
        while (k < n) {
          const d = text.charCodeAt(k);
          if (d === 92) k += 2;
          else if (d === q && (!triple || (text.charCodeAt(k + 1) === q && text.charCodeAt(k + 2) === q))) {
            terminated = true;
            break;
          } else if (d === NL && !triple) break;
          else k++;
        }
        const contentEnd = Math.min(k, n);
        const end = terminated ? contentEnd + open : contentEnd;
        tokens.push({ kind: 'string', start: i, end, text: text.slice(j + open, contentEnd), contentStart: j + open, contentEnd, terminated, interpolated: /[fF]/.test(word) || undefined });
        i = end;
      } else {
        tokens.push({ kind: 'ident', start: i, end: j, text: word });
        i = j;
      }
    } else if (isDigit(c)) {
      let j = i + 1;
      while (j < n && (isIdentPart(text.charCodeAt(j)) || text.charCodeAt(j) === 46)) j++;
      tokens.push({ kind: 'number', start: i, end: j, text: '' });
      i = j;
    } else {
      tokens.push({ kind: 'punct', start: i, end: i + 1, text: text[i]! });
      i++;
    }
  }
  return tokens;
}

const isPunct = (t: Token | undefined, ch: string) => t?.kind === 'punct' && t.text === ch;
const isIdent = (t: Token | undefined, name?: string) => t?.kind === 'ident' && (name === undefined || t.text === name);

/** The index of the token after a `.` (or `?.`) at k, or -1. */
function afterDot(tokens: Token[], k: number): number {
  if (isPunct(tokens[k], '?') && isPunct(tokens[k + 1], '.')) return k + 2;
  return isPunct(tokens[k], '.') ? k + 1 : -1;
}

/** Python: where an environment object (`os.environ` or an imported `environ`) ends when tokens[i] starts one: the index just after it, or -1. */
function envObjectEnd(tokens: Token[], i: number, pyNames: PyNames): number {
  const t = tokens[i];
  if (isPunct(tokens[i - 1], '.')) return -1;
  if (isIdent(t) && pyNames.os.has(t!.text) && isPunct(tokens[i + 1], '.') && isIdent(tokens[i + 2], 'environ')) return i + 3;
  if (isIdent(t) && pyNames.environ.has(t!.text)) return i + 1;
  return -1;
}

/** Python: `os.getenv(` or an imported `getenv(`: the index of the `(`, or -1. */
function getenvCallParen(tokens: Token[], i: number, pyNames: PyNames): number {
  if (isPunct(tokens[i - 1], '.')) return -1;
  const t = tokens[i];
  if (isIdent(t) && pyNames.os.has(t!.text) && isPunct(tokens[i + 1], '.') && isIdent(tokens[i + 2], 'getenv') && isPunct(tokens[i + 3], '(')) return i + 3;
  if (isIdent(t) && pyNames.getenv.has(t!.text) && isPunct(tokens[i + 1], '(')) return i + 1;
  return -1;
}

interface PyNames {
  os: Set<string>;
  environ: Set<string>;
  getenv: Set<string>;
}

/** Python names bound to os, os.environ and os.getenv by the file's imports (`import os as o`, `from os import environ as env`). */
function pythonNames(tokens: Token[]): { names: PyNames; importsOs: boolean; firstImportOffset: number | undefined } {
  const names: PyNames = { os: new Set(), environ: new Set(), getenv: new Set() };
  let importsOs = false;
  let firstImportOffset: number | undefined;
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind !== 'ident' || (t.text !== 'import' && t.text !== 'from')) continue;
    if (firstImportOffset === undefined && (i === 0 || tokens[i - 1]!.end <= t.start)) firstImportOffset = t.start;
    if (t.text === 'import') {
      // import os, sys as s
      let k = i + 1;
      while (isIdent(tokens[k])) {
        const mod = tokens[k]!.text;
        let bound = mod;
        let next = k + 1;
        if (isPunct(tokens[next], '.')) break; // import os.path: binds os too, but rare for env reads
        if (isIdent(tokens[next], 'as') && isIdent(tokens[next + 1])) {
          bound = tokens[next + 1]!.text;
          next += 2;
        }
        if (mod === 'os') {
          names.os.add(bound);
          importsOs ||= bound === 'os';
        }
        if (!isPunct(tokens[next], ',')) break;
        k = next + 1;
      }
    } else if (isIdent(tokens[i + 1], 'os') && isIdent(tokens[i + 2], 'import')) {
      let k = i + 3;
      if (isPunct(tokens[k], '(')) k++;
      while (isIdent(tokens[k])) {
        const name = tokens[k]!.text;
        let bound = name;
        let next = k + 1;
        if (isIdent(tokens[next], 'as') && isIdent(tokens[next + 1])) {
          bound = tokens[next + 1]!.text;
          next += 2;
        }
        if (name === 'environ') names.environ.add(bound);
        if (name === 'getenv') names.getenv.add(bound);
        if (!isPunct(tokens[next], ',')) break;
        k = next + 1;
      }
    }
  }
  return { names, importsOs, firstImportOffset };
}


/** A string token usable as an env name (plain, one line). */
const plainString = (t: Token | undefined): t is Token => t?.kind === 'string' && !t.interpolated && t.terminated === true;

function contextName(tokens: Token[], k: number): string | undefined {
  const prev = tokens[k - 1];
  const before = tokens[k - 2];
  if (isPunct(prev, '=')) {
    // not ==, ===, !=, <=, >=, => (single-character tokens: look one further back)
    if (before?.kind === 'punct') return undefined;
    if (isIdent(before)) {
      // token: str = "..."
      if (isPunct(tokens[k - 3], ':') && isIdent(tokens[k - 4])) return tokens[k - 4]!.text;
      return before!.text;
    }
    return undefined;
  }
  if (isPunct(prev, ':')) {
    if (isIdent(before)) return before!.text;
    if (before?.kind === 'string' && !before.interpolated) return before.text;
  }
  return undefined;
}

export function scanSource(text: string, lang: SourceLanguage): ScanResult {
  if (lang === 'js') {
    const js = scanJs(text);
    return { reads: js.reads, strings: js.strings, usesImportMetaEnv: js.usesImportMetaEnv, importsOs: false, firstImportOffset: undefined, jsSites: js.sites };
  }
  const tokens = tokenizePy(text);
  const py = pythonNames(tokens);
  const pyNames = py.names;
  const reads: EnvRead[] = [];
  const strings: StringLiteral[] = [];
  const readStringTokens = new Set<number>();
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === 'ident') {
      const end = envObjectEnd(tokens, i, pyNames);
      if (end > 0) {
        const member = afterDot(tokens, end);
        if (isPunct(tokens[end], '[') && plainString(tokens[end + 1])) {
          const s = tokens[end + 1]!;
          reads.push({ variable: s.text, start: s.contentStart!, end: s.contentEnd! });
          readStringTokens.add(end + 1);
        } else if (member > 0 && isIdent(tokens[member], 'get') && isPunct(tokens[member + 1], '(') && plainString(tokens[member + 2])) {
          const s = tokens[member + 2]!;
          reads.push({ variable: s.text, start: s.contentStart!, end: s.contentEnd! });
          readStringTokens.add(member + 2);
        }
        continue;
      }
      const paren = getenvCallParen(tokens, i, pyNames);
      if (paren > 0 && plainString(tokens[paren + 1])) {
        const s = tokens[paren + 1]!;
        reads.push({ variable: s.text, start: s.contentStart!, end: s.contentEnd! });
        readStringTokens.add(paren + 1);
      }
    } else if (t.kind === 'string' && !t.interpolated && t.terminated && !readStringTokens.has(i)) {
      strings.push({ start: t.start, end: t.end, value: t.text, context: contextName(tokens, i) });
    }
  }
  return { reads, strings, usesImportMetaEnv: false, importsOs: py.importsOs, firstImportOffset: py.firstImportOffset };
}

export interface CompletionSite {
  /** Replace this span with the chosen variable (the part already typed). */
  start: number;
  end: number;
  /** 'member' after `process.env.`; 'string' inside the quotes of an index or call. */
  form: 'member' | 'string';
}

/**
 * Whether `offset` is where code names an environment variable: after `process.env.` /
 * `import.meta.env.` (JS), or inside the string of `process.env["`, `os.environ["`,
 * `os.environ.get("`, `os.getenv("` (a string still being typed counts).
 */
export function completionSite(text: string, offset: number, lang: SourceLanguage, scanned?: ScanResult): CompletionSite | undefined {
  // JavaScript: from the scan (the provider passes the document's cached one).
  if (lang === 'js') return siteAt((scanned?.jsSites ? scanned : scanSource(text, 'js')).jsSites!, offset);
  const tokens = tokenizePy(text);
  const pyNames = pythonNames(tokens).names;
  // The token the cursor is in or right after.
  let k = -1;
  for (let lo = 0, hi = tokens.length - 1; lo <= hi; ) {
    const mid = (lo + hi) >> 1;
    if (tokens[mid]!.start < offset) {
      k = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (k < 0) return undefined;
  const t = tokens[k]!;
  if (t.kind === 'string') {
    if (t.interpolated || offset < t.contentStart! || offset > t.contentEnd!) return undefined;
    const opener = tokens[k - 1];
    const isRead =
      (isPunct(opener, '[') && envEndsAt(tokens, k - 1, pyNames)) ||
      (isPunct(opener, '(') && (isGetCall(tokens, k - 1, pyNames) || getenvCallParenEndingAt(tokens, k - 1, pyNames)));
    return isRead ? { start: t.contentStart!, end: t.contentEnd!, form: 'string' } : undefined;
  }
  return undefined;
}

/** Does an environment object end just before token j? */
function envEndsAt(tokens: Token[], j: number, pyNames: PyNames): boolean {
  for (const back of [1, 3]) {
    const i = j - back;
    if (i >= 0 && envObjectEnd(tokens, i, pyNames) === j) return true;
  }
  return false;
}

function isGetCall(tokens: Token[], paren: number, pyNames: PyNames): boolean {
  return isIdent(tokens[paren - 1], 'get') && isPunct(tokens[paren - 2], '.') && envEndsAt(tokens, paren - 2, pyNames);
}

function getenvCallParenEndingAt(tokens: Token[], paren: number, pyNames: PyNames): boolean {
  for (const back of [1, 3]) {
    const i = paren - back;
    if (i >= 0 && getenvCallParen(tokens, i, pyNames) === paren) return true;
  }
  return false;
}
