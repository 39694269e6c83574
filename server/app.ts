// The portal server as an Express 5 app, built from its dependencies and apart from
// `listen`, so tests start it on port 0. One error handler turns every error into problem
// details; no route has its own try/catch (Express 5 forwards rejections). createApp returns
// the request listener: the app, with the run-time read's fast path in front (see its end).
import express, { type ErrorRequestHandler, type Request } from 'express';
import { STATUS_CODES, type IncomingMessage, type OutgoingHttpHeader, type RequestListener, type ServerResponse } from 'node:http';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { API_PREFIX, PROBLEM_CONTENT_TYPE, type HealthResponse, type Problem, type StagesResponse } from '../common/api';
import { authenticate, authenticator, FailedAuthLimiter, allowRoles, actorOf, hasRole, preauthenticated } from './auth';
import { DecryptionError } from './crypto/envelope';
import { badRequest, HttpProblem, notFound } from './errors';
import { hasBody, jsonBody } from './http/body';
import { openApiDocument } from './openapi';
import { adminRouter } from './routes/admin';
import { appsRouter } from './routes/apps';
import { RUNTIME_PATH, RUNTIME_ROLES, runtimeReader, runtimeRouter } from './routes/runtime';
import { problemOfDomainError, RETRY_AFTER_SECONDS } from './http/problems';
import { DomainError } from './services/errors';
import type { Portal } from './services/portal';
import type { TokenRecord } from './services/tokens';
import { loadPortalAssets, pagesRouter, type PortalAssets } from './web/pages';
import { sessionStorageFor } from './web/sessionStorage';
import { currentSessionRouter, signInRouter, WebSessions } from './web/sessions';

export interface AppDeps {
  portal: Portal;
  logger: Logger;
  version: string;
  limiter?: FailedAuthLimiter;
  /** The web UI's built assets (default: dist/portal, if built; null: no web UI). */
  portalAssets?: PortalAssets | null;
}

/** Names from the URL for the audit record of a refusal (never a value: values travel in bodies). */
function routeNames(req: Request): { app: string | null; stage: string | null } {
  const m = /^\/api\/v1\/apps\/([^/?]+)(?:\/stages\/([^/?]+))?/.exec(req.originalUrl);
  const decode = (s: string | undefined) => {
    if (s === undefined) return null;
    try {
      return decodeURIComponent(s).slice(0, 100);
    } catch {
      return s.slice(0, 100);
    }
  };
  return { app: decode(m?.[1]), stage: decode(m?.[2]) };
}

/** The 4xx status an error from Express or its parsers carries (http-errors style), if any. */
function clientErrorStatus(err: unknown): number | null {
  const e = err as { status?: unknown; statusCode?: unknown } | null;
  const status = typeof e?.status === 'number' ? e.status : typeof e?.statusCode === 'number' ? e.statusCode : null;
  return status !== null && Number.isInteger(status) && status >= 400 && status < 500 ? status : null;
}

/**
 * The headers helmet sets, derived once from helmet itself (so they never drift from the
 * middleware the app uses): its middleware run against a recording response. Null if helmet
 * did anything that is not a fixed set of headers (then the fast path is off).
 */
function staticHeadersOf(middleware: (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void): Array<[string, string]> | null {
  const headers: Array<[string, string]> = [];
  let fixed = true;
  let done = false;
  const res = {
    setHeader(name: string, value: unknown) {
      if (typeof value !== 'string') fixed = false;
      headers.push([name, String(value)]);
      return res;
    },
    removeHeader() {},
  };
  const req = { method: 'GET', url: '/', headers: {} };
  middleware(req as unknown as IncomingMessage, res as unknown as ServerResponse, (err) => {
    done = err === undefined;
  });
  return fixed && done ? headers : null;
}

/**
 * One line per request: method, path, status, duration, token id. Never a body, header or query.
 * `token` is read when the response is finished (authentication comes after this starts).
 */
function requestLog(logger: Logger) {
  return (method: string | undefined, url: string, res: ServerResponse, token: () => TokenRecord | undefined, start = process.hrtime.bigint()) => {
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      logger.info({ method, path: url.split('?')[0]!.slice(0, 300), status: res.statusCode, ms: Math.round(ms * 10) / 10, tokenId: token()?.id }, 'request');
    });
  };
}

export function createApp(deps: AppDeps): RequestListener {
  const { portal, logger, version } = deps;
  const limiter = deps.limiter ?? new FailedAuthLimiter();
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.set('query parser', 'simple');
  const securityHeaders = helmet();
  app.use(securityHeaders);
  // HTTP/1.1 requires Host (RFC 9112 §3.2); refused here as problem details (see http/clientError.ts).
  app.use((req, _res, next) => {
    if (req.httpVersion === '1.1' && req.headers.host === undefined) return next(badRequest('send a Host header: HTTP/1.1 requires one'));
    next();
  });

  const logRequest = requestLog(logger);
  app.use((req, res, next) => {
    logRequest(req.method, req.originalUrl, res, () => req.token);
    next();
  });

  const v1 = express.Router();
  // Which store answers, and whether it can be reached now (503 while it cannot: SPEC §11).
  v1.get('/health', async (_req, res) => {
    let reachable = true;
    try {
      await portal.storage.ping();
    } catch {
      reachable = false;
    }
    const body: HealthResponse = { status: reachable ? 'ok' : 'degraded', version, store: portal.storage.kind };
    res.status(reachable ? 200 : 503).set('Cache-Control', 'no-store');
    if (!reachable) res.set('Retry-After', String(RETRY_AFTER_SECONDS));
    res.json(body);
  });
  const openapi = openApiDocument(version);
  v1.get('/openapi.json', (_req, res) => {
    res.json(openapi);
  });
  const onAuditError = (err: unknown) => {
    logger.error({ err: { name: (err as Error)?.name, code: (err as { code?: string })?.code } }, 'could not write the audit record of a failed sign-in');
  };
  // The web UI's sessions (server/web): a session cookie authenticates like a bearer token.
  const sessions = new WebSessions({ storage: sessionStorageFor(portal.storage), audit: (actor, entry) => portal.audit.recordRefusal(actor, entry), onAuditError });
  const auth = authenticator(portal.tokens, portal.audit, limiter, onAuditError, sessions.resolve);
  v1.use(signInRouter(sessions, auth));
  v1.use(authenticate(auth));
  v1.use(sessions.noStore);
  v1.use(jsonBody);
  // First: the run-time read is the hot path (every app instance), and no other route shares its path.
  const readRuntime = runtimeReader(portal.values);
  v1.use(runtimeRouter(readRuntime));
  v1.get('/stages', allowRoles('admin', 'developer', 'operator'), (_req, res) => {
    const body: StagesResponse = { stages: portal.stages };
    res.json(body);
  });
  v1.use(currentSessionRouter(sessions));
  v1.use(appsRouter(portal));
  v1.use(adminRouter(portal));
  app.use(API_PREFIX, v1);
  app.use(pagesRouter(sessions, deps.portalAssets === undefined ? loadPortalAssets() : deps.portalAssets));

  app.use((req) => {
    throw notFound(`no route ${req.method} ${req.path.slice(0, 200)}; see ${API_PREFIX}/openapi.json`);
  });

  const errorHandler: ErrorRequestHandler = async (err: unknown, req, res, _next) => {
    let problem: Problem;
    if (err instanceof DomainError && problemOfDomainError(err)) err = problemOfDomainError(err as DomainError);
    if (err instanceof HttpProblem) {
      problem = { type: 'about:blank', title: err.title, status: err.status, detail: err.detail, ...err.extras };
    } else if (err instanceof DecryptionError) {
      // Loud: a failed decryption means tampering, a wrong key or corruption.
      logger.error({ path: req.path, err: { name: err.name, message: err.message } }, 'DECRYPTION FAILED: a stored secret could not be decrypted');
      problem = { type: 'about:blank', title: 'Internal Server Error', status: 500, detail: 'a stored secret could not be decrypted; the operator must check the store and the master key (see the server log)' };
    } else if (err instanceof URIError || clientErrorStatus(err) !== null) {
      // Express's own 4xx errors, e.g. a path parameter that is not valid percent-encoded
      // UTF-8 (the router throws a URIError with status 400): the client's mistake, not a 500.
      const status = err instanceof URIError ? 400 : clientErrorStatus(err)!;
      problem = {
        type: 'about:blank',
        title: STATUS_CODES[status] ?? 'Bad Request',
        status,
        detail: err instanceof URIError ? 'the URL is not valid percent-encoded UTF-8; encode app, stage and token names with encodeURIComponent' : 'the request could not be processed as sent; check its URL, headers and body',
      };
    } else {
      const e = err as { code?: string; name?: string; message?: string };
      logger.error({ path: req.path, err: { name: e?.name, code: e?.code } }, 'unexpected error');
      problem =
        e?.code === 'SQLITE_BUSY'
          ? { type: 'about:blank', title: 'Service Unavailable', status: 503, detail: 'the store is busy; try again' }
          : { type: 'about:blank', title: 'Internal Server Error', status: 500, detail: 'an unexpected error occurred; see the server log' };
    }
    // Every refusal of a signed-in request is recorded once (failed sign-ins are aggregated in auth).
    if (req.token && problem.status >= 400 && problem.status < 500) {
      try {
        await portal.audit.recordRefusal(actorOf(req), {
          action: 'request.refused',
          outcome: problem.status === 403 ? 'denied' : 'refused',
          ...routeNames(req),
          detail: {
            status: problem.status,
            method: req.method,
            route: req.originalUrl.split('?')[0]!.slice(0, 200),
            // Which settings a refused write was about (names only).
            ...(problem.conflicts || problem.errors ? { settings: [...(problem.conflicts ?? []), ...(problem.errors ?? []).map((e) => e.name)].slice(0, 100) } : {}),
          },
        });
      } catch (auditErr) {
        logger.error({ err: { name: (auditErr as Error).name } }, 'could not write the audit record of a refused request');
      }
    }
    if (res.headersSent) return;
    if (problem.status === 503) res.set('Retry-After', String(RETRY_AFTER_SECONDS));
    res.status(problem.status).type(PROBLEM_CONTENT_TYPE).set('Cache-Control', 'no-store').send(JSON.stringify(problem));
  };
  app.use(errorHandler);

  // The run-time read's fast path: a plain `GET /api/v1/runtime/settings` is answered here,
  // before Express, by the same authenticator, role rule and reader as the route, with the
  // same headers (helmet's, derived from it above; Cache-Control; ETag) and the same log line.
  // Anything else (a query, a body, no Host, ...), and every answer other than this route's 200
  // and 304, goes to the app, with
  // the outcome of authentication handed over so it is not counted or audited twice.
  const helmetHeaders = staticHeadersOf(securityHeaders);
  if (!helmetHeaders) return app;
  const fastUrl = API_PREFIX + RUNTIME_PATH;
  const fixedHeaders: OutgoingHttpHeader[] = helmetHeaders.flat();
  return async (req, res) => {
    if (req.method !== 'GET' || req.url !== fastUrl || req.headers.host === undefined || hasBody(req)) return app(req, res);
    const start = process.hrtime.bigint();
    let outcome;
    try {
      outcome = await auth(req, req.url);
    } catch {
      // e.g. a busy store: the app answers (and authenticates again; nothing was counted).
      return app(req, res);
    }
    preauthenticated(req, outcome);
    if (outcome instanceof HttpProblem || !hasRole(outcome, RUNTIME_ROLES)) return app(req, res);
    const token = outcome;
    let answer;
    try {
      answer = await readRuntime(outcome, req.headers['if-none-match']);
    } catch {
      return app(req, res); // the error handler answers what the route throws
    }
    // Other conditional requests: Express's own freshness rules (res.send) apply.
    if (!answer.notModified && (req.headers['if-none-match'] !== undefined || req.headers['if-modified-since'] !== undefined)) return app(req, res);
    logRequest(req.method, req.url, res, () => token, start);
    const headers = [...fixedHeaders, 'Cache-Control', 'no-store', 'ETag', answer.etag];
    if (answer.notModified) {
      res.writeHead(304, headers).end();
    } else {
      res.writeHead(200, [...headers, 'Content-Type', 'application/json; charset=utf-8', 'Content-Length', String(answer.bytes.length)]).end(answer.bytes);
    }
  };
}
