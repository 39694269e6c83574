// The OpenAPI 3.1 document of what exists, with body schemas generated from the same
// zod schemas that validate requests and responses, so it cannot drift from them.
import { z } from 'zod';
import * as api from '../common/api';
import { appDefinitionsSchema } from '../common/definitions';
import * as session from '../common/session';

const json = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });

/** `session`: the web UI's session cookie only (no bearer token). */
type Op = { summary: string; roles: string; request?: z.ZodType; response?: z.ZodType; status?: number; errors?: number[]; session?: boolean; description?: string };

export function openApiDocument(version: string): Record<string, unknown> {
  const publishBody = z.strictObject({
    definitions: appDefinitionsSchema,
    baseRevision: z.number().int().nonnegative().optional(),
    dryRun: z.boolean().optional(),
  });
  const problem = { description: 'problem details', content: { 'application/problem+json': { schema: json(api.problemSchema) } } };
  const routes: Record<string, Record<string, Op>> = {
    '/health': { get: { summary: 'Liveness', roles: 'anyone', response: api.healthResponseSchema } },
    '/openapi.json': { get: { summary: 'This document', roles: 'anyone' } },
    '/stages': { get: { summary: 'The configured stages, in order', roles: 'admin, developer, operator', response: api.stagesResponseSchema } },
    '/apps': { get: { summary: 'Published apps in the token scope', roles: 'admin, developer, operator', response: api.appsResponseSchema } },
    '/apps/{app}': { get: { summary: 'Published definitions', roles: 'admin, developer, operator', response: api.appResponseSchema, errors: [403, 404] } },
    '/apps/{app}/publish': {
      post: { summary: 'Plan (dryRun) or publish definitions', roles: 'admin, developer', request: publishBody, response: api.publishResponseSchema, errors: [400, 403, 409, 413, 415, 422] },
    },
    '/apps/{app}/stages/{stage}/settings': {
      get: { summary: 'Stage values, secrets masked', roles: 'admin, developer, operator', response: api.stageSettingsResponseSchema, errors: [403, 404] },
      patch: { summary: 'Set, replace or clear values, all or nothing', roles: 'admin, developer, operator', request: api.patchValuesRequestSchema, response: api.stageSettingsResponseSchema, errors: [400, 403, 404, 409, 422] },
    },
    '/apps/{app}/audit': { get: { summary: "An app's audit events, newest first", roles: 'admin, developer', errors: [403] } },
    '/audit': { get: { summary: 'All audit events, newest first', roles: 'admin' } },
    '/audit/verify': { get: { summary: 'Verify the audit chain', roles: 'admin' } },
    '/tokens': {
      get: { summary: 'List tokens (never the secret)', roles: 'admin' },
      post: { summary: 'Create a token; the secret is shown once', roles: 'admin', request: api.createTokenRequestSchema, response: api.createTokenResponseSchema, status: 201, errors: [400, 422] },
    },
    '/tokens/{id}': { delete: { summary: 'Revoke a token', roles: 'admin', status: 204, errors: [404, 409] } },
    // The web UI's sessions (SPEC §14). A session cookie authenticates any person's route like
    // a bearer token; a write with it needs the same origin (Origin or Sec-Fetch-Site) and the
    // session's csrfToken in X-CSRF-Token, else 403.
    '/sessions': {
      post: {
        summary: 'Sign in to the web UI: answers the session cookie (HttpOnly, SameSite=Strict, Path=/; Secure over https) and a csrfToken',
        roles: 'anyone (with a person token in the body)',
        request: session.createSessionRequestSchema,
        response: session.sessionResponseSchema,
        status: 201,
        errors: [400, 401, 403, 415, 429],
        description: 'The token is checked like a bearer token (failures are limited per client). A runtime token cannot sign in (403); a request from another origin is refused (403). The session ends after 30 minutes idle, 8 hours, at sign-out or when the token is revoked.',
      },
    },
    '/sessions/current': {
      get: { summary: 'The signed-in session (token name, role, scope, csrfToken); never the token', roles: 'a session', response: session.sessionResponseSchema, errors: [400], session: true },
      delete: { summary: 'Sign out: ends the session and clears the cookie', roles: 'a session', status: 204, errors: [400, 403], session: true },
    },
    '/runtime/settings': { get: { summary: "The runtime token's effective settings, secrets in clear", roles: 'runtime', response: api.runtimeSettingsResponseSchema, errors: [403] } },
  };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [path, ops] of Object.entries(routes)) {
    paths[path] = {};
    for (const [method, op] of Object.entries(ops)) {
      const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
      const responses: Record<string, unknown> = {
        [String(op.status ?? 200)]: op.response ? { description: 'OK', content: { 'application/json': { schema: json(op.response) } } } : { description: 'OK' },
      };
      if (!op.roles.startsWith('anyone') || op.errors?.includes(401)) responses['401'] = problem;
      for (const code of op.errors ?? []) responses[String(code)] = problem;
      paths[path]![method] = {
        summary: op.summary,
        description: `Roles: ${op.roles}.${op.description ? ` ${op.description}` : ''}`,
        ...(params.length ? { parameters: params } : {}),
        ...(op.request ? { requestBody: { required: true, content: { 'application/json': { schema: json(op.request) } } } } : {}),
        responses,
        ...(op.roles.startsWith('anyone') ? { security: [] } : op.session ? { security: [{ session: [] }] } : {}),
      };
    }
  }
  return {
    openapi: '3.1.0',
    info: { title: 'ODC settings portal', version },
    servers: [{ url: api.API_PREFIX }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        session: { type: 'apiKey', in: 'cookie', name: session.SESSION_COOKIE, description: 'The web UI session (POST /sessions). Writes also need the X-CSRF-Token header and the same origin.' },
      },
    },
    security: [{ bearer: [] }, { session: [] }],
    paths,
  };
}
