// Hard-coded credentials in code (extension/code/codeCredentials.ts): well-known token formats,
// team patterns and credential-named random strings are found; a corpus of ordinary code (UUIDs,
// lockfile hashes, base64 images, test fixtures, this repository, installed packages, Python's
// standard library when present) stays quiet. The false-positive count is printed.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { test } from 'node:test';
import { compileSecretPatterns, findCredentials, literalCredentialKind, suggestSettingName, TEAM_PATTERN_KIND } from '../../extension/code/codeCredentials';
import { scanSource, type SourceLanguage } from '../../extension/code/scanner';

const ROOT = path.resolve(__dirname, '../..');
const alnum = (n: number) => [...randomBytes(n)].map((b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789'[b % 62]).join('');
const upper = (n: number) => [...randomBytes(n)].map((b) => 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'[b % 32]).join('');
const findings = (text: string, lang: SourceLanguage, team: RegExp[] = []) => findCredentials(scanSource(text, lang).strings, team);

test('credentials in JavaScript and Python string literals are found, with the kind and never the value in it', () => {
  const gh = 'ghp_' + alnum(36);
  const aws = 'AKIA' + upper(16);
  const random = alnum(40);
  const pw = 'Tr0ub4dor&' + alnum(4);
  const js = `const client = new Octokit({ auth: '${gh}' });\nconst awsKeyId = "${aws}";\nexport const apiKey = '${random}';\nconst db = { dbPassword: '${pw}' };\n// const commented = '${'ghp_' + alnum(36)}';`;
  const found = findings(js, 'js');
  assert.deepEqual(
    found.map((f) => [f.literal.value, f.kind]),
    [
      [gh, 'a GitHub token'],
      [aws, 'an AWS access key id'],
      [random, 'a random key or token'],
      [pw, 'a password'],
    ],
  );
  for (const f of found) assert.ok(!f.kind.includes(f.literal.value.slice(0, 8)));
  const py = `import os\nSTRIPE_KEY = "sk_live_${alnum(24)}"\nsecret_key = '${random}'\nconnect(password="${pw}")\n# token = "ghp_${alnum(36)}"\nx = """ghp_${alnum(36)} in a docstring is still a literal"""`;
  assert.deepEqual(
    findings(py, 'py').map((f) => f.kind),
    ['a Stripe secret key', 'a random key or token', 'a password', 'a GitHub token'],
  );
});

test("team patterns (odcSettings.secretPatterns) flag their own formats; invalid ones are refused with the reason", () => {
  const { patterns, errors } = compileSecretPatterns(['^acme_[a-z0-9]{12}$', '([unclosed', '.*', 42]);
  assert.equal(patterns.length, 1);
  assert.equal(errors.length, 3);
  assert.match(errors[0]!, /secretPatterns\[1\] is not a valid regular expression/);
  assert.match(errors[1]!, /secretPatterns\[2\] matches the empty string/);
  assert.match(errors[2]!, /secretPatterns\[3\] must be a non-empty string/);
  assert.deepEqual(compileSecretPatterns('not a list').errors, ['odcSettings.secretPatterns must be a list of regular expressions']);
  const literal = 'acme_' + alnum(12).toLowerCase();
  assert.equal(literalCredentialKind({ value: literal, context: 'anything' }, patterns), TEAM_PATTERN_KIND);
  assert.equal(literalCredentialKind({ value: literal, context: 'anything' }, []), undefined);
});

test('the suggested setting name comes from the variable, unique ignoring case', () => {
  assert.equal(suggestSettingName('stripeKey', []), 'StripeKey');
  assert.equal(suggestSettingName('STRIPE_API_KEY', []), 'StripeApiKey');
  assert.equal(suggestSettingName('db_password', ['DbPassword']), 'DbPassword2');
  assert.equal(suggestSettingName(undefined, []), 'ApiKey');
  assert.equal(suggestSettingName('not a name', []), 'ApiKey');
});

function filesUnder(dir: string, re: RegExp, limit: number): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (out.length >= limit) return;
      const p = path.join(d, e.name);
      if (e.isDirectory() && !['node_modules', '.git', 'dist', 'test', 'tests', '__pycache__'].includes(e.name)) walk(p);
      else if (e.isFile() && re.test(e.name) && !e.name.endsWith('.d.ts') && !e.name.endsWith('.min.js')) out.push(p);
    }
  };
  walk(dir);
  return out;
}

test('false positives on a corpus of ordinary code stay at (nearly) zero; the count is reported', () => {
  const corpus: Array<{ label: string; files: string[]; lang: SourceLanguage }> = [
    { label: 'fixtures (UUIDs, lockfile hashes, base64 images, test fixtures)', files: ['ordinary.js'].map((f) => path.join(ROOT, 'test/fixtures/code-corpus', f)), lang: 'js' },
    { label: 'fixtures (Python)', files: [path.join(ROOT, 'test/fixtures/code-corpus/ordinary.py')], lang: 'py' },
    { label: 'this repository', files: ['common', 'server', 'extension', 'webview', 'scripts', 'bench'].flatMap((d) => filesUnder(path.join(ROOT, d), /\.(?:ts|mjs|cjs|js)$/, 400)), lang: 'js' },
    {
      label: 'installed npm packages',
      files: ['express/lib', 'axios/lib', 'zod/v4/core', 'pino/lib', 'jsonc-parser/lib/esm', 'dotenv/lib', 'helmet', 'mocha/lib', 'pg/lib', 'better-sqlite3/lib'].flatMap((d) => filesUnder(path.join(ROOT, 'node_modules', d), /\.(?:js|mjs|cjs)$/, 200)),
      lang: 'js',
    },
  ];
  const stdlib = fs.existsSync('/usr/lib') ? fs.readdirSync('/usr/lib').filter((d) => /^python3\.\d+$/.test(d)).sort().at(-1) : undefined;
  if (stdlib) corpus.push({ label: `Python ${stdlib.slice(6)} standard library`, files: ['json', 'email', 'http', 'urllib', 'logging', 'unittest', 'asyncio'].flatMap((d) => filesUnder(path.join('/usr/lib', stdlib, d), /\.py$/, 200)), lang: 'py' });
  let totalFiles = 0;
  let totalLines = 0;
  let totalLiterals = 0;
  const flagged: string[] = [];
  for (const part of corpus) {
    assert.ok(part.files.length > 0, `corpus part "${part.label}" has files`);
    let lines = 0;
    let literals = 0;
    const before = flagged.length;
    for (const file of part.files) {
      const text = fs.readFileSync(file, 'utf8');
      lines += text.split('\n').length;
      const scan = scanSource(text, part.lang);
      literals += scan.strings.length;
      for (const f of findCredentials(scan.strings, [])) flagged.push(`${path.relative(ROOT, file)}:${text.slice(0, f.literal.start).split('\n').length} ${f.kind}`);
    }
    console.log(`# corpus ${part.label}: ${part.files.length} files, ${lines} lines, ${literals} string literals, ${flagged.length - before} flagged`);
    totalFiles += part.files.length;
    totalLines += lines;
    totalLiterals += literals;
  }
  console.log(`# false positives: ${flagged.length} in ${totalFiles} files, ${totalLines} lines, ${totalLiterals} string literals${flagged.length ? `\n# ${flagged.join('\n# ')}` : ''}`);
  if (!stdlib) console.log('# (no Python standard library under /usr/lib on this machine: the Python part is the fixture only)');
  // The committed fixtures are all ordinary: none of them may be flagged.
  assert.equal(flagged.filter((f) => f.startsWith('test/fixtures/')).length, 0, flagged.join('\n'));
  assert.ok(flagged.length <= 3, `at most 3 false positives in ${totalLines} lines, got ${flagged.length}:\n${flagged.join('\n')}`);
});
