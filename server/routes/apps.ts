// Apps, publish (SPEC §3) and per-stage values (SPEC §4).
import { Router, type Request } from 'express';
import {
  patchValuesRequestSchema,
  promoteRequestSchema,
  publishRequestSchema,
  restoreRequestSchema,
  type CompareResponse,
  type HistoryResponse,
  type PromoteRequest,
  type PromoteResponse,
  type RestoreRequest,
  type PatchValuesRequest,
  type PublishResponse,
  type StageSettingsResponse,
  type AppsResponse,
  type AppResponse,
} from '../../common/api';
import { appDefinitionsSchema, normalizeDefinitions, ruleProblems, type DefinitionProblem } from '../../common/definitions';
import { actorOf, allowRoles, inScope, requireScope } from '../auth';
import { badRequest, forbidden, unprocessable } from '../errors';
import { describeShapeIssue, validateBody } from '../http/body';
import type { Portal } from '../services/portal';

const PEOPLE = ['admin', 'developer', 'operator'] as const;

function problemName(doc: { settings: Array<{ name: string }> }, p: DefinitionProblem): string {
  const [first, index] = p.path;
  if (first === 'settings' && typeof index === 'number') return doc.settings[index]?.name ?? `settings[${index}]`;
  return p.path.join('.') || 'definitions';
}

export function appsRouter(portal: Portal): Router {
  const r = Router();

  r.get('/apps', allowRoles(...PEOPLE), async (req, res) => {
    const token = req.token!;
    const body: AppsResponse = { apps: (await portal.apps.listApps()).filter((a) => inScope(token.apps, a.key)) };
    res.json(body);
  });

  r.get('/apps/:app', allowRoles(...PEOPLE), requireScope, async (req: Request<{ app: string }>, res) => {
    const body: AppResponse = await portal.apps.getApp(req.params.app);
    res.json(body);
  });

  r.post('/apps/:app/publish', allowRoles('admin', 'developer'), requireScope, validateBody(publishRequestSchema), async (req: Request<{ app: string }>, res) => {
    const body = req.body as { definitions: unknown; baseRevision?: number; dryRun?: boolean };
    const shape = appDefinitionsSchema.safeParse(body.definitions);
    if (!shape.success) {
      const detail = shape.error.issues.slice(0, 5).map((i) => describeShapeIssue({ ...i, path: ['definitions', ...i.path] })).join('; ');
      throw badRequest(`the definitions do not have the expected shape: ${detail}`);
    }
    const doc = shape.data;
    if (doc.app.key !== req.params.app) {
      throw unprocessable(`the definitions are for app "${doc.app.key}" but were sent to "${req.params.app}"; publish to /apps/${doc.app.key}/publish`);
    }
    const problems = ruleProblems(doc);
    if (problems.length > 0) {
      throw unprocessable(`the definitions break ${problems.length} rule(s); fix them and publish again`, {
        errors: problems.map((p) => ({ name: problemName(doc, p), detail: p.message, path: p.path.join('.') })),
      });
    }
    const result: PublishResponse = await portal.apps.publish(normalizeDefinitions(doc), { baseRevision: body.baseRevision, dryRun: body.dryRun }, actorOf(req));
    res.json(result);
  });

  const values = Router({ mergeParams: true });
  values.use(allowRoles(...PEOPLE), requireScope, (_req, res, next) => {
    res.set('Cache-Control', 'no-store');
    next();
  });
  values.get('/', async (req: Request<{ app: string; stage: string }>, res) => {
    const body: StageSettingsResponse = await portal.values.readStage(req.params.app, req.params.stage);
    res.json(body);
  });
  values.patch('/', validateBody(patchValuesRequestSchema), async (req: Request<{ app: string; stage: string }>, res) => {
    const { changes } = req.body as PatchValuesRequest;
    const body: StageSettingsResponse = await portal.values.patchStage(req.params.app, req.params.stage, changes, actorOf(req));
    res.json(body);
  });
  values.get('/:name/history', async (req: Request<{ app: string; stage: string; name: string }>, res) => {
    const body: HistoryResponse = await portal.values.history(req.params.app, req.params.stage, req.params.name);
    res.json(body);
  });
  values.post('/:name/restore', validateBody(restoreRequestSchema), async (req: Request<{ app: string; stage: string; name: string }>, res) => {
    const body: StageSettingsResponse = await portal.values.restore(req.params.app, req.params.stage, req.params.name, req.body as RestoreRequest, actorOf(req));
    res.json(body);
  });
  r.use('/apps/:app/stages/:stage/settings', values);

  // Across stages (SPEC §13): read scope on every stage named; promote also writes `to`.
  const stageScope = (req: Request, stages: string[]) => {
    const outside = stages.filter((s) => !inScope(req.token!.stages, s));
    if (outside.length > 0) throw forbidden(`this token's scope does not include stage ${outside.map((s) => `"${s}"`).join(', ')}`);
  };
  r.get('/apps/:app/compare', allowRoles(...PEOPLE), requireScope, async (req: Request<{ app: string }>, res) => {
    const raw = req.query.stages;
    if (raw !== undefined && typeof raw !== 'string') throw badRequest('stages is one comma-separated list, e.g. ?stages=qa,production');
    const stages = raw === undefined || raw === '' ? portal.stageKeys() : raw.split(',').map((s) => s.trim());
    stageScope(req, stages);
    const body: CompareResponse = await portal.across.compare(req.params.app, stages);
    res.set('Cache-Control', 'no-store').json(body);
  });
  r.post('/apps/:app/promote', allowRoles(...PEOPLE), requireScope, validateBody(promoteRequestSchema), async (req: Request<{ app: string }>, res) => {
    const body = req.body as PromoteRequest;
    stageScope(req, [body.from, body.to]);
    const answer: PromoteResponse = await portal.across.promote(req.params.app, body, actorOf(req));
    res.set('Cache-Control', 'no-store').json(answer);
  });

  return r;
}
