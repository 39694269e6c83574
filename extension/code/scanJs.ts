// The JavaScript/TypeScript scan, built for speed (it runs on every edit of a file that may be
// thousands of lines long): one global regex jumps from one place that can change the lexical
// state (a quote, a backtick, a slash, a brace inside ${...}) or start a read (`process`,
// `import`) to the next, so ordinary code between them is never looked at character by
// character, and no token objects are made. Comments, strings, template text and regular
// expression literals are still skipped as wholes, so `process.env.X` inside them is not a read.
// Decisions that need the previous token (regex or division; the name a string is assigned to)
// look backwards over whitespace and the comments this pass recorded.
// Pure (no vscode import); unit-tested through scanner.ts.
import type { CompletionSite, EnvRead, StringLiteral } from './scanner';

export interface JsScan {
  reads: EnvRead[];
  strings: StringLiteral[];
  usesImportMetaEnv: boolean;
  /** Where a variable name can be completed: after `process.env.` or inside `process.env["`. */
  sites: JsSite[];
}

export interface JsSite extends CompletionSite {
  /** Member form: where the name may start (just after the dot); the cursor may sit there before anything is typed. */
  dotEnd: number;
}

// Code state: quotes, backticks, slashes and the two words that start a read.
const STOPS = /['"`/]|process|import/g;
// The same inside a template's ${...}, where braces decide when the template text resumes.
const STOPS_IN_TEMPLATE = /['"`/{}]|process|import/g;
// Template text: an escape, the closing backtick or ${.
const TEMPLATE_STOPS = /\\|`|\$\{/g;

const isIdentStart = (c: number) => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95 || c === 36 || c > 127;
const isIdentPart = (c: number) => isIdentStart(c) || (c >= 48 && c <= 57);
const isSpace = (c: number) => c === 32 || c === 9 || c === 10 || c === 13;

// After these a `/` starts a regular expression, not a division.
const REGEX_AFTER_KEYWORD = new Set(['return', 'typeof', 'instanceof', 'in', 'of', 'new', 'delete', 'void', 'throw', 'case', 'do', 'else', 'yield', 'await']);
const TS_TYPE_WORDS = new Set(['string', 'any', 'unknown']);

interface Tok {
  kind: 'ident' | 'string' | 'punct' | 'end';
  start: number;
  end: number;
  /** punct: the character(s) (`?.` is one); empty for the others (an ident's name is its span). */
  text: string;
  /** string: a plain one-line literal ('...', "...", or `...` without ${}) that is closed. */
  plain?: boolean;
  contentStart?: number;
  contentEnd?: number;
}

export function scanJs(text: string): JsScan {
  const n = text.length;
  const reads: EnvRead[] = [];
  const strings: StringLiteral[] = [];
  const sites: JsSite[] = [];
  let usesImportMetaEnv = false;
  // Comments seen so far, in text order: where each ends (the offset just after it) and starts (for backward walks).
  const commentEnds: number[] = [];
  const commentStarts: number[] = [];
  const recordComment = (start: number, end: number) => {
    // A read's look-ahead may pass a comment that the main loop then skips again: record it once.
    if (commentEnds.length && commentEnds[commentEnds.length - 1]! >= end) return;
    commentEnds.push(end);
    commentStarts.push(start);
  };
  /** The start of the comment that ends at `end`, or -1. */
  const commentEndingAt = (end: number): number => {
    let lo = 0;
    let hi = commentEnds.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const e = commentEnds[mid]!;
      if (e === end) return commentStarts[mid]!;
      if (e < end) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  };
  // The last string or template chunk, so `'key': 'value'` can name the value by its key.
  let lastStringEnd = -1;
  let lastStringValue: string | undefined;
  // Each entry is an open `${`: the brace depth at which it closes.
  const templates: number[] = [];
  let depth = 0;

  /** The offset of the last significant character before `at` (whitespace and comments skipped), or -1. */
  const prevSignificant = (at: number): number => {
    let k = at - 1;
    for (;;) {
      while (k >= 0 && isSpace(text.charCodeAt(k))) k--;
      if (k < 0) return k;
      // A comment can end at k + 1 only there: at a newline (a line comment), after the `/` of */, or at the text's end.
      if (k + 1 < n && text.charCodeAt(k + 1) !== 10 && text.charCodeAt(k) !== 47) return k;
      const start = commentEndingAt(k + 1);
      if (start < 0) return k;
      k = start - 1;
    }
  };

  /** The identifier (or number) that ends at offset k (inclusive): its start. */
  const wordStart = (k: number): number => {
    while (k > 0 && isIdentPart(text.charCodeAt(k - 1))) k--;
    return k;
  };

  /** The identifier ending at k, or undefined when k ends something else (a number, a string, punctuation). */
  const identEndingAt = (k: number): { start: number; name: string } | undefined => {
    if (k < 0 || !isIdentPart(text.charCodeAt(k))) return undefined;
    const s = wordStart(k);
    const c = text.charCodeAt(s);
    if (c >= 48 && c <= 57) return undefined;
    return { start: s, name: text.slice(s, k + 1) };
  };

  const regexAllowed = (at: number): boolean => {
    const k = prevSignificant(at);
    if (k < 0) return true;
    const c = text.charCodeAt(k);
    if (isIdentPart(c)) {
      const word = identEndingAt(k);
      return word !== undefined && REGEX_AFTER_KEYWORD.has(word.name);
    }
    return !(c === 41 || c === 93 || c === 125 || c === 39 || c === 34 || c === 96);
  };

  /** The name a string starting at `at` is assigned to or keyed by (`apiKey = '...'`, `apiKey: '...'`, `'apiKey': '...'`). */
  const contextBefore = (at: number): string | undefined => {
    const k = prevSignificant(at);
    if (k < 0) return undefined;
    const c = text.charCodeAt(k);
    if (c === 61 /* = */) {
      const b = prevSignificant(k);
      const before = identEndingAt(b);
      if (!before) return undefined;
      if (TS_TYPE_WORDS.has(before.name)) {
        // const apiKey: string = "..."
        const colon = prevSignificant(before.start);
        if (colon >= 0 && text.charCodeAt(colon) === 58) {
          const name = identEndingAt(prevSignificant(colon));
          if (name) return name.name;
        }
      }
      return before.name;
    }
    if (c === 58 /* : */) {
      const b = prevSignificant(k);
      const before = identEndingAt(b);
      if (before) return before.name;
      if (b >= 0 && b === lastStringEnd - 1) return lastStringValue;
    }
    return undefined;
  };

  /**
   * Skips a '...' or "..." string whose quote is at `at`: where its content ends (a number, not an
   * object: this runs for every literal). It closed on its line when the quote stands there.
   */
  const quotedContentEnd = (at: number, quote: number): number => {
    let j = at + 1;
    while (j < n) {
      const d = text.charCodeAt(j);
      if (d === 92) j += 2;
      else if (d === quote || d === 10) break;
      else j++;
    }
    return j < n ? j : n;
  };

  /**
   * Skips template text from `from` (after ` or after the } closing a ${). Returns where code
   * resumes; a template closed without any ${} (and not a continuation) is a plain literal.
   */
  const templateText = (from: number, continuation: boolean): { next: number; plainEnd?: number } => {
    TEMPLATE_STOPS.lastIndex = from;
    for (;;) {
      const m = TEMPLATE_STOPS.exec(text);
      if (!m) {
        lastStringEnd = -1;
        return { next: n };
      }
      if (m[0] === '\\') {
        TEMPLATE_STOPS.lastIndex = m.index + 2;
        continue;
      }
      if (m[0] === '`') {
        const end = m.index + 1;
        lastStringEnd = end;
        lastStringValue = continuation ? undefined : text.slice(from, m.index);
        return continuation ? { next: end } : { next: end, plainEnd: end };
      }
      // ${: code until the brace that closes it.
      templates.push(depth);
      depth++;
      lastStringEnd = -1;
      return { next: m.index + 2 };
    }
  };

  /** Skips a regex literal whose `/` is at `at`; returns where code resumes. */
  const regexEnd = (at: number): number => {
    let j = at + 1;
    let inClass = false;
    while (j < n) {
      const d = text.charCodeAt(j);
      if (d === 92) j += 2;
      else if (d === 10) break;
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
    return j;
  };

  /** Skips whitespace and comments from `at`: the next significant offset (comments are recorded). */
  const skipTrivia = (at: number): number => {
    let j = at;
    for (;;) {
      while (j < n && isSpace(text.charCodeAt(j))) j++;
      if (text.charCodeAt(j) !== 47) return j;
      const c2 = text.charCodeAt(j + 1);
      if (c2 === 47) {
        const e = text.indexOf('\n', j);
        const end = e < 0 ? n : e;
        recordComment(j, end);
        j = end;
      } else if (c2 === 42) {
        const e = text.indexOf('*/', j + 2);
        const end = e < 0 ? n : e + 2;
        recordComment(j, end);
        j = end;
      } else return j;
    }
  };

  /** The next token from `at` (for the few tokens of a read). Strings are scanned but not recorded. */
  const nextTok = (at: number): Tok => {
    const s = skipTrivia(at);
    if (s >= n) return { kind: 'end', start: n, end: n, text: '' };
    const c = text.charCodeAt(s);
    if (isIdentStart(c)) {
      let j = s + 1;
      while (j < n && isIdentPart(text.charCodeAt(j))) j++;
      // The name is not sliced out: few idents here are kept (see identIs).
      return { kind: 'ident', start: s, end: j, text: '' };
    }
    if (c === 39 || c === 34) {
      const contentEnd = quotedContentEnd(s, c);
      const terminated = contentEnd < n && text.charCodeAt(contentEnd) === c;
      return { kind: 'string', start: s, end: terminated ? contentEnd + 1 : contentEnd, text: '', plain: terminated, contentStart: s + 1, contentEnd };
    }
    if (c === 96) {
      // Only a template without ${} can name a variable; anything else is left to the main loop.
      let j = s + 1;
      while (j < n) {
        const d = text.charCodeAt(j);
        if (d === 92) j += 2;
        else if (d === 96 || (d === 36 && text.charCodeAt(j + 1) === 123)) break;
        else j++;
      }
      const plain = j < n && text.charCodeAt(j) === 96;
      return { kind: 'string', start: s, end: plain ? j + 1 : s + 1, text: '', plain, contentStart: s + 1, contentEnd: Math.min(j, n) };
    }
    if (c === 63 && text.charCodeAt(s + 1) === 46) return { kind: 'punct', start: s, end: s + 2, text: '?.' };
    return { kind: 'punct', start: s, end: s + 1, text: text[s]! };
  };

  const identIs = (t: Tok, word: string) => t.kind === 'ident' && t.end - t.start === word.length && text.startsWith(word, t.start);
  const isDot = (t: Tok) => t.kind === 'punct' && (t.text === '.' || t.text === '?.');

  /**
   * At a `process` or `import` word (known to be a whole identifier not after a dot): the read
   * that follows, if any. Returns where the main loop resumes.
   */
  const readAt = (start: number, word: 'process' | 'import'): number => {
    const wordEnd = start + word.length;
    let envEnd: number;
    if (word === 'process' && text.charCodeAt(wordEnd) === 46 && text.startsWith('env', wordEnd + 1) && !isIdentPart(text.charCodeAt(wordEnd + 4))) {
      // The usual `process.env` with nothing between: the same answer as the tokens below, without them.
      envEnd = wordEnd + 4;
    } else {
      let t = nextTok(wordEnd);
      if (word === 'import') {
        if (!(t.kind === 'punct' && t.text === '.')) return wordEnd;
        const meta = nextTok(t.end);
        if (!identIs(meta, 'meta')) return wordEnd;
        t = nextTok(meta.end);
      }
      if (!isDot(t)) return wordEnd;
      const env = nextTok(t.end);
      if (!identIs(env, 'env')) return wordEnd;
      if (word === 'import') usesImportMetaEnv = true;
      envEnd = env.end;
    }
    if (text.charCodeAt(envEnd) === 46 && isIdentStart(text.charCodeAt(envEnd + 1))) {
      // Likewise `.NAME` right after it.
      const from = envEnd + 1;
      let to = from + 1;
      while (to < n && isIdentPart(text.charCodeAt(to))) to++;
      reads.push({ variable: text.slice(from, to), start: from, end: to });
      sites.push({ start: from, end: to, form: 'member', dotEnd: from });
      return to;
    }
    const after = nextTok(envEnd);
    if (isDot(after)) {
      const member = nextTok(after.end);
      if (member.kind === 'ident') {
        reads.push({ variable: text.slice(member.start, member.end), start: member.start, end: member.end });
        sites.push({ start: member.start, end: member.end, form: 'member', dotEnd: after.end });
        return member.end;
      }
      sites.push({ start: after.end, end: after.end, form: 'member', dotEnd: after.end });
      return after.end;
    }
    if (after.kind === 'punct' && after.text === '[') {
      const name = nextTok(after.end);
      // A quoted name, also one still being typed (unterminated); a template only without ${}.
      if (name.kind === 'string' && (name.plain || text.charCodeAt(name.start) !== 96)) {
        sites.push({ start: name.contentStart!, end: name.contentEnd!, form: 'string', dotEnd: -1 });
      }
      if (name.kind === 'string' && name.plain) {
        reads.push({ variable: text.slice(name.contentStart!, name.contentEnd!), start: name.contentStart!, end: name.contentEnd! });
        lastStringEnd = name.end;
        lastStringValue = text.slice(name.contentStart!, name.contentEnd!);
        return name.end;
      }
      // Not a plain name (a template with ${}, an unterminated string, an expression): the main loop takes it from here.
      return after.end;
    }
    return envEnd;
  };

  let i = 0;
  while (i < n) {
    const re = templates.length ? STOPS_IN_TEMPLATE : STOPS;
    re.lastIndex = i;
    // test() rather than exec(): no match array per stop. The stop is one character, or a word
    // whose last letter (s for process, t for import) is none of those characters.
    if (!re.test(text)) break;
    const stopEnd = re.lastIndex;
    const last = text.charCodeAt(stopEnd - 1);
    const word = last === 115 ? 'process' : last === 116 ? 'import' : undefined;
    const p = word ? stopEnd - word.length : stopEnd - 1;
    const c = text.charCodeAt(p);
    if (c === 39 || c === 34) {
      const contentEnd = quotedContentEnd(p, c);
      const terminated = contentEnd < n && text.charCodeAt(contentEnd) === c;
      const end = terminated ? contentEnd + 1 : contentEnd;
      const value = text.slice(p + 1, contentEnd);
      if (terminated) strings.push({ start: p, end, value, context: contextBefore(p) });
      lastStringEnd = end;
      lastStringValue = value;
      i = end;
    } else if (c === 96) {
      const context = contextBefore(p);
      const r = templateText(p + 1, false);
      if (r.plainEnd !== undefined) strings.push({ start: p, end: r.plainEnd, value: text.slice(p + 1, r.plainEnd - 1), context });
      i = r.next;
    } else if (c === 47) {
      const c2 = text.charCodeAt(p + 1);
      if (c2 === 47 || c2 === 42) i = skipTrivia(p);
      else if (regexAllowed(p)) i = regexEnd(p);
      else i = p + 1;
    } else if (c === 123) {
      depth++;
      i = p + 1;
    } else if (c === 125) {
      depth--;
      if (templates.length && templates[templates.length - 1] === depth) {
        templates.pop();
        i = templateText(p + 1, true).next;
      } else i = p + 1;
    } else {
      // `process` or `import` (every one-character stop is handled above): a read only when it is a whole identifier and not a member (`a.process`).
      const end = p + word!.length;
      if ((p > 0 && isIdentPart(text.charCodeAt(p - 1))) || (end < n && isIdentPart(text.charCodeAt(end)))) {
        i = end;
        continue;
      }
      const prev = prevSignificant(p);
      if (prev >= 0 && text.charCodeAt(prev) === 46) {
        i = end;
        continue;
      }
      i = readAt(p, word!);
    }
  }
  return { reads, strings, usesImportMetaEnv, sites };
}

/** The completion site at `offset` among a scan's sites. */
export function siteAt(sites: readonly JsSite[], offset: number): CompletionSite | undefined {
  // Sites are in text order; few per file compared to its length, a binary search keeps it flat.
  let lo = 0;
  let hi = sites.length - 1;
  let k = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const s = sites[mid]!;
    const from = s.form === 'member' ? s.dotEnd : s.start;
    if (from <= offset) {
      k = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  if (k < 0) return undefined;
  const s = sites[k]!;
  if (s.form === 'string') return offset >= s.start && offset <= s.end ? { start: s.start, end: s.end, form: 'string' } : undefined;
  if (offset === s.dotEnd && s.start !== s.dotEnd && offset < s.start) return { start: offset, end: offset, form: 'member' };
  if (offset >= s.start && offset <= s.end) return { start: s.start, end: s.end, form: 'member' };
  return undefined;
}
