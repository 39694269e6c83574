// The OpenAPI 3.1 document of what exists, with body schemas generated from the same
// zod schemas that validate requests and responses, so it cannot drift from them.
import { z } from 'zod';
import * as api from '../common/api';
import { appDefinitionsSchema } from '../common/definitions';
import * as session from '../common/session';

const json = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });

type Op = {
  /** A stable name for client generators: the method name they emit. */
  operationId: string;
  summary: string;
  roles: string;
  request?: z.ZodType;
  response?: z.ZodType;
  status?: number;
  /** 4xx answers beyond those every route of its kind gives (see `errorsOf`). */
  errors?: number[];
  query?: Array<{ name: string; description: string; schema: Record<string, unknown> }>;
  /** Answers If-None-Match with 304 and sends an ETag. */
  etag?: boolean;
  /** Only the web UI's session cookie authenticates it (no bearer token). */
  session?: boolean;
  /** More than the roles: what a client must know. */
  description?: string;
};

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: 'Bad Request: a malformed request (no Host header, bad percent-encoding, a body or query that does not parse or has the wrong shape)',
  401: 'Unauthorized: no token, or one that is unknown or revoked',
  403: "Forbidden: the token's role may not do this, or the app or stage is outside its scope",
  404: 'Not Found: no such app, stage, setting or token',
  409: 'Conflict: the base revision or version is not the current one, or the last admin token',
  413: 'Content Too Large: the body is over 1 MiB',
  415: 'Unsupported Media Type: the body is not application/json',
  422: 'Unprocessable Content: well-formed but breaks a rule (the problem lists which)',
  429: 'Too Many Requests: too many failed sign-ins from this client; wait a minute',
};

/** Every 4xx an operation can answer: each route's own, and those every route of its kind gives. */
function errorsOf(op: Op): number[] {
  const codes = new Set<number>([400, ...(op.errors ?? [])]); // 400: any request can lack a Host header
  if (!op.roles.startsWith('anyone')) [401, 403, 429].forEach((c) => codes.add(c));
  if (op.request) [413, 415].forEach((c) => codes.add(c));
  return [...codes].sort((a, b) => a - b);
}

const pageQuery: NonNullable<Op['query']> = [
  { name: 'limit', description: 'How many events, newest first (1-1000, default 100)', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } },
  { name: 'before', description: 'Only events with an id below this one (the last id of the previous page)', schema: { type: 'integer', minimum: 1 } },
];

export function openApiDocument(version: string): Record<string, unknown> {
  const publishBody = z.strictObject({
    definitions: appDefinitionsSchema,
    baseRevision: z.number().int().nonnegative().optional(),
    dryRun: z.boolean().optional(),
  });
  const problemRef = { $ref: '#/components/schemas/Problem' };
  const routes: Record<string, Record<string, Op>> = {
    '/health': { get: { operationId: 'getHealth', summary: 'Liveness', roles: 'anyone', response: api.healthResponseSchema } },
    '/openapi.json': { get: { operationId: 'getOpenApiDocument', summary: 'This document', roles: 'anyone' } },
    '/stages': { get: { operationId: 'listStages', summary: 'The configured stages, in order', roles: 'admin, developer, operator', response: api.stagesResponseSchema } },
    '/apps': { get: { operationId: 'listApps', summary: 'Published apps in the token scope', roles: 'admin, developer, operator', response: api.appsResponseSchema } },
    '/apps/{app}': { get: { operationId: 'getApp', summary: 'Published definitions', roles: 'admin, developer, operator', response: api.appResponseSchema, errors: [404] } },
    '/apps/{app}/publish': {
      post: {
        operationId: 'publishApp',
        summary: 'Plan (dryRun) or publish definitions',
        roles: 'admin, developer',
        request: publishBody,
        response: api.publishResponseSchema,
        errors: [409, 422],
      },
    },
    '/apps/{app}/stages/{stage}/settings': {
      get: { operationId: 'getStageSettings', summary: 'Stage values, secrets masked', roles: 'admin, developer, operator', response: api.stageSettingsResponseSchema, errors: [404] },
      patch: {
        operationId: 'setStageValues',
        summary: 'Set, replace or clear values, all or nothing',
        roles: 'admin, developer, operator',
        request: api.patchValuesRequestSchema,
        response: api.stageSettingsResponseSchema,
        errors: [404, 409, 422],
      },
    },
    '/apps/{app}/stages/{stage}/settings/{name}/history': {
      get: { operationId: 'getValueHistory', summary: "A value's kept writes, newest first; a secret's only as *****", roles: 'admin, developer, operator', response: api.historyResponseSchema, errors: [403, 404] },
    },
    '/apps/{app}/stages/{stage}/settings/{name}/restore': {
      post: {
        operationId: 'restoreValue',
        summary: 'Write a kept version back as a new, version-checked write (a secret stays in the server)',
        roles: 'admin, developer, operator',
        request: api.restoreRequestSchema,
        response: api.stageSettingsResponseSchema,
        errors: [400, 403, 404, 409, 422],
      },
    },
    '/apps/{app}/compare': {
      get: {
        operationId: 'compareStages',
        summary: 'Stages side by side (?stages=qa,production): own/default/missing/unset, equal or not (secrets by keyed fingerprint, never shown), warnings',
        roles: 'admin, developer, operator (read scope on every stage named)',
        response: api.compareResponseSchema,
        query: [{ name: 'stages', description: 'Two or more stage keys, comma-separated, e.g. qa,production', schema: { type: 'string', pattern: '^[a-z0-9-]+(,[a-z0-9-]+)+$' } }],
        errors: [400, 403, 404, 422],
      },
    },
    '/apps/{app}/promote': {
      post: {
        operationId: 'promoteValues',
        summary: 'Copy effective values from one stage to another: dryRun previews, the apply is all or nothing with baseVersions',
        roles: 'admin, developer, operator (read scope on from, write scope on to)',
        request: api.promoteRequestSchema,
        response: api.promoteResponseSchema,
        errors: [400, 403, 404, 409, 422],
      },
    },
    '/apps/{app}/audit': { get: { operationId: 'listAppAuditEvents', summary: "An app's audit events, newest first", roles: 'admin, developer', errors: [404], query: pageQuery } },
    '/audit': { get: { operationId: 'listAuditEvents', summary: 'All audit events, newest first', roles: 'admin', query: pageQuery } },
    '/audit/verify': { get: { operationId: 'verifyAuditChain', summary: 'Verify the audit chain', roles: 'admin' } },
    '/tokens': {
      get: { operationId: 'listTokens', summary: 'List tokens (never the secret)', roles: 'admin', response: z.object({ tokens: z.array(api.tokenInfoSchema) }) },
      post: {
        operationId: 'createToken',
        summary: 'Create a token; the secret is shown once',
        roles: 'admin',
        request: api.createTokenRequestSchema,
        response: api.createTokenResponseSchema,
        status: 201,
        errors: [422],
      },
    },
    '/tokens/{id}': { delete: { operationId: 'revokeToken', summary: 'Revoke a token', roles: 'admin', status: 204, errors: [404, 409] } },
    // The web UI's sessions (SPEC §14). A session cookie authenticates any person's route like a
    // bearer token; a write with it needs the same origin (Origin or Sec-Fetch-Site) and the
    // session's csrfToken in X-CSRF-Token, else 403.
    '/sessions': {
      post: {
        operationId: 'signIn',
        summary: 'Sign in to the web UI: answers the session cookie (HttpOnly, SameSite=Strict, Path=/; Secure over https) and a csrfToken',
        roles: 'anyone (with a person token in the body)',
        request: session.createSessionRequestSchema,
        response: session.sessionResponseSchema,
        status: 201,
        errors: [401, 403, 429],
        description:
          'The token is checked like a bearer token (failures are limited per client). A runtime token cannot sign in (403); a request from another origin is refused (403). The session ends after 30 minutes idle, 8 hours, at sign-out or when the token is revoked.',
      },
    },
    '/sessions/current': {
      get: { operationId: 'getSession', summary: 'The signed-in session (token name, role, scope, csrfToken); never the token', roles: 'a session', response: session.sessionResponseSchema, session: true },
      delete: { operationId: 'signOut', summary: 'Sign out: ends the session and clears the cookie', roles: 'a session', status: 204, session: true },
    },
    '/runtime/settings': {
      get: {
        operationId: 'getRuntimeSettings',
        summary: "The runtime token's effective settings, secrets in clear",
        roles: 'runtime',
        response: api.runtimeSettingsResponseSchema,
        errors: [404],
        etag: true,
      },
    },
  };
  const paths: Record<string, Record<string, unknown>> = {};
  for (const [path, ops] of Object.entries(routes)) {
    paths[path] = {};
    for (const [method, op] of Object.entries(ops)) {
      const params: Array<Record<string, unknown>> = [
        ...[...path.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } })),
        ...(op.query ?? []).map((q) => ({ ...q, in: 'query', required: false })),
      ];
      if (op.etag) params.push({ name: 'If-None-Match', in: 'header', required: false, description: 'The ETag of an earlier answer: 304 if nothing changed since', schema: { type: 'string' } });
      const ok = String(op.status ?? 200);
      const responses: Record<string, unknown> = {
        [ok]: op.status === 204 ? { description: 'Done' } : op.response ? { description: 'OK', content: { 'application/json': { schema: json(op.response) } } } : { description: 'OK', content: { 'application/json': { schema: { type: 'object' } } } },
      };
      if (op.etag) {
        const etag = { ETag: { description: 'Names this answer; send it back in If-None-Match', schema: { type: 'string' } } };
        (responses[ok] as Record<string, unknown>).headers = etag;
        responses['304'] = { description: 'Not Modified: the settings are still those of the ETag sent in If-None-Match', headers: etag };
      }
      for (const code of errorsOf(op)) responses[String(code)] = { description: ERROR_DESCRIPTIONS[code], content: { [api.PROBLEM_CONTENT_TYPE]: { schema: problemRef } } };
      paths[path]![method] = {
        operationId: op.operationId,
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
    info: {
      title: 'ODC settings portal',
      version,
      description: 'App settings and secrets per stage. Errors are RFC 9457 problem details.',
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: api.API_PREFIX }],
    components: {
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer' },
        session: { type: 'apiKey', in: 'cookie', name: session.SESSION_COOKIE, description: 'The web UI session (POST /sessions). Writes also need the X-CSRF-Token header and the same origin.' },
      },
      schemas: { Problem: json(api.problemSchema) },
    },
    security: [{ bearer: [] }, { session: [] }],
    paths,
  };
}
