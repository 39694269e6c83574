// The portal server as an Express 5 app, built from its dependencies and apart from
// `listen`, so tests start it on port 0. One error handler turns every error into problem
// details; no route has its own try/catch (Express 5 forwards rejections). createApp returns
// the request listener: the app, with the run-time read's fast path in front (see its end).
import express, { type ErrorRequestHandler, type Request } from 'express';
import { STATUS_CODES, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import helmet from 'helmet';
import type { Logger } from 'pino';
import { API_PREFIX, PROBLEM_CONTENT_TYPE, type HealthResponse, type Problem, type StagesResponse } from '../common/api';
import {
  authenticate,
  authenticator,
  clientIdentity,
  FailedAuthLimiter,
  allowRoles,
  actorOf,
  hasRole,
  preauthenticated,
  setClient,
  type AuthWindowSummary,
  type LimiterOptions,
} from './auth';
import { DecryptionError } from './crypto/envelope';
import { badRequest, HttpProblem, notFound } from './errors';
import { hasBody, jsonBody } from './http/body';
import { openApiDocument } from './openapi';
import { adminRouter } from './routes/admin';
import { appsRouter } from './routes/apps';
import { RUNTIME_PATH, RUNTIME_ROLES, runtimeReader, runtimeRouter, sendRuntimeAnswer } from './routes/runtime';
import { problemOfDomainError, RETRY_AFTER_SECONDS } from './http/problems';
import { DomainError } from './services/errors';
import type { Portal } from './services/portal';
import { loadPortalAssets, pagesRouter, type PortalAssets } from './web/pages';
import { sessionStorageFor } from './web/sessionStorage';
import { currentSessionRouter, signInRouter, WebSessions } from './web/sessions';

export interface AppDeps {
  portal: Portal;
  logger: Logger;
  version: string;
  /** Addresses of reverse proxies whose X-Forwarded-For names the client (--trust-proxy). */
  trustProxy?: readonly string[];
  /** The failed-authentication limiter's sizes (defaults: 20 a minute, 10,000 clients). */
  authLimits?: LimiterOptions;
  /** The run-time read's fast path in front of Express (default on; off to compare the two paths). */
  fastPath?: boolean;
  /** The web UI's built assets (default: dist/portal, if built; null: no web UI). */
  portalAssets?: PortalAssets | null;
}

/** The request listener, and close(): ends the limiter's window (writing its audit record). */
export type PortalApp = RequestListener & { close(): Promise<void> };

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
 * One line per request: method, path, status, duration, token id, client. Never a body, header
 * or query. The token is read when the response is finished (authentication comes later).
 */
function requestLog(logger: Logger) {
  return (req: IncomingMessage, res: ServerResponse, client: string) => {
    const start = process.hrtime.bigint();
    const url = (req as Request).originalUrl ?? req.url ?? '';
    res.on('finish', () => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      const tokenId = (req as Request).token?.id;
      logger.info({ method: req.method, path: url.split('?')[0]!.slice(0, 300), status: res.statusCode, ms: Math.round(ms * 10) / 10, tokenId, client }, 'request');
    });
  };
}

/**
 * What runs before every handler, in order, on both paths (Express and the run-time read's
 * fast path): security headers, the client's identity, the log line, the Host check. One
 * definition, so a step added here cannot skip the most sensitive route; a step added to
 * Express alone is caught by test/server/hardening-fastpath.test.ts, which compares the two.
 * Returns the refusal to answer, if any. Authentication is the same function on both paths
 * (authenticator) but runs later: health and openapi.json need none.
 */
type Prelude = (req: IncomingMessage, res: ServerResponse) => HttpProblem | undefined;
const PRELUDE_DONE = Symbol('odc.prelude');

function preludeOf(securityHeaders: ReturnType<typeof helmet>, logger: Logger, trustProxy: readonly string[]): Prelude {
  // helmet's headers are fixed for this app: derived once from helmet itself (so they never
  // drift) and set directly; if helmet ever did more than fixed headers, it runs per request.
  const fixed = staticHeadersOf(securityHeaders);
  const identify = clientIdentity(trustProxy);
  const log = requestLog(logger);
  return (req, res) => {
    const state = req as IncomingMessage & { [PRELUDE_DONE]?: HttpProblem | null };
    // Ran already (the fast path handed this request to Express): not twice.
    if (state[PRELUDE_DONE] !== undefined) return state[PRELUDE_DONE] ?? undefined;
    if (fixed) for (const [name, value] of fixed) res.setHeader(name, value);
    else securityHeaders(req, res, () => {});
    const client = identify(req);
    setClient(req, client);
    log(req, res, client);
    // HTTP/1.1 requires Host (RFC 9112 §3.2); refused as problem details (see http/clientError.ts).
    const problem = req.httpVersion === '1.1' && req.headers.host === undefined ? badRequest('send a Host header: HTTP/1.1 requires one') : undefined;
    state[PRELUDE_DONE] = problem ?? null;
    return problem;
  };
}

/** The aggregated audit record of one window of failed authentications (SPEC §7). */
async function recordAuthWindow(portal: Portal, logger: Logger, w: AuthWindowSummary): Promise<void> {
  const single = w.clients === 1 && w.overflowFailures + w.overflowRefused === 0 ? w.top[0]!.split(' ')[0]! : null;
  try {
    await portal.audit.recordRefusal(
      { tokenId: null, tokenName: null, client: single },
      {
        action: 'auth.failed',
        outcome: 'denied',
        detail: {
          windowStart: new Date(w.start).toISOString(),
          windowEnd: new Date(w.end).toISOString(),
          failures: w.failures,
          refused: w.refused,
          clients: w.clients,
          overflowFailures: w.overflowFailures,
          overflowRefused: w.overflowRefused,
          top: w.top,
        },
      },
    );
  } catch (err) {
    logger.error({ err: { name: (err as Error)?.name, code: (err as { code?: string })?.code } }, 'could not write the audit record of failed sign-ins');
  }
  if (w.refused > 0) logger.warn({ failures: w.failures, refused: w.refused, clients: w.clients }, 'failed sign-ins were refused with 429 in the last window');
}

export function createApp(deps: AppDeps): PortalApp {
  const { portal, logger, version } = deps;
  const limiter = new FailedAuthLimiter(deps.authLimits);
  // The window records being written (close() waits for them before the store closes).
  const recording = new Set<Promise<void>>();
  limiter.onWindow = (w) => {
    const write = recordAuthWindow(portal, logger, w).finally(() => recording.delete(write));
    recording.add(write);
  };
  const app = express();
  app.disable('x-powered-by');
  app.set('trust proxy', false);
  app.set('query parser', 'simple');
  const prelude = preludeOf(helmet(), logger, deps.trustProxy ?? []);
  app.use((req, res, next) => next(prelude(req, res)));

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
  // The web UI's sessions (server/web): a session cookie authenticates like a bearer token.
  const sessionStorage = sessionStorageFor(portal.storage);
  const sessions = new WebSessions({
    storage: sessionStorage,
    audit: (actor, entry) => portal.audit.recordRefusal(actor, entry),
    onAuditError: (err) => logger.error({ err: { name: (err as Error)?.name, code: (err as { code?: string })?.code } }, 'could not write the audit record of a web session'),
  });
  const auth = authenticator(portal.tokens, limiter, sessions.resolve);
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
      logger.error({ path: req.path, ...err.where, err: { name: err.name, message: err.message } }, 'DECRYPTION FAILED: a stored secret could not be decrypted');
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
  // before Express's router, with the same prelude, authenticator, role rule, reader and
  // answer (sendRuntimeAnswer) as the route. Anything else (a query, a body, no Host, ...),
  // and every outcome other than this route's 200/304, goes to the app, with the prelude's
  // and authentication's outcomes handed over so nothing runs, is counted or is logged twice.
  const close = async () => {
    limiter.flush();
    await Promise.all([...recording]);
    await sessionStorage.close();
  };
  if (deps.fastPath === false) return Object.assign<RequestListener, { close(): Promise<void> }>((req, res) => app(req, res), { close });
  const fastUrl = API_PREFIX + RUNTIME_PATH;
  const fast: RequestListener = async (req, res) => {
    if (req.method !== 'GET' || req.url !== fastUrl || req.headers.host === undefined || hasBody(req)) return app(req, res);
    if (prelude(req, res)) return app(req, res);
    let outcome;
    try {
      outcome = await auth(req, req.url);
    } catch {
      // e.g. a busy store: the app answers (and authenticates again; nothing was counted).
      return app(req, res);
    }
    preauthenticated(req, outcome);
    if (outcome instanceof HttpProblem || !hasRole(outcome, RUNTIME_ROLES)) return app(req, res);
    (req as Request).token = outcome; // for the log line, as on the Express path
    let answer;
    try {
      answer = await readRuntime(outcome, req.headers['if-none-match']);
    } catch {
      return app(req, res); // the error handler answers what the route throws
    }
    sendRuntimeAnswer(res, answer);
  };
  return Object.assign(fast, { close });
}
