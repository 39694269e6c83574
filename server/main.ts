// The `odc-portal` command line (SPEC §10).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ADMIN_SCOPE_REFUSAL, ROLES, runtimeSettingsResponseSchema, type Role, type Scope } from '../common/api';
import { envName } from '../common/envNames';
import type { AuditActor } from './audit/chain';
import { createApp } from './app';
import { parseTrustedProxies } from './auth';
import { createHttpServer } from './http/clientError';
import { masterKeyId, newKey } from './crypto/envelope';
import { EnvironmentKeySource, FileKeySource } from './crypto/keySources';
import { MasterKeyMismatchError } from './services/errors';
import { isLogFormat, LOG_FORMATS, type LogFormat } from './logFormat';
import { createLogger, DEFAULT_STAGES, openStore, packageVersion, parseStages, redactUrl } from './runtime';

// Every option of every verb, with its environment variable: parseArgs reads these specs and
// --help prints them, so the help cannot miss an option.
interface OptionSpec {
  type: 'string' | 'boolean';
  multiple?: boolean;
  /** The value's placeholder in the help. */
  value?: string;
  env?: string;
  help: string;
}

const DATA_DIR: OptionSpec = { type: 'string', value: 'DIR', env: 'PORTAL_DATA_DIR', help: 'the store, key file and first admin token (default ./data)' };
const STAGES: OptionSpec = { type: 'string', value: 'KEY:NAME,...', env: 'PORTAL_STAGES', help: `the stages, in order (default ${DEFAULT_STAGES})` };
const LOG_FORMAT: OptionSpec = { type: 'string', value: 'pretty|json', env: 'PORTAL_LOG_FORMAT', help: 'log lines on stderr: pretty for people, json lines for machines (default: pretty on a terminal, else json)' };
const HELP: OptionSpec = { type: 'boolean', help: 'show this help' };
const DATABASE_URL: OptionSpec = { type: 'string', value: 'URL', env: 'PORTAL_DATABASE_URL', help: 'a PostgreSQL database (postgres://...) instead of the embedded store in DIR' };
const storeOptions = { 'data-dir': DATA_DIR, 'database-url': DATABASE_URL, stages: STAGES, 'log-format': LOG_FORMAT, help: HELP };

/** Settings read only from the environment, listed in the help of the verbs that read them. */
const KEY_ENV: Array<[string, string]> = [
  ['PORTAL_MASTER_KEY', 'the master key (base64, 32 bytes); else the OS keychain, else DIR/master.key'],
  ['PORTAL_KEYCHAIN=off', 'skip the OS keychain'],
  ['PORTAL_LOG_LEVEL', 'trace|debug|info|warn|error (default info for serve, warn for the other commands)'],
  ['PORTAL_DB_POOL_MAX', 'with PostgreSQL: connections per instance (default 10)'],
  ['PORTAL_DB_CONNECT_TIMEOUT_MS', 'with PostgreSQL: bound on connecting (default 2000)'],
  ['PORTAL_DB_QUERY_TIMEOUT_MS', 'with PostgreSQL: bound on one statement (default 5000)'],
  ['PORTAL_HISTORY_VERSIONS', 'previous values kept per setting and stage (default 20)'],
];

interface Verb {
  usage: string;
  summary: string;
  options: Record<string, OptionSpec>;
  env?: Array<[string, string]>;
}

const VERBS: Record<string, Verb> = {
  serve: {
    usage: 'serve [options]',
    summary: 'Serve the portal API; prints the first admin token on first start.',
    options: {
      host: { type: 'string', value: 'ADDRESS', env: 'PORTAL_HOST', help: 'the address to listen on (default 127.0.0.1)' },
      port: { type: 'string', value: 'PORT', env: 'PORTAL_PORT', help: 'the port, 0 for any free one (default 4650)' },
      'trust-proxy': { type: 'string', value: 'ADDR,...', env: 'PORTAL_TRUST_PROXY', help: 'proxies whose X-Forwarded-For names the client (default none)' },
      ...storeOptions,
    },
    env: KEY_ENV,
  },
  'token create': {
    usage: 'token create --name N --role admin|developer|operator|runtime [--app A]... [--stage S]... [options]',
    summary: 'Create a token and print it once.',
    options: {
      name: { type: 'string', value: 'NAME', help: 'who or what the token is for' },
      role: { type: 'string', value: 'ROLE', help: ROLES.join('|') },
      app: { type: 'string', multiple: true, value: 'APP', help: 'an app in scope, repeatable (default all; a runtime token needs exactly one)' },
      stage: { type: 'string', multiple: true, value: 'STAGE', help: 'a stage in scope, repeatable (default all; a runtime token needs exactly one)' },
      ...storeOptions,
    },
    env: KEY_ENV,
  },
  'token list': { usage: 'token list [options]', summary: 'List tokens (never their secrets).', options: storeOptions, env: KEY_ENV },
  'token revoke': { usage: 'token revoke ID [options]', summary: 'Revoke a token by its id (see token list).', options: storeOptions, env: KEY_ENV },
  'rotate-key': {
    usage: 'rotate-key [options]',
    summary: 'Re-wrap every data key under a new master key, in one transaction.',
    options: storeOptions,
    env: [...KEY_ENV, ['PORTAL_NEW_MASTER_KEY', 'with PORTAL_MASTER_KEY: the new master key (base64, 32 bytes)']],
  },
  'audit verify': { usage: 'audit verify [options]', summary: 'Check the tamper-evident audit chain; exit 1 if it is broken.', options: storeOptions, env: KEY_ENV },
  run: {
    usage: 'run --app A --stage S [options] -- CMD [ARGS...]',
    summary: "Run CMD with the app's settings for the stage in its environment (values never touch the disk).",
    options: {
      app: { type: 'string', value: 'APP', help: 'the app the runtime token reads' },
      stage: { type: 'string', value: 'STAGE', help: 'the stage the runtime token reads' },
      server: { type: 'string', value: 'URL', env: 'ODC_PORTAL_URL', help: 'the portal (default http://127.0.0.1:4650)' },
      prefix: { type: 'string', value: 'PREFIX', help: 'prepended to each variable name, e.g. APP_' },
      help: HELP,
    },
    env: [['ODC_RUNTIME_TOKEN', 'a runtime token for exactly this app and stage (required)']],
  },
  // Parsed by cli/valuesImport; listed here for --help.
  'values import': {
    usage: 'values import --app A --stage S [options] FILE',
    summary: "Preview importing a .env file's values into a stage of a published app; with --yes, write them (all or nothing).",
    options: {
      app: { type: 'string', value: 'APP', help: 'the app' },
      stage: { type: 'string', value: 'STAGE', help: 'the stage' },
      prefix: { type: 'string', value: 'PREFIX', help: "the variables' name prefix, as with run --prefix" },
      server: { type: 'string', value: 'URL', env: 'ODC_SERVER', help: 'the portal (default http://127.0.0.1:4650)' },
      yes: { type: 'boolean', help: 'write the values (without it, only the preview is printed)' },
      help: HELP,
    },
    env: [['ODC_TOKEN', "a person's token (developer, operator or admin) with this app and stage in scope (required)"]],
  },
  // Parsed by cli/migrate; listed here for --help.
  migrate: {
    usage: 'migrate [--data-dir DIR] --to postgres://... [--key-out FILE | --print-key]',
    summary: "Copy the embedded store in DIR into a PostgreSQL database without portal tables, under the same master key; say how to give the instances that key.",
    options: {
      'data-dir': DATA_DIR,
      to: { type: 'string', value: 'URL', help: 'the PostgreSQL database (postgres://...); it must have no portal tables' },
      'key-out': { type: 'string', value: 'FILE', help: "also write the master key to FILE (new, mode 0600) for the instances' PORTAL_MASTER_KEY" },
      'print-key': { type: 'boolean', help: 'print the master key alone on stdout (the report goes to stderr)' },
      help: HELP,
    },
    env: [['PORTAL_MASTER_KEY', 'the master key, if the store uses it; else the OS keychain, else DIR/master.key']],
  },
  // Parsed by cli/check; listed here for --help.
  check: {
    usage: 'check --app A --stage S [options]',
    summary: "Print the stage's warnings (missing secret, secret equal to a lower stage's, rotation due); exit 1 on a missing or reused secret: a deploy gate.",
    options: {
      app: { type: 'string', value: 'APP', help: 'the app' },
      stage: { type: 'string', value: 'STAGE', help: 'the stage' },
      server: { type: 'string', value: 'URL', env: 'ODC_SERVER', help: 'the portal (default http://127.0.0.1:4650)' },
      json: { type: 'boolean', help: 'print the warnings as JSON' },
      help: HELP,
    },
    env: [['ODC_TOKEN', "a person's token with this app and stage in scope (required)"]],
  },
};

const EXIT_CODES = `Exit codes: 0 done; 1 failed (an error, a broken audit chain); 2 bad usage;
  run: the command's own exit code, 128+N if a signal N ended it, 127 if it cannot start.`;

function verbHelp(verb: Verb): string {
  const rows: Array<[string, string]> = Object.entries(verb.options).map(([opt, spec]) => [
    `--${opt}${spec.value ? ` ${spec.value}` : ''}`,
    `${spec.help}${spec.env ? ` [env ${spec.env}]` : ''}`,
  ]);
  const width = Math.max(...rows.map(([l]) => l.length), ...(verb.env ?? []).map(([e]) => e.length)) + 2;
  const lines = [`odc-portal ${verb.usage}`, `  ${verb.summary}`, ...rows.map(([l, r]) => `    ${l.padEnd(width)}${r}`)];
  if (verb.env?.length) lines.push('  Environment:', ...verb.env.map(([e, h]) => `    ${e.padEnd(width)}${h}`));
  return lines.join('\n');
}

function usage(): string {
  return ['usage: odc-portal <command> [options]   (odc-portal <command> --help for one command)', '', ...Object.values(VERBS).map((v) => verbHelp(v) + '\n'), '  --version  print the version', '', EXIT_CODES].join('\n');
}

function parse(verbName: keyof typeof VERBS & string, args: string[], allowPositionals = false) {
  const verb = VERBS[verbName]!;
  const options = Object.fromEntries(Object.entries(verb.options).map(([k, o]) => [k, { type: o.type, multiple: o.multiple ?? false }]));
  let parsed;
  try {
    parsed = parseArgs({ args, options, allowPositionals, strict: true });
  } catch (err) {
    // Node's messages name the option; the help says what would have been right.
    throw new UsageError(`${(err as Error).message}; odc-portal ${verbName} --help lists the options`);
  }
  if (parsed.values.help) {
    process.stdout.write(`${verbHelp(verb)}\n\n${EXIT_CODES}\n`);
    return undefined;
  }
  return parsed as { values: Record<string, string | string[] | boolean | undefined>; positionals: string[] };
}

const str = (v: string | string[] | boolean | undefined): string | undefined => (typeof v === 'string' ? v : undefined);
const list = (v: string | string[] | boolean | undefined): string[] | undefined => (Array.isArray(v) ? v : undefined);

function logFormat(values: Record<string, unknown>): LogFormat {
  const text = (values['log-format'] as string | undefined) ?? process.env.PORTAL_LOG_FORMAT;
  if (text === undefined || text === '') return process.stderr.isTTY ? 'pretty' : 'json';
  if (!isLogFormat(text)) throw new UsageError(`--log-format (or PORTAL_LOG_FORMAT) must be ${LOG_FORMATS.join(' or ')}, not "${text}"`);
  return text;
}

const CLI_ACTOR: AuditActor = { tokenId: null, tokenName: 'odc-portal (local command line)', client: 'cli' };

class UsageError extends Error {}

function common(values: CommonValues) {
  const env = process.env;
  let stages;
  try {
    stages = parseStages(values.stages ?? env.PORTAL_STAGES ?? DEFAULT_STAGES);
  } catch (err) {
    throw new UsageError(`--stages (or PORTAL_STAGES): ${(err as Error).message}`);
  }
  return {
    dataDir: values['data-dir'] ?? env.PORTAL_DATA_DIR ?? './data',
    // PostgreSQL (SPEC §11) when given; the embedded store in the data dir otherwise.
    databaseUrl: values['database-url'] || env.PORTAL_DATABASE_URL || undefined,
    stages,
  };
}

async function serve(argv: string[]) {
  const parsed = parse('serve', argv);
  if (!parsed) return;
  const values = { ...commonValues(parsed.values), 'trust-proxy': str(parsed.values['trust-proxy']) };
  const { dataDir, databaseUrl, stages } = common(values);
  const format = logFormat(values);
  const host = str(parsed.values.host) ?? process.env.PORTAL_HOST ?? '127.0.0.1';
  const portText = str(parsed.values.port) ?? process.env.PORTAL_PORT ?? '4650';
  const port = /^\d+$/.test(portText) ? Number(portText) : NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port (or PORTAL_PORT) must be 0-65535, not "${portText}"`);
  let trustProxy: string[];
  try {
    trustProxy = parseTrustedProxies(values['trust-proxy'] ?? process.env.PORTAL_TRUST_PROXY);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const logger = createLogger(undefined, format);
  const { portal } = await openStore({
    dataDir,
    databaseUrl,
    listen: true,
    stages,
    env: process.env,
    logger,
    create: true,
    firstAdmin: {
      actor: CLI_ACTOR,
      onCreated: (token) => {
        const file = path.join(path.resolve(dataDir), 'admin.token');
        // A new file renamed over any old one: writing into an existing file would keep its mode.
        const tmp = `${file}.${process.pid}.tmp`;
        fs.writeFileSync(tmp, token + '\n', { mode: 0o600, flag: 'wx' });
        fs.renameSync(tmp, file);
        // Shown once here and in the file; nowhere else, ever.
        process.stdout.write(
          `\nFirst start: an admin token was created. It is shown only now and in ${file} (mode 0600):\n\n  ${token}\n\n` +
            `Sign in with it (VS Code: "ODC: Sign In"), create personal tokens, then delete ${file}.\n\n`,
        );
      },
    },
  });
  if (!databaseUrl) {
    const dirMode = fs.statSync(dataDir).mode & 0o777;
    if (dirMode & 0o077) logger.warn(`the data dir ${path.resolve(dataDir)} is readable by others (mode ${dirMode.toString(8)}); run: chmod 700 ${path.resolve(dataDir)}`);
  }
  const app = createApp({ portal, logger, version: packageVersion(), trustProxy });
  if (trustProxy.length) logger.info(`trusting X-Forwarded-For from ${trustProxy.join(', ')}`);
  const server = createHttpServer(app);
  server.listen(port, host, () => {
    const addr = server.address() as AddressInfo;
    const where = databaseUrl ? `store: PostgreSQL at ${redactUrl(databaseUrl)}` : `data: ${path.resolve(dataDir)}`;
    process.stdout.write(`odc-portal listening on http://${addr.address}:${addr.port} (${where})\n`);
  });
  server.on('error', (err) => {
    logger.error({ err: { code: (err as NodeJS.ErrnoException).code } }, `cannot listen on ${host}:${port}`);
    process.exit(1);
  });
  const stop = () => {
    server.close(() => {
      // The limiter's last window goes to the audit before the store closes.
      void app
        .close()
        .then(() => portal.close())
        .finally(() => process.exit(0));
    });
    server.closeAllConnections();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

type CommonValues = { 'data-dir'?: string; 'database-url'?: string; stages?: string; 'log-format'?: string };

function commonValues(values: Record<string, string | string[] | boolean | undefined>): CommonValues {
  return { 'data-dir': str(values['data-dir']), 'database-url': str(values['database-url']), stages: str(values.stages), 'log-format': str(values['log-format']) };
}

async function withStore<T>(values: CommonValues, fn: (opened: Awaited<ReturnType<typeof openStore>>) => Promise<T> | T) {
  const { dataDir, databaseUrl, stages } = common(values);
  const opened = await openStore({ dataDir, databaseUrl, stages, env: process.env, logger: createLogger(process.env.PORTAL_LOG_LEVEL ?? 'warn', logFormat(values)), create: false });
  try {
    return await fn(opened);
  } finally {
    await opened.portal.close();
  }
}

/** `odc-portal token --help`: the help of each token command. */
function groupHelp(prefix: string): string {
  return Object.entries(VERBS)
    .filter(([name]) => name.startsWith(`${prefix} `))
    .map(([, v]) => verbHelp(v))
    .join('\n\n');
}

async function token(argv: string[]) {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h') return void process.stdout.write(`${groupHelp('token')}\n\n${EXIT_CODES}\n`);
  if (sub === 'create') {
    const parsed = parse('token create', rest);
    if (!parsed) return;
    const values = { ...commonValues(parsed.values), name: str(parsed.values.name), role: str(parsed.values.role), app: list(parsed.values.app), stage: list(parsed.values.stage) };
    if (!values.name || !values.role || !(ROLES as readonly string[]).includes(values.role)) throw new UsageError(`token create needs --name and --role (${ROLES.join(', ')})`);
    const name = values.name;
    const role = values.role as Role;
    const apps: Scope = values.app?.length ? values.app : '*';
    const stages: Scope = values.stage?.length ? values.stage : '*';
    if (role === 'admin' && (apps !== '*' || stages !== '*')) throw new UsageError(ADMIN_SCOPE_REFUSAL);
    if (role === 'runtime' && (apps === '*' || apps.length !== 1 || stages === '*' || stages.length !== 1)) throw new UsageError('a runtime token needs exactly one --app and one --stage');
    await withStore(values, async ({ portal }) => {
      const unknown = stages === '*' ? [] : stages.filter((s) => !portal.hasStage(s));
      if (unknown.length) throw new UsageError(`unknown stage(s): ${unknown.join(', ')}`);
      const created = await portal.tokens.create({ name, role, apps, stages }, CLI_ACTOR);
      process.stdout.write(`created token ${created.id} (${role}); it is shown only now:\n${created.token}\n`);
    });
  } else if (sub === 'list') {
    const parsed = parse('token list', rest);
    if (!parsed) return;
    await withStore(commonValues(parsed.values), async ({ portal }) => {
      const scope = (s: Scope) => (s === '*' ? '*' : s.join(','));
      for (const t of await portal.tokens.list()) {
        process.stdout.write(`${t.id}\t${t.role}\t${t.name}\tapps=${scope(t.apps)}\tstages=${scope(t.stages)}\t${t.revokedAt ? `revoked ${t.revokedAt}` : 'active'}\n`);
      }
    });
  } else if (sub === 'revoke') {
    const parsed = parse('token revoke', rest, true);
    if (!parsed) return;
    const id = parsed.positionals[0];
    if (!id) throw new UsageError('token revoke needs the token id (see token list)');
    await withStore(commonValues(parsed.values), async ({ portal }) => {
      await portal.tokens.revoke(id, CLI_ACTOR);
      process.stdout.write(`revoked ${id}\n`);
    });
  } else throw new UsageError(`token needs a subcommand (create, list or revoke):\n\n${groupHelp('token')}`);
}

async function rotateKey(argv: string[]) {
  const parsed = parse('rotate-key', argv);
  if (!parsed) return;
  await withStore(commonValues(parsed.values), async ({ portal, masterKey, source }) => {
    let next: Buffer;
    if (source instanceof EnvironmentKeySource) {
      const operatorKey = source.operatorKey();
      if (!operatorKey) throw new UsageError('with PORTAL_MASTER_KEY, give the new key in PORTAL_NEW_MASTER_KEY (openssl rand -base64 32)');
      next = operatorKey;
    } else next = newKey();
    const nextId = masterKeyId(next);
    // Staged under the store's key lock, promoted after the commit (see KeyService.rotateMasterKey):
    // a crash in between is finished at the next start; a second rotation waits or is refused.
    let n: number;
    try {
      n = await portal.keys.rotateMasterKey(masterKey, next, CLI_ACTOR, async () => {
        if (source instanceof FileKeySource) source.discardStalePending(nextId);
        await source.stagePending(next);
      });
    } catch (err) {
      if (!(await portal.keys.matchesMasterKey(next).catch(() => false))) await source.discardPending(nextId).catch(() => {});
      if (err instanceof MasterKeyMismatchError) throw new UsageError(err.message);
      if ((err as { code?: string }).code === 'SQLITE_BUSY') throw new UsageError('another key rotation (or a long write) holds the store; nothing was changed: run rotate-key again');
      throw err;
    }
    await source.promotePending(nextId);
    process.stdout.write(
      `re-wrapped ${n} keys under a new master key (${source.describe}).\n` +
        (source.kind === 'environment' ? 'Now set PORTAL_MASTER_KEY to the value of PORTAL_NEW_MASTER_KEY and unset the latter.\n' : 'The old master key is no longer needed.\n'),
    );
  });
}

async function audit(argv: string[]) {
  const [sub, ...rest] = argv;
  if (sub === '--help' || sub === '-h') return void process.stdout.write(`${groupHelp('audit')}\n\n${EXIT_CODES}\n`);
  if (sub !== 'verify') throw new UsageError(`audit needs a subcommand:\n\n${groupHelp('audit')}`);
  const parsed = parse('audit verify', rest);
  if (!parsed) return;
  await withStore(commonValues(parsed.values), async ({ portal }) => {
    const result = await portal.audit.verify();
    process.stdout.write(result.ok ? `audit chain ok: ${result.events} events\n` : `AUDIT CHAIN BROKEN at event ${result.firstBadEvent} (${result.events} read)\n`);
    if (!result.ok) process.exitCode = 1;
  });
}

async function run(argv: string[]) {
  const dash = argv.indexOf('--');
  if (dash < 0 && (argv.includes('--help') || argv.includes('-h'))) {
    parse('run', ['--help']);
    return;
  }
  if (dash < 0 || dash === argv.length - 1) throw new UsageError('run needs a command after --, e.g. odc-portal run --app orders --stage qa -- node server.js');
  const parsed = parse('run', argv.slice(0, dash));
  if (!parsed) return;
  const values = { app: str(parsed.values.app), stage: str(parsed.values.stage), server: str(parsed.values.server), prefix: str(parsed.values.prefix) };
  const [cmd, ...args] = argv.slice(dash + 1) as [string, ...string[]];
  if (!values.app || !values.stage) throw new UsageError('run needs --app and --stage');
  const token = process.env.ODC_RUNTIME_TOKEN;
  if (!token) throw new UsageError('set ODC_RUNTIME_TOKEN to a runtime token for this app and stage');
  const server = (values.server ?? process.env.ODC_PORTAL_URL ?? 'http://127.0.0.1:4650').replace(/\/+$/, '');
  const res = await fetch(`${server}/api/v1/runtime/settings`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(15_000) });
  if (!res.ok) {
    const problem = (await res.json().catch(() => ({}))) as { detail?: string };
    throw new UsageError(`the portal refused the runtime read (${res.status}): ${problem.detail ?? res.statusText}`);
  }
  const body = runtimeSettingsResponseSchema.parse(await res.json());
  if (body.app !== values.app || body.stage !== values.stage) {
    throw new UsageError(`the runtime token is for app "${body.app}" in stage "${body.stage}", not "${values.app}" in "${values.stage}"`);
  }
  const env: Record<string, string> = {};
  const from = new Map<string, string>();
  // Collisions are a matter of names, checked for every setting, set or not: otherwise the
  // command would run today and break the day someone sets the other value.
  for (const [name, value] of Object.entries(body.settings)) {
    const variable = envName(name, values.prefix ?? '');
    const other = from.get(variable);
    if (other) throw new UsageError(`settings "${other}" and "${name}" both map to ${variable}; use distinct names`);
    from.set(variable, name);
    if (value !== null) env[variable] = value;
  }
  // Values go straight into the child's environment: never to disk, never printed.
  const child = spawn(cmd, args, { stdio: 'inherit', env: { ...process.env, ...env, ODC_RUNTIME_TOKEN: undefined } });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => child.kill(signal));
  child.on('error', (err) => {
    process.stderr.write(`odc-portal run: cannot start ${cmd}: ${(err as NodeJS.ErrnoException).code ?? err.message}\n`);
    process.exit(127);
  });
  // As shells do: a child killed by signal N gives 128+N (143 for SIGTERM, 137 for SIGKILL).
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + (os.constants.signals[signal] ?? 0) : 1)));
}

export async function main(argv: string[]): Promise<void> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'serve':
        return await serve(rest);
      case 'token':
        return await token(rest);
      case 'rotate-key':
        return await rotateKey(rest);
      case 'audit':
        return await audit(rest);
      case 'run':
        return await run(rest);
      case 'values': {
        if (rest[0] === '--help' || rest[0] === '-h' || (rest[0] === 'import' && (rest.includes('--help') || rest.includes('-h')))) {
          process.stdout.write(`${groupHelp('values')}\n\n${EXIT_CODES}\n`);
          return;
        }
        const { valuesImport, CliUsageError } = await import('./cli/valuesImport');
        try {
          process.exitCode = await valuesImport(rest, { env: process.env, out: (t) => process.stdout.write(t) });
        } catch (err) {
          throw err instanceof CliUsageError ? new UsageError(err.message) : err;
        }
        return;
      }
      case 'check': {
        const { check } = await import('./cli/check');
        const { CliUsageError } = await import('./cli/valuesImport');
        try {
          process.exitCode = await check(rest, { env: process.env, out: (t) => process.stdout.write(t) });
        } catch (err) {
          throw err instanceof CliUsageError ? new UsageError(err.message) : err;
        }
        return;
      }
      case 'migrate': {
        if (rest.includes('--help') || rest.includes('-h')) {
          process.stdout.write(`${verbHelp(VERBS.migrate!)}\n\n${EXIT_CODES}\n`);
          return;
        }
        const { migrate, MigrateUsageError } = await import('./cli/migrate');
        try {
          const printKey = rest.includes('--print-key');
          // With --print-key, stdout carries the key alone (for a pipe); the report goes to stderr.
          await migrate(rest, { env: process.env, out: (t) => (printKey ? process.stderr : process.stdout).write(t), key: (t) => process.stdout.write(t) });
        } catch (err) {
          throw err instanceof MigrateUsageError ? new UsageError(err.message) : err;
        }
        return;
      }
      case '--version':
        process.stdout.write(`${packageVersion()}\n`);
        return;
      case '--help':
      case '-h':
      case 'help':
        process.stdout.write(`${usage()}\n`);
        return;
      default:
        throw new UsageError(command === undefined ? usage() : `unknown command "${command}"; odc-portal --help lists the commands and their options`);
    }
  } catch (err) {
    const e = err as Error;
    process.stderr.write(`odc-portal: ${e instanceof UsageError ? e.message : `${e.name}: ${e.message}`}\n`);
    process.exitCode = e instanceof UsageError ? 2 : 1;
  }
}

if (require.main === module) void main(process.argv.slice(2));
