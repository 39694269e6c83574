// Who may do what (SPEC §6). Deny by default: every route names the roles it allows,
// and scope is checked before existence so a 403 never reveals whether a name exists.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Role, Scope } from '../common/api';
import type { AuditActor } from './audit/chain';
import type { IncomingMessage } from 'node:http';
import { forbidden, HttpProblem, tooManyRequests, unauthorized } from './errors';
import type { AuditService } from './services/audit';
import type { TokenRecord, TokenService } from './services/tokens';

declare module 'express-serve-static-core' {
  interface Request {
    token?: TokenRecord;
  }
}

export function inScope(scope: Scope, name: string): boolean {
  return scope === '*' || scope.includes(name);
}

export function actorOf(req: Request): AuditActor {
  return { tokenId: req.token?.id ?? null, tokenName: req.token?.name ?? null, client: clientOf(req) };
}

function clientOf(req: IncomingMessage): string {
  return req.socket.remoteAddress ?? 'unknown';
}

/**
 * Failed authentications per client, in fixed windows. Past the limit a client gets 429
 * until the window ends. The audit gets one aggregated record per client per window,
 * so nobody can grow the store without a token.
 */
export class FailedAuthLimiter {
  private readonly windows = new Map<string, { start: number; failures: number; recorded: boolean }>();
  constructor(
    private readonly limit = 20,
    private readonly windowMs = 60_000,
    private readonly now: () => number = Date.now,
    private readonly maxClients = 10_000,
  ) {}

  private window(client: string) {
    const t = this.now();
    let w = this.windows.get(client);
    if (!w || t - w.start >= this.windowMs) {
      if (!w && this.windows.size >= this.maxClients) this.prune(t);
      // Too many distinct clients: they share one bucket rather than growing memory.
      const key = this.windows.size >= this.maxClients ? '*' : client;
      w = { start: t, failures: 0, recorded: false };
      this.windows.set(key, w);
    }
    return w;
  }

  private prune(t: number) {
    for (const [k, w] of this.windows) if (t - w.start >= this.windowMs) this.windows.delete(k);
  }

  isBlocked(client: string): boolean {
    const w = this.windows.get(client);
    return !!w && this.now() - w.start < this.windowMs && w.failures >= this.limit;
  }

  /** Counts a failure; returns true when this failure should be written to the audit log. */
  fail(client: string): { record: boolean; failures: number } {
    const w = this.window(client);
    w.failures++;
    const record = !w.recorded;
    w.recorded = true;
    return { record, failures: w.failures };
  }
}

/** The outcome of authenticating one request: its token, or the refusal (401 or 429) to answer. */
export type AuthOutcome = TokenRecord | HttpProblem;

/**
 * Resolves the bearer token of a request: the token, 401 without a valid one, 429 after too many
 * failures. Counts a failure in the limiter, so it runs once per request (see preauthenticated).
 * If the aggregated audit record of a failure cannot be written, the answer is still 401
 * (the request is refused either way) and `onAuditError` reports it, as for other refusals.
 * `url` is the request's URL as received (originalUrl); only its path is recorded.
 */
export type Authenticator = (req: IncomingMessage, url: string) => Promise<AuthOutcome>;

export function authenticator(
  tokens: TokenService,
  audit: AuditService,
  limiter: FailedAuthLimiter,
  onAuditError: (err: unknown) => void = () => {},
  resolveSession?: (req: IncomingMessage) => Promise<AuthOutcome | null>,
): Authenticator {
  return async (req, url) => {
    // A web UI session (server/web/sessions.ts), when there is no bearer token: a live one is
    // answered before the limiter, so others' failures never lock it out; null goes on as no token.
    const session = req.headers.authorization === undefined && resolveSession ? await resolveSession(req) : null;
    if (session) return session;
    const client = clientOf(req);
    if (limiter.isBlocked(client)) {
      return tooManyRequests('too many failed sign-in attempts from this client; wait a minute and check the token');
    }
    const header = req.headers.authorization ?? '';
    const match = /^Bearer ([A-Za-z0-9_-]{1,200})$/.exec(header);
    const token = match ? await tokens.find(match[1]!) : null;
    if (!token) {
      const { record, failures } = limiter.fail(client);
      if (record) {
        try {
          await audit.recordRefusal(
            { tokenId: null, tokenName: null, client },
            { action: 'auth.failed', outcome: 'denied', detail: { status: 401, route: `${req.method} ${url.split('?')[0]!.slice(0, 200)}`, firstOfWindow: true, failures } },
          );
        } catch (err) {
          onAuditError(err);
        }
      }
      return unauthorized(header ? 'the token is not valid or was revoked; sign in again with a current token' : 'send Authorization: Bearer <token>; an admin creates tokens with odc-portal token create');
    }
    return token;
  };
}

const PREAUTHENTICATED = Symbol('odc.preauthenticated');

/**
 * Marks a request as already authenticated (by the run-time read's fast path, which hands every
 * answer other than its own 200/304 to the app): the middleware then uses this outcome instead
 * of authenticating again, so a failure is counted and audited once.
 */
export function preauthenticated(req: IncomingMessage, outcome: AuthOutcome): void {
  (req as IncomingMessage & { [PREAUTHENTICATED]?: AuthOutcome })[PREAUTHENTICATED] = outcome;
}

/** The middleware form of `authenticator`: sets req.token, or forwards the refusal. */
export function authenticate(auth: Authenticator): RequestHandler {
  return async (req: Request, _res: Response, next: NextFunction) => {
    const outcome = (req as Request & { [PREAUTHENTICATED]?: AuthOutcome })[PREAUTHENTICATED] ?? (await auth(req, req.originalUrl));
    if (outcome instanceof HttpProblem) return next(outcome);
    req.token = outcome;
    next();
  };
}

/** Whether a token has one of the roles (the rule allowRoles enforces). */
export function hasRole(token: TokenRecord | undefined, roles: readonly Role[]): boolean {
  return !!token && roles.includes(token.role);
}

/** Allows only the given roles (deny by default). */
export function allowRoles(...roles: Role[]): RequestHandler {
  return (req, _res, next) => {
    const role = req.token?.role;
    if (!hasRole(req.token, roles)) return next(forbidden(`a ${role ?? 'missing'} token may not do this; it needs one of: ${roles.join(', ')}`));
    next();
  };
}

/** Checks the token's app and stage scopes against the route's :app and :stage. */
export const requireScope: RequestHandler = (req, _res, next) => {
  const token = req.token!;
  const app = req.params.app as string | undefined;
  const stage = req.params.stage as string | undefined;
  if (app !== undefined && !inScope(token.apps, app)) return next(forbidden(`this token's scope does not include app "${app}"`));
  if (stage !== undefined && !inScope(token.stages, stage)) return next(forbidden(`this token's scope does not include stage "${stage}"`));
  next();
};
