// Tokens (SPEC §6) and the audit log (SPEC §7).
import { Router, type Request } from 'express';
import { z } from 'zod';
import { ADMIN_SCOPE_REFUSAL, createTokenRequestSchema, type CreateTokenRequest, type CreateTokenResponse } from '../../common/api';
import { actorOf, allowRoles, requireScope } from '../auth';
import { badRequest, unprocessable } from '../errors';
import { validateBody } from '../http/body';
import type { Portal } from '../services/portal';

const pageSchema = z.strictObject({
  limit: z.coerce.number().int().min(1).max(1000).default(100),
  before: z.coerce.number().int().min(1).optional(),
});

function page(req: Request) {
  const parsed = pageSchema.safeParse(req.query);
  if (!parsed.success) throw badRequest('query parameters: limit is 1-1000, before is an event id');
  return parsed.data;
}

export function adminRouter(portal: Portal): Router {
  const r = Router();

  r.post('/tokens', allowRoles('admin'), validateBody(createTokenRequestSchema), async (req, res) => {
    const body = req.body as CreateTokenRequest;
    const apps = body.apps ?? '*';
    const stages = body.stages ?? '*';
    // SPEC §6: an admin may do everything, so a scoped admin token would be a false promise
    // (and could mint itself an unscoped one).
    if (body.role === 'admin' && (apps !== '*' || stages !== '*')) throw unprocessable(ADMIN_SCOPE_REFUSAL);
    if (body.role === 'runtime' && (!Array.isArray(apps) || apps.length !== 1 || !Array.isArray(stages) || stages.length !== 1)) {
      throw unprocessable('a runtime token reads exactly one app in exactly one stage: give apps: ["<app>"] and stages: ["<stage>"]');
    }
    const unknownStages = Array.isArray(stages) ? stages.filter((s) => !portal.hasStage(s)) : [];
    if (unknownStages.length > 0) throw unprocessable(`unknown stage(s) ${unknownStages.join(', ')}; the stages are ${portal.stageKeys().join(', ')}`);
    const created: CreateTokenResponse = await portal.tokens.create({ name: body.name, role: body.role, apps, stages }, actorOf(req));
    res.status(201).json(created);
  });

  r.get('/tokens', allowRoles('admin'), async (_req, res) => {
    res.json({ tokens: await portal.tokens.list() });
  });

  r.delete('/tokens/:id', allowRoles('admin'), async (req: Request<{ id: string }>, res) => {
    await portal.tokens.revoke(req.params.id, actorOf(req));
    res.status(204).end();
  });

  r.get('/audit/verify', allowRoles('admin'), async (_req, res) => {
    res.json(await portal.audit.verify());
  });

  r.get('/audit', allowRoles('admin'), async (req, res) => {
    res.json({ events: await portal.audit.list(page(req)) });
  });

  r.get('/apps/:app/audit', allowRoles('admin', 'developer'), requireScope, async (req: Request<{ app: string }>, res) => {
    await portal.apps.getApp(req.params.app); // 404 for an app never published
    const stages = req.token!.stages;
    res.json({ events: await portal.audit.list({ ...page(req), app: req.params.app, ...(stages === '*' ? {} : { stages }) }) });
  });

  return r;
}
