// A small tokenizer per language (JavaScript/TypeScript, Python) that finds where code reads
// the environment and which string literals it holds. Real syntax where it matters: comments,
// strings, template literals (with their ${...} code), regular expression literals and Python's
// prefixed and triple-quoted strings are skipped as wholes, so `process.env.X` inside a comment
// or a string is not a read. One linear pass, no dependencies, no vscode import (unit-tested).

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
}

const isIdentStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36 || c > 127;
const isIdentPart = (c: number) => isIdentStart(c) || (c >= 48 && c <= 57);
const isDigit = (c: number) => c >= 48 && c <= 57;
const NL = 10;

// After these a `/` starts a regular expression, not a division.
const JS_REGEX_AFTER_KEYWORD = new Set(['return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else', 'yield', 'await']);

function tokenizeJs(text: string): Token[] {
  const tokens: Token[] = [];
  const n = text.length;
  // Each entry is an open `${` of a template: the brace depth at which it closes.
  const templateStack: number[] = [];
  let braceDepth = 0;
  let i = 0;

  const regexAllowed = (): boolean => {
    const prev = tokens[tokens.length - 1];
    if (!prev) return true;
    if (prev.kind === 'ident') return JS_REGEX_AFTER_KEYWORD.has(prev.text);
    if (prev.kind === 'number' || prev.kind === 'string') return false;
    return !(prev.text === ')' || prev.text === ']' || prev.text === '}');
  };

  /** Scans template characters from i (just after ` or the } closing a ${); pushes the chunk. */
  const scanTemplate = (start: number, quoteStart: number, continuation: boolean): void => {
    let j = start;
    while (j < n) {
      const c = text.charCodeAt(j);
      if (c === 92) {
        j += 2;
        continue;
      }
      if (c === 96) {
        tokens.push({ kind: 'string', start: quoteStart, end: j + 1, text: text.slice(start, j), contentStart: start, contentEnd: j, terminated: true, interpolated: continuation || undefined });
        i = j + 1;
        return;
      }
      if (c === 36 && text.charCodeAt(j + 1) === 123) {
        tokens.push({ kind: 'string', start: quoteStart, end: j, text: text.slice(start, j), contentStart: start, contentEnd: j, terminated: false, interpolated: true });
        templateStack.push(braceDepth);
        braceDepth++;
        i = j + 2;
        return;
      }
      j++;
    }
    tokens.push({ kind: 'string', start: quoteStart, end: n, text: text.slice(start, n), contentStart: start, contentEnd: n, terminated: false, interpolated: true });
    i = n;
  };

  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 32 || c === 9 || c === NL || c === 13) {
      i++;
    } else if (c === 47 && text.charCodeAt(i + 1) === 47) {
      const e = text.indexOf('\n', i);
      i = e < 0 ? n : e;
    } else if (c === 47 && text.charCodeAt(i + 1) === 42) {
      const e = text.indexOf('*/', i + 2);
      i = e < 0 ? n : e + 2;
    } else if (c === 39 || c === 34) {
      let j = i + 1;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === 92) j += 2;
        else if (d === c || d === NL) break;
        else j++;
      }
      const terminated = j < n && text.charCodeAt(j) === c;
      const end = Math.min(j, n);
      tokens.push({ kind: 'string', start: i, end: terminated ? end + 1 : end, text: text.slice(i + 1, end), contentStart: i + 1, contentEnd: end, terminated });
      i = terminated ? end + 1 : end;
    } else if (c === 96) {
      scanTemplate(i + 1, i, false);
    } else if (c === 47 && regexAllowed()) {
      let j = i + 1;
      let inClass = false;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === 92) j += 2;
        else if (d === NL) break;
        else if (inClass) {
          if (d === 93) inClass = false;
          j++;
        } else if (d === 91) {
          inClass = true;
          j++;
        } else if (d === 47) break;
        else j++;
      }
      j = Math.min(j + 1, n);
      while (j < n && isIdentPart(text.charCodeAt(j))) j++;
      tokens.push({ kind: 'other', start: i, end: j, text: '' });
      i = j;
    } else if (isIdentStart(c)) {
      let j = i + 1;
      while (j < n && isIdentPart(text.charCodeAt(j))) j++;
      tokens.push({ kind: 'ident', start: i, end: j, text: text.slice(i, j) });
      i = j;
    } else if (isDigit(c)) {
      let j = i + 1;
      while (j < n && (isIdentPart(text.charCodeAt(j)) || text.charCodeAt(j) === 46)) j++;
      tokens.push({ kind: 'number', start: i, end: j, text: '' });
      i = j;
    } else {
      if (c === 123) braceDepth++;
      else if (c === 125) {
        braceDepth--;
        if (templateStack.length && templateStack[templateStack.length - 1] === braceDepth) {
          templateStack.pop();
          // The rest of the template after `}`: one more chunk, an interpolated string.
          scanTemplate(i + 1, i, true);
          continue;
        }
      }
      tokens.push({ kind: 'punct', start: i, end: i + 1, text: text[i]! });
      i++;
    }
  }
  return tokens;
}

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

/**
 * Where an environment object ends when tokens[i] starts one: `process.env` or
 * `import.meta.env` (JS), `os.environ` or an imported `environ` (Python). Returns the index just
 * after it, or -1.
 */
function envObjectEnd(tokens: Token[], i: number, lang: SourceLanguage, pyNames: PyNames): number {
  const t = tokens[i];
  if (lang === 'js') {
    if (isIdent(t, 'process')) {
      const k = afterDot(tokens, i + 1);
      return k > 0 && isIdent(tokens[k], 'env') && !isPunct(tokens[i - 1], '.') ? k + 1 : -1;
    }
    if (isIdent(t, 'import') && isPunct(tokens[i + 1], '.') && isIdent(tokens[i + 2], 'meta')) {
      const k = afterDot(tokens, i + 3);
      return k > 0 && isIdent(tokens[k], 'env') ? k + 1 : -1;
    }
    return -1;
  }
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

function tokenize(text: string, lang: SourceLanguage): Token[] {
  return lang === 'js' ? tokenizeJs(text) : tokenizePy(text);
}

/** A string token usable as an env name (plain, one line). */
const plainString = (t: Token | undefined): t is Token => t?.kind === 'string' && !t.interpolated && t.terminated === true;

const TS_TYPE_WORDS = new Set(['string', 'any', 'unknown']);

function contextName(tokens: Token[], k: number, lang: SourceLanguage): string | undefined {
  const prev = tokens[k - 1];
  const before = tokens[k - 2];
  if (isPunct(prev, '=')) {
    // not ==, ===, !=, <=, >=, => (single-character tokens: look one further back)
    if (before?.kind === 'punct') return undefined;
    if (isIdent(before)) {
      // const apiKey: string = "..."
      if (lang === 'js' && TS_TYPE_WORDS.has(before!.text) && isPunct(tokens[k - 3], ':') && isIdent(tokens[k - 4])) return tokens[k - 4]!.text;
      if (lang === 'py' && isPunct(tokens[k - 3], ':') && isIdent(tokens[k - 4])) return tokens[k - 4]!.text;
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
  const tokens = tokenize(text, lang);
  const py = lang === 'py' ? pythonNames(tokens) : undefined;
  const pyNames = py?.names ?? { os: new Set<string>(), environ: new Set<string>(), getenv: new Set<string>() };
  const reads: EnvRead[] = [];
  const strings: StringLiteral[] = [];
  let usesImportMetaEnv = false;
  const readStringTokens = new Set<number>();
  for (let i = 0; i < tokens.length; i++) {
    const t = tokens[i]!;
    if (t.kind === 'ident') {
      const end = envObjectEnd(tokens, i, lang, pyNames);
      if (end > 0) {
        if (lang === 'js' && t.text === 'import') usesImportMetaEnv = true;
        const member = afterDot(tokens, end);
        if (lang === 'js' && member > 0 && isIdent(tokens[member])) {
          const m = tokens[member]!;
          reads.push({ variable: m.text, start: m.start, end: m.end });
        } else if (isPunct(tokens[end], '[') && plainString(tokens[end + 1])) {
          const s = tokens[end + 1]!;
          reads.push({ variable: s.text, start: s.contentStart!, end: s.contentEnd! });
          readStringTokens.add(end + 1);
        } else if (lang === 'py' && member > 0 && isIdent(tokens[member], 'get') && isPunct(tokens[member + 1], '(') && plainString(tokens[member + 2])) {
          const s = tokens[member + 2]!;
          reads.push({ variable: s.text, start: s.contentStart!, end: s.contentEnd! });
          readStringTokens.add(member + 2);
        }
        continue;
      }
      if (lang === 'py') {
        const paren = getenvCallParen(tokens, i, pyNames);
        if (paren > 0 && plainString(tokens[paren + 1])) {
          const s = tokens[paren + 1]!;
          reads.push({ variable: s.text, start: s.contentStart!, end: s.contentEnd! });
          readStringTokens.add(paren + 1);
        }
      }
    } else if (t.kind === 'string' && !t.interpolated && t.terminated && !readStringTokens.has(i)) {
      strings.push({ start: t.start, end: t.end, value: t.text, context: contextName(tokens, i, lang) });
    }
  }
  return { reads, strings, usesImportMetaEnv, importsOs: py?.importsOs ?? false, firstImportOffset: py?.firstImportOffset };
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
export function completionSite(text: string, offset: number, lang: SourceLanguage): CompletionSite | undefined {
  const tokens = tokenize(text, lang);
  const pyNames = lang === 'py' ? pythonNames(tokens).names : { os: new Set<string>(), environ: new Set<string>(), getenv: new Set<string>() };
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
      (isPunct(opener, '[') && envEndsAt(tokens, k - 1, lang, pyNames)) ||
      (lang === 'py' && isPunct(opener, '(') && (isGetCall(tokens, k - 1, pyNames) || getenvCallParenEndingAt(tokens, k - 1, pyNames)));
    return isRead ? { start: t.contentStart!, end: t.contentEnd!, form: 'string' } : undefined;
  }
  if (lang !== 'js') return undefined;
  // process.env.| or process.env.PA|
  let dot = k;
  let start = offset;
  let end = offset;
  if (t.kind === 'ident' && offset <= t.end) {
    dot = k - 1;
    start = t.start;
    end = t.end;
  } else if (t.end !== offset) return undefined;
  if (!isPunct(tokens[dot], '.')) return undefined;
  return envEndsAt(tokens, dot, lang, pyNames) ? { start, end, form: 'member' } : undefined;
}

/** Does an environment object end just before token j? */
function envEndsAt(tokens: Token[], j: number, lang: SourceLanguage, pyNames: PyNames): boolean {
  for (const back of lang === 'js' ? [3, 4, 5, 6] : [1, 3]) {
    const i = j - back;
    if (i >= 0 && envObjectEnd(tokens, i, lang, pyNames) === j) return true;
  }
  return false;
}

function isGetCall(tokens: Token[], paren: number, pyNames: PyNames): boolean {
  return isIdent(tokens[paren - 1], 'get') && isPunct(tokens[paren - 2], '.') && envEndsAt(tokens, paren - 2, 'py', pyNames);
}

function getenvCallParenEndingAt(tokens: Token[], paren: number, pyNames: PyNames): boolean {
  for (const back of [1, 3]) {
    const i = paren - back;
    if (i >= 0 && getenvCallParen(tokens, i, pyNames) === paren) return true;
  }
  return false;
}
