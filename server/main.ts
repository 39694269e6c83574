// The `odc-portal` command line (SPEC §10).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { ROLES, runtimeSettingsResponseSchema, type Role, type Scope } from '../common/api';
import { envName } from '../common/envNames';
import type { AuditActor } from './audit/chain';
import { createApp } from './app';
import { createHttpServer } from './http/clientError';
import { newKey } from './crypto/envelope';
import { createLogger, DEFAULT_STAGES, openStore, packageVersion, parseStages, redactUrl } from './runtime';

const USAGE = `usage: odc-portal <command>
  serve [--data-dir DIR] [--database-url postgres://...] [--host 127.0.0.1] [--port 4650] [--stages key:Name,...]
  token create --name N --role admin|developer|operator|runtime [--app A]... [--stage S]...
  token list
  token revoke ID
  rotate-key
  audit verify
  run --app A --stage S [--server URL] [--prefix P] -- CMD [ARGS...]
  values import --app A --stage S [--prefix P] [--server URL] [--yes] FILE   (token in ODC_TOKEN)
  migrate [--data-dir DIR] --to postgres://... [--key-out FILE | --print-key]   (embedded store -> PostgreSQL)
Every command that opens the store takes --data-dir, --database-url and --stages.
Environment: PORTAL_DATA_DIR, PORTAL_DATABASE_URL, PORTAL_HOST, PORTAL_PORT, PORTAL_STAGES, PORTAL_MASTER_KEY,
  PORTAL_NEW_MASTER_KEY, PORTAL_KEYCHAIN=off, PORTAL_DB_POOL_MAX, PORTAL_DB_CONNECT_TIMEOUT_MS,
  PORTAL_DB_QUERY_TIMEOUT_MS, ODC_RUNTIME_TOKEN, ODC_PORTAL_URL`;

const CLI_ACTOR: AuditActor = { tokenId: null, tokenName: 'odc-portal (local command line)', client: 'cli' };

class UsageError extends Error {}

function common(values: { 'data-dir'?: string; 'database-url'?: string; stages?: string }) {
  const env = process.env;
  return {
    dataDir: values['data-dir'] ?? env.PORTAL_DATA_DIR ?? './data',
    // PostgreSQL (SPEC §11) when given; the embedded store in the data dir otherwise.
    databaseUrl: values['database-url'] || env.PORTAL_DATABASE_URL || undefined,
    stages: parseStages(values.stages ?? env.PORTAL_STAGES ?? DEFAULT_STAGES),
  };
}

const commonOptions = { 'data-dir': { type: 'string' }, 'database-url': { type: 'string' }, stages: { type: 'string' } } as const;

async function serve(argv: string[]) {
  const { values } = parseArgs({ args: argv, options: { ...commonOptions, host: { type: 'string' }, port: { type: 'string' } } });
  const { dataDir, databaseUrl, stages } = common(values);
  const host = values.host ?? process.env.PORTAL_HOST ?? '127.0.0.1';
  const port = Number(values.port ?? process.env.PORTAL_PORT ?? 4650);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError('--port must be 0-65535');
  const logger = createLogger();
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
        fs.writeFileSync(file, token + '\n', { mode: 0o600 });
        // Shown once here and in the file; nowhere else, ever.
        process.stdout.write(
          `\nFirst start: an admin token was created. It is shown only now and in ${file} (mode 0600):\n\n  ${token}\n\n` +
            `Sign in with it (VS Code: "ODC: Sign In"), create personal tokens, then delete ${file}.\n\n`,
        );
      },
    },
  });
  const app = createApp({ portal, logger, version: packageVersion() });
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
      void portal.close().finally(() => process.exit(0));
    });
    server.closeAllConnections();
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

type CommonValues = { 'data-dir'?: string; 'database-url'?: string; stages?: string };

async function withStore<T>(values: CommonValues, fn: (opened: Awaited<ReturnType<typeof openStore>>) => Promise<T> | T) {
  const { dataDir, databaseUrl, stages } = common(values);
  const opened = await openStore({ dataDir, databaseUrl, stages, env: process.env, logger: createLogger(process.env.PORTAL_LOG_LEVEL ?? 'warn'), create: false });
  try {
    return await fn(opened);
  } finally {
    await opened.portal.close();
  }
}

const tokenCreateOptions = {
  ...commonOptions,
  name: { type: 'string' },
  role: { type: 'string' },
  app: { type: 'string', multiple: true },
  stage: { type: 'string', multiple: true },
} as const;

async function token(argv: string[]) {
  const [sub, ...rest] = argv;
  if (sub === 'create') {
    const { values } = parseArgs({ args: rest, options: tokenCreateOptions });
    if (!values.name || !values.role || !(ROLES as readonly string[]).includes(values.role)) throw new UsageError(`token create needs --name and --role (${ROLES.join(', ')})`);
    const name = values.name;
    const role = values.role as Role;
    const apps: Scope = values.app?.length ? values.app : '*';
    const stages: Scope = values.stage?.length ? values.stage : '*';
    if (role === 'runtime' && (apps === '*' || apps.length !== 1 || stages === '*' || stages.length !== 1)) throw new UsageError('a runtime token needs exactly one --app and one --stage');
    await withStore(values, async ({ portal }) => {
      const unknown = stages === '*' ? [] : stages.filter((s) => !portal.hasStage(s));
      if (unknown.length) throw new UsageError(`unknown stage(s): ${unknown.join(', ')}`);
      const created = await portal.tokens.create({ name, role, apps, stages }, CLI_ACTOR);
      process.stdout.write(`created token ${created.id} (${role}); it is shown only now:\n${created.token}\n`);
    });
  } else if (sub === 'list') {
    const { values } = parseArgs({ args: rest, options: commonOptions });
    await withStore(values, async ({ portal }) => {
      const scope = (s: Scope) => (s === '*' ? '*' : s.join(','));
      for (const t of await portal.tokens.list()) {
        process.stdout.write(`${t.id}\t${t.role}\t${t.name}\tapps=${scope(t.apps)}\tstages=${scope(t.stages)}\t${t.revokedAt ? `revoked ${t.revokedAt}` : 'active'}\n`);
      }
    });
  } else if (sub === 'revoke') {
    const { values, positionals } = parseArgs({ args: rest, options: commonOptions, allowPositionals: true });
    const id = positionals[0];
    if (!id) throw new UsageError('token revoke needs the token id (see token list)');
    await withStore(values, async ({ portal }) => {
      await portal.tokens.revoke(id, CLI_ACTOR);
      process.stdout.write(`revoked ${id}\n`);
    });
  } else throw new UsageError(USAGE);
}

async function rotateKey(argv: string[]) {
  const { values } = parseArgs({ args: argv, options: commonOptions });
  await withStore(values, async ({ portal, masterKey, source }) => {
    let next: Buffer;
    if (source.kind === 'environment') {
      const pending = await source.loadPending();
      if (!pending) throw new UsageError('with PORTAL_MASTER_KEY, give the new key in PORTAL_NEW_MASTER_KEY (openssl rand -base64 32)');
      next = pending;
    } else {
      next = newKey();
      // Stored before the commit, promoted after: a crash in between is finished at the next start.
      await source.stagePending(next);
    }
    const n = await portal.keys.rotateMasterKey(masterKey, next, CLI_ACTOR);
    if (source.kind !== 'environment') await source.promotePending();
    process.stdout.write(
      `re-wrapped ${n} keys under a new master key (${source.describe}).\n` +
        (source.kind === 'environment' ? 'Now set PORTAL_MASTER_KEY to the value of PORTAL_NEW_MASTER_KEY and unset the latter.\n' : 'The old master key is no longer needed.\n'),
    );
  });
}

async function audit(argv: string[]) {
  const [sub, ...rest] = argv;
  if (sub !== 'verify') throw new UsageError(USAGE);
  const { values } = parseArgs({ args: rest, options: commonOptions });
  await withStore(values, async ({ portal }) => {
    const result = await portal.audit.verify();
    process.stdout.write(result.ok ? `audit chain ok: ${result.events} events\n` : `AUDIT CHAIN BROKEN at event ${result.firstBadEvent} (${result.events} read)\n`);
    if (!result.ok) process.exitCode = 1;
  });
}

async function run(argv: string[]) {
  const dash = argv.indexOf('--');
  if (dash < 0 || dash === argv.length - 1) throw new UsageError('run needs a command after --, e.g. odc-portal run --app orders --stage qa -- node server.js');
  const { values } = parseArgs({ args: argv.slice(0, dash), options: { app: { type: 'string' }, stage: { type: 'string' }, server: { type: 'string' }, prefix: { type: 'string' } } });
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
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 + 1 : 1)));
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
        const { valuesImport, CliUsageError } = await import('./cli/valuesImport');
        try {
          process.exitCode = await valuesImport(rest, { env: process.env, out: (t) => process.stdout.write(t) });
        } catch (err) {
          throw err instanceof CliUsageError ? new UsageError(err.message) : err;
        }
        return;
      }
      case 'migrate': {
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
      default:
        throw new UsageError(USAGE);
    }
  } catch (err) {
    const e = err as Error;
    process.stderr.write(`odc-portal: ${e instanceof UsageError ? e.message : `${e.name}: ${e.message}`}\n`);
    process.exitCode = e instanceof UsageError ? 2 : 1;
  }
}

if (require.main === module) void main(process.argv.slice(2));
