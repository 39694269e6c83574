// `odc-portal check --app A --stage S [--json]` (SPEC §13): the warnings for one stage, a deploy
// gate for CI. Exit 1 when a secret is missing there or (in the production stage) is the same as
// a lower stage's; 0 otherwise (a rotation that is due is printed, not fatal). It compares the
// stage with every stage before it that the token may read (GET /compare, which reveals no secret).
// A person's token comes from ODC_TOKEN, the server from --server, ODC_SERVER or the default.
import { parseArgs } from 'node:util';
import { compareResponseSchema, problemSchema, stagesResponseSchema, type StageWarning } from '../../common/api';
import { CliUsageError, DEFAULT_SERVER } from './valuesImport';

export interface CheckIo {
  env: NodeJS.ProcessEnv;
  out: (text: string) => void;
}

async function get(server: string, token: string, route: string): Promise<{ status: number; json: unknown }> {
  let res: Response;
  try {
    res = await fetch(`${server}/api/v1${route}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(30_000) });
  } catch (err) {
    throw new Error(`cannot reach the portal at ${server} (${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).name})`);
  }
  const text = await res.text();
  try {
    return { status: res.status, json: text ? JSON.parse(text) : undefined };
  } catch {
    throw new Error(`the server at ${server} answered ${res.status} with something that is not JSON; is it the portal?`);
  }
}

function refusal(status: number, json: unknown): string {
  const problem = problemSchema.safeParse(json);
  return `the portal refused (${status}): ${problem.success ? (problem.data.detail ?? problem.data.title) : `HTTP ${status}`}`;
}

/** Whether a warning fails the gate: missing, or the same secret as a lower stage. */
export const isBlocking = (w: StageWarning) => w.kind === 'missing' || w.kind === 'same-as-lower-stage';

export async function check(argv: string[], io: CheckIo): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { app: { type: 'string' }, stage: { type: 'string' }, server: { type: 'string' }, json: { type: 'boolean' } },
  });
  if (!values.app || !values.stage || positionals.length > 0) throw new CliUsageError('usage: odc-portal check --app A --stage S [--server URL] [--json]');
  const token = io.env.ODC_TOKEN;
  if (!token) throw new CliUsageError("set ODC_TOKEN to a person's token (developer, operator or admin) with this app and stage in scope");
  const server = (values.server ?? io.env.ODC_SERVER ?? DEFAULT_SERVER).replace(/\/+$/, '');
  const app = values.app;
  const stage = values.stage;

  const stagesRes = await get(server, token, '/stages');
  if (stagesRes.status !== 200) {
    io.out(`${refusal(stagesRes.status, stagesRes.json)}\n`);
    return 1;
  }
  const order = stagesResponseSchema.parse(stagesRes.json).stages.map((s) => s.key);
  const at = order.indexOf(stage);
  if (at < 0) throw new CliUsageError(`no stage "${stage}"; the stages are ${order.join(', ')}`);
  const compare = (stages: string[]) => get(server, token, `/apps/${encodeURIComponent(app)}/compare?stages=${stages.map(encodeURIComponent).join(',')}`);
  let res = await compare(order.slice(0, at + 1));
  let partial = false;
  // A token scoped to this stage only still gets its own stage's warnings.
  if (res.status === 403 && at > 0) {
    res = await compare([stage]);
    partial = true;
  }
  if (res.status !== 200) {
    io.out(`${refusal(res.status, res.json)}\n`);
    return 1;
  }
  const body = compareResponseSchema.parse(res.json);
  const warnings = body.warnings.filter((w) => w.stage === stage);
  const blocking = warnings.filter(isBlocking);
  if (values.json) {
    io.out(`${JSON.stringify({ app, stage, revision: body.revision, ok: blocking.length === 0, comparedWith: body.stages.filter((s) => s !== stage), warnings }, null, 2)}\n`);
  } else {
    io.out(`Check of ${app} / ${stage} (revision ${body.revision}):\n`);
    if (partial) io.out('  note: the token may not read the lower stages, so "same as a lower stage" was not checked\n');
    for (const w of warnings) io.out(`  ${isBlocking(w) ? 'ERROR' : 'warn '}  ${w.detail}\n`);
    io.out(blocking.length > 0 ? `${blocking.length} problem(s) block a deploy of ${stage}.\n` : `No blocking problems${warnings.length ? ` (${warnings.length} warning(s))` : ''}.\n`);
  }
  return blocking.length > 0 ? 1 : 0;
}
