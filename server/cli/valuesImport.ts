// `odc-portal values import --app A --stage S [--prefix P] [--yes] FILE` (SPEC §16): reads a .env
// file (dotenv's own parser), prints the preview and, only with --yes and when nothing is
// refused, writes it as one all-or-nothing PATCH carrying the versions it was planned against.
// A person's token comes from ODC_TOKEN, the server from --server, ODC_SERVER or the default.
// The file's values go into the request body only: never printed, never in an error message.
import * as fs from 'node:fs';
import { parseArgs } from 'node:util';
import { parse as parseDotenv } from 'dotenv';
import { problemSchema, stageSettingsResponseSchema, type StageSettingsResponse, type ValueChange } from '../../common/api';
import { formatImportRow, previewDotenvImport, summarizeImport } from '../../common/dotenvImport';

export const DEFAULT_SERVER = 'http://127.0.0.1:4650';

/** A mistake in how the command was called (exit 2), as opposed to a refused import (exit 1). */
export class CliUsageError extends Error {}

export interface ValuesImportIo {
  env: NodeJS.ProcessEnv;
  out: (text: string) => void;
}

async function call(server: string, token: string, method: 'GET' | 'PATCH', route: string, body?: { changes: ValueChange[] }): Promise<{ status: number; json: unknown }> {
  let res: Response;
  try {
    res = await fetch(`${server}/api/v1${route}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    throw new Error(`cannot reach the portal at ${server} (${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name})`);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    throw new Error(`the server at ${server} answered ${res.status} with something that is not JSON; is it the portal?`);
  }
  return { status: res.status, json };
}

function refusal(status: number, json: unknown): string {
  const problem = problemSchema.safeParse(json);
  const detail = problem.success ? (problem.data.detail ?? problem.data.title) : `HTTP ${status}`;
  return `the portal refused (${status}): ${detail}`;
}

/** Returns the exit code: 0 written or previewed cleanly, 1 refused lines, conflicts or server refusal. */
export async function valuesImport(argv: string[], io: ValuesImportIo): Promise<number> {
  const [sub, ...rest] = argv;
  if (sub !== 'import') throw new CliUsageError('usage: odc-portal values import --app A --stage S [--prefix P] [--server URL] [--yes] FILE');
  const { values, positionals } = parseArgs({
    args: rest,
    allowPositionals: true,
    options: { app: { type: 'string' }, stage: { type: 'string' }, prefix: { type: 'string' }, server: { type: 'string' }, yes: { type: 'boolean' } },
  });
  const file = positionals[0];
  if (!values.app || !values.stage || !file || positionals.length > 1) throw new CliUsageError('values import needs --app, --stage and one FILE (a .env file)');
  const token = io.env.ODC_TOKEN;
  if (!token) throw new CliUsageError("set ODC_TOKEN to a person's token (developer, operator or admin) with this app and stage in scope");
  const server = (values.server ?? io.env.ODC_SERVER ?? DEFAULT_SERVER).replace(/\/+$/, '');
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new CliUsageError(`cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
  }
  const entries = parseDotenv(text);
  const route = `/apps/${encodeURIComponent(values.app)}/stages/${encodeURIComponent(values.stage)}/settings`;
  const current = await call(server, token, 'GET', route);
  if (current.status !== 200) {
    io.out(`${refusal(current.status, current.json)}\n`);
    return 1;
  }
  const stage: StageSettingsResponse = stageSettingsResponseSchema.parse(current.json);
  const preview = previewDotenvImport(entries, stage.settings, values.prefix ?? '');
  io.out(`Import of ${Object.keys(entries).length} variable(s) into ${stage.app} / ${stage.stage}:\n`);
  for (const row of preview.rows) io.out(`  ${formatImportRow(row)}\n`);
  io.out(`${summarizeImport(preview)}\n`);
  if (preview.refused > 0) {
    io.out('Nothing written: fix or remove the refused lines and run again.\n');
    return 1;
  }
  if (preview.changes.length === 0) {
    io.out('Nothing to write.\n');
    return 0;
  }
  if (!values.yes) {
    io.out('Preview only, nothing written. Run again with --yes to write these values.\n');
    return 0;
  }
  const written = await call(server, token, 'PATCH', route, { changes: preview.changes });
  if (written.status !== 200) {
    const conflicts = (written.json as { conflicts?: unknown } | undefined)?.conflicts;
    io.out(`${refusal(written.status, written.json)}${Array.isArray(conflicts) ? ` (changed meanwhile: ${conflicts.join(', ')})` : ''}\nNothing written.\n`);
    return 1;
  }
  io.out(`Wrote ${preview.changes.length} value(s) to ${stage.app} / ${stage.stage} in one change.\n`);
  return 0;
}
