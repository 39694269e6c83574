// Who may do what (SPEC §6). Deny by default: every route names the roles it allows,
// and scope is checked before existence so a 403 never reveals whether a name exists.
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { Role, Scope } from '../common/api';
import type { AuditActor } from './audit/chain';
import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { forbidden, HttpProblem, tooManyRequests, unauthorized } from './errors';
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

const CLIENT = Symbol('odc.client');

/** Strips the IPv4-mapped prefix, so 127.0.0.1 and ::ffff:127.0.0.1 are one client. */
function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}

/**
 * Parses --trust-proxy / PORTAL_TRUST_PROXY: a comma-separated list of proxy addresses.
 * Throws (a usage error for the command line) for anything that is not an IP address.
 */
export function parseTrustedProxies(text: string | undefined): string[] {
  if (text === undefined || text.trim() === '') return [];
  return text.split(',').map((part) => {
    const address = part.trim();
    if (isIP(address) === 0) throw new Error(`--trust-proxy / PORTAL_TRUST_PROXY: "${address.slice(0, 100)}" is not an IP address; list the proxy's addresses, comma-separated`);
    return plainAddress(address);
  });
}

/**
 * The client identity of a request: the socket address, unless it is a trusted proxy; then the
 * nearest address in X-Forwarded-For that is not a trusted proxy (the right-most entries are
 * the ones the trusted proxies appended; anything left of them the client could have forged).
 */
export function clientIdentity(trusted: readonly string[]): (req: IncomingMessage) => string {
  const proxies = new Set(trusted);
  return (req) => {
    const socket = plainAddress(req.socket.remoteAddress ?? 'unknown');
    if (!proxies.has(socket)) return socket;
    const header = req.headers['x-forwarded-for'];
    const hops = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((h) => plainAddress(h.trim()));
    for (let i = hops.length - 1; i >= 0; i--) {
      const hop = hops[i]!;
      if (isIP(hop) === 0) break; // garbage: stop trusting the chain here
      if (!proxies.has(hop)) return hop;
    }
    return socket;
  };
}

/** Records the request's client identity once (see clientIdentity); read by the limiter and the audit. */
export function setClient(req: IncomingMessage, client: string): void {
  (req as IncomingMessage & { [CLIENT]?: string })[CLIENT] = client;
}

function clientOf(req: IncomingMessage): string {
  return (req as IncomingMessage & { [CLIENT]?: string })[CLIENT] ?? plainAddress(req.socket.remoteAddress ?? 'unknown');
}

/** What one window of failed authentications amounted to (the aggregated audit record). */
export interface AuthWindowSummary {
  start: number;
  end: number;
  /** Failed authentications (401 and 429) and, of those, the ones refused with 429; overflow included. */
  failures: number;
  refused: number;
  /** Clients with their own entry in the table. */
  clients: number;
  overflowFailures: number;
  overflowRefused: number;
  /** The clients with the most failures: "address failures=N refused=M", at most 10. */
  top: string[];
}

export interface LimiterOptions {
  /** Failures per client per window before its failing requests get 429 (default 20). */
  limit?: number;
  windowMs?: number;
  /** Distinct clients the table holds; more share one overflow bucket, itself limited. */
  maxClients?: number;
  now?: () => number;
}

interface Bucket {
  failures: number;
  refused: number;
}

/**
 * Failed authentications, in fixed windows (SPEC §6). Only failures are counted and only a
 * failing request is refused: a request with a valid token never reaches the limiter. Past the
 * limit a client's failing requests get 429 until the window ends. Memory is bounded: more
 * distinct clients than `maxClients` (easy with IPv6) share one overflow bucket that has the
 * same limit. The audit gets one aggregated record per window (`onWindow`), written when the
 * window ends, so nobody can grow the store without a token.
 */
export class FailedAuthLimiter {
  readonly limit: number;
  readonly windowMs: number;
  private readonly maxClients: number;
  private readonly now: () => number;
  private windowStart = 0;
  private readonly clients = new Map<string, Bucket>();
  private overflow: Bucket = { failures: 0, refused: 0 };
  private timer: NodeJS.Timeout | undefined;
  /** Receives each window's totals when the window ends (set by the app: the audit record). */
  onWindow: (summary: AuthWindowSummary) => void = () => {};

  constructor(opts: LimiterOptions = {}) {
    this.limit = opts.limit ?? 20;
    this.windowMs = opts.windowMs ?? 60_000;
    this.maxClients = opts.maxClients ?? 10_000;
    this.now = opts.now ?? Date.now;
  }

  private bucket(client: string): Bucket {
    const t = this.now();
    if (this.windowStart !== 0 && t - this.windowStart >= this.windowMs) this.flush();
    if (this.windowStart === 0) {
      this.windowStart = t;
      // Ends the window on time even if no further request comes (unref: never keeps the process up).
      this.timer = setTimeout(() => this.flush(), this.windowMs);
      this.timer.unref();
    }
    let b = this.clients.get(client);
    if (!b) {
      if (this.clients.size >= this.maxClients) return this.overflow;
      b = { failures: 0, refused: 0 };
      this.clients.set(client, b);
    }
    return b;
  }

  /**
   * Counts one failed authentication of `client`; returns whether it is refused (429) because
   * the client (or the overflow bucket it shares) reached the limit in this window.
   */
  fail(client: string): { blocked: boolean } {
    const b = this.bucket(client);
    b.failures++;
    if (b.failures <= this.limit) return { blocked: false };
    b.refused++;
    return { blocked: true };
  }

  /** Ends the current window: hands its totals to onWindow (if anything failed) and starts clean. */
  flush(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (this.windowStart === 0) return;
    const buckets = [...this.clients.entries()];
    const sum = (key: keyof Bucket) => buckets.reduce((n, [, b]) => n + b[key], 0) + this.overflow[key];
    const summary: AuthWindowSummary = {
      start: this.windowStart,
      end: Math.min(this.now(), this.windowStart + this.windowMs),
      failures: sum('failures'),
      refused: sum('refused'),
      clients: buckets.length,
      overflowFailures: this.overflow.failures,
      overflowRefused: this.overflow.refused,
      top: buckets
        .sort((a, b) => b[1].failures - a[1].failures)
        .slice(0, 10)
        .map(([client, b]) => `${client.slice(0, 60)} failures=${b.failures} refused=${b.refused}`),
    };
    this.windowStart = 0;
    this.clients.clear();
    this.overflow = { failures: 0, refused: 0 };
    if (summary.failures + summary.refused > 0) this.onWindow(summary);
  }
}

/** The outcome of authenticating one request: its token, or the refusal (401 or 429) to answer. */
export type AuthOutcome = TokenRecord | HttpProblem;

/**
 * Resolves the bearer token of a request: the token, 401 without a valid one, 429 for a failing
 * request from a client past the limit. A valid token is returned before the limiter is even
 * consulted (SPEC §6: nobody's failures lock a valid token out). Counts a failure in the
 * limiter, so it runs once per request (see preauthenticated). The scheme is case-insensitive
 * (RFC 9110 §11.1). `url` is the request's URL as received (originalUrl); unused since failures
 * are recorded per window, kept so both callers stay alike.
 */
export type Authenticator = (req: IncomingMessage, url: string) => Promise<AuthOutcome>;

export function authenticator(tokens: TokenService, limiter: FailedAuthLimiter, resolveSession?: (req: IncomingMessage) => Promise<AuthOutcome | null>): Authenticator {
  return async (req) => {
    // A web UI session (server/web/sessions.ts), when there is no bearer token: a live one is a
    // valid credential like a token (never limited); null goes on as a request without one.
    const session = req.headers.authorization === undefined && resolveSession ? await resolveSession(req) : null;
    if (session) return session;
    const header = req.headers.authorization ?? '';
    const match = /^bearer +([A-Za-z0-9_-]{1,200}) *$/i.exec(header);
    const token = match ? await tokens.find(match[1]!) : null;
    if (token) return token;
    if (limiter.fail(clientOf(req)).blocked) {
      return tooManyRequests('too many failed sign-in attempts from this client; wait a minute and check the token');
    }
    return unauthorized(header ? 'the token is not valid or was revoked; sign in again with a current token' : 'send Authorization: Bearer <token>; an admin creates tokens with odc-portal token create');
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
