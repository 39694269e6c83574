// extension/code/scanner.ts: where JS/TS and Python code reads the environment, with real
// syntax: reads inside comments, strings, template text and regex literals are not reads.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { completionSite, scanSource, type SourceLanguage } from '../../extension/code/scanner';

const reads = (text: string, lang: SourceLanguage) => scanSource(text, lang).reads.map((r) => [r.variable, text.slice(r.start, r.end)]);
const names = (text: string, lang: SourceLanguage) => reads(text, lang).map(([v]) => v);

test('JavaScript/TypeScript: process.env.X, process.env["X"], import.meta.env.X and optional chaining', () => {
  const src = [
    'const a = process.env.PAYMENT_API_KEY;',
    "const b = process.env['MAX_RETRIES'] ?? '3';",
    'const c = process.env["GREETING"];',
    'const d = import.meta.env.VITE_URL;',
    'const e = process.env?.OPTIONAL_ONE;',
    'const f: string = process\n  .env\n  .SPLIT_OVER_LINES;',
  ].join('\n');
  const found = reads(src, 'js');
  assert.deepEqual(found, [
    ['PAYMENT_API_KEY', 'PAYMENT_API_KEY'],
    ['MAX_RETRIES', 'MAX_RETRIES'],
    ['GREETING', 'GREETING'],
    ['VITE_URL', 'VITE_URL'],
    ['OPTIONAL_ONE', 'OPTIONAL_ONE'],
    ['SPLIT_OVER_LINES', 'SPLIT_OVER_LINES'],
  ]);
  assert.equal(scanSource(src, 'js').usesImportMetaEnv, true);
});

test('JavaScript: no read inside comments, strings, template text or regex literals; reads inside ${} count', () => {
  const src = [
    '// process.env.IN_LINE_COMMENT',
    '/* process.env.IN_BLOCK_COMMENT */',
    "const s = 'process.env.IN_SINGLE_QUOTES';",
    'const t = "process.env[\\"IN_DOUBLE\\"]";',
    'const u = `process.env.IN_TEMPLATE_TEXT ${process.env.IN_TEMPLATE_CODE} and ${ { a: process.env.NESTED_BRACES }.a } process.env.AFTER`;',
    'const r = /process.env.IN_REGEX/g.test(x) ? 1 : 2;',
    'const q = a / process.env.AFTER_DIVISION / 2;',
    'const notEnv = myprocess.env.NOPE + other.process.env.NOPE2;',
  ].join('\n');
  assert.deepEqual(names(src, 'js'), ['IN_TEMPLATE_CODE', 'NESTED_BRACES', 'AFTER_DIVISION']);
});

test('Python: os.environ[...], os.environ.get(...), os.getenv(...), imported names and aliases', () => {
  const src = [
    'import os, sys',
    'import os as o',
    'from os import environ, getenv as ge',
    'a = os.environ["PAYMENT_API_KEY"]',
    "b = os.environ.get('MAX_RETRIES', '3')",
    'c = os.getenv("GREETING")',
    'd = o.environ["ALIASED"]',
    'e = environ["BARE_ENVIRON"]',
    "f = ge('BARE_GETENV')",
    'g = environ.get("BARE_GET")',
  ].join('\n');
  assert.deepEqual(names(src, 'py'), ['PAYMENT_API_KEY', 'MAX_RETRIES', 'GREETING', 'ALIASED', 'BARE_ENVIRON', 'BARE_GETENV', 'BARE_GET']);
  const scanned = scanSource(src, 'py');
  assert.equal(scanned.importsOs, true);
  assert.equal(scanned.firstImportOffset, 0);
});

test('Python: no read in comments, docstrings, f-strings or other objects', () => {
  const src = [
    'import os',
    '# os.environ["IN_COMMENT"]',
    '"""',
    'os.getenv("IN_DOCSTRING")',
    '"""',
    "s = 'os.environ[\"IN_STRING\"]'",
    'f = f"{x} os.getenv(\'IN_FSTRING\')"',
    'r = rb"os.environ[\'IN_RAW_BYTES\']"',
    'n = self.os.environ["NOT_OS"]',
    'm = getenv("NOT_IMPORTED")',
    'ok = os.environ["REAL"]',
  ].join('\n');
  assert.deepEqual(names(src, 'py'), ['REAL']);
});

test('string literals carry the name they are assigned to (for credential naming), never env-read names', () => {
  const js = "const apiKey: string = 'a1';\nconst cfg = { dbPassword: \"b2\", 'client_secret': 'c3' };\nx.authToken = 'd4';\nif (y === 'e5') {}\nprocess.env['NOT_A_LITERAL'];";
  assert.deepEqual(
    scanSource(js, 'js').strings.map((s) => [s.value, s.context]),
    [
      ['a1', 'apiKey'],
      ['b2', 'dbPassword'],
      ['client_secret', undefined],
      ['c3', 'client_secret'],
      ['d4', 'authToken'],
      ['e5', undefined],
    ],
  );
  const py = "import os\napi_key = 'a1'\ntoken: str = \"b2\"\ncall(password='c3')\nd = {'secret': 'd4'}\nos.getenv('NOT_A_LITERAL', 'default')";
  assert.deepEqual(
    scanSource(py, 'py').strings.map((s) => [s.value, s.context]),
    [
      ['a1', 'api_key'],
      ['b2', 'token'],
      ['c3', 'password'],
      ['secret', undefined],
      ['d4', 'secret'],
      ['default', undefined],
    ],
  );
});

test('completion sites: after process.env. and inside the quotes of a read, also while still typing', () => {
  const at = (text: string, lang: SourceLanguage) => {
    const offset = text.indexOf('|');
    const src = text.replace('|', '');
    const site = completionSite(src, offset, lang);
    return site && { form: site.form, typed: src.slice(site.start, site.end) };
  };
  assert.deepEqual(at('const a = process.env.|', 'js'), { form: 'member', typed: '' });
  assert.deepEqual(at('const a = process.env.PAY|;', 'js'), { form: 'member', typed: 'PAY' });
  assert.deepEqual(at('const a = import.meta.env.V|', 'js'), { form: 'member', typed: 'V' });
  assert.deepEqual(at("const a = process.env['MA|", 'js'), { form: 'string', typed: 'MA' });
  assert.deepEqual(at('const a = process.env["MA|"];', 'js'), { form: 'string', typed: 'MA' });
  assert.equal(at('// process.env.|', 'js'), undefined);
  assert.equal(at("const s = 'process.env.|'", 'js'), undefined);
  assert.equal(at('const a = other.env.|', 'js'), undefined);
  assert.deepEqual(at('import os\nx = os.environ["PA|"]', 'py'), { form: 'string', typed: 'PA' });
  assert.deepEqual(at("import os\nx = os.environ.get('|", 'py'), { form: 'string', typed: '' });
  assert.deepEqual(at("import os\nx = os.getenv('GR|')", 'py'), { form: 'string', typed: 'GR' });
  assert.equal(at("import os\n# os.getenv('|')", 'py'), undefined);
  assert.equal(at("import os\nprint('|')", 'py'), undefined);
});
