// The web UI's sessions (SPEC §14). A person pastes a token once; the server answers an opaque
// session id in a cookie (HttpOnly, SameSite=Strict, Path=/, Secure over https) and keeps only
// the id's hash. A session ends after 30 minutes idle, 8 hours after sign-in, at sign-out, or
// when its token is revoked (checked in the store on every request, so in every instance).
// Cookie-authenticated requests then authenticate like a bearer token (auth.ts asks `resolve`
// first), with the cross-site checks of csrf.ts on top.
import { createHash, randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Router, type Request, type RequestHandler } from 'express';
import { createSessionRequestSchema, SESSION_COOKIE, SESSION_IDLE_MS, SESSION_MAX_MS, type CreateSessionRequest, type SessionResponse } from '../../common/session';
import type { AuditActor, AuditEntry } from '../audit/chain';
import { actorOf, type Authenticator, type AuthOutcome } from '../auth';
import { badRequest, forbidden, HttpProblem } from '../errors';
import { jsonBody, validateBody } from '../http/body';
import type { TokenRecord } from '../services/tokens';
import { crossOriginReason, csrfHeaderMatches, csrfTokenFor, isHttps, isSafeMethod } from './csrf';
import type { SessionRow, SessionStorage } from './sessionStorage';

const ID_PATTERN = /^[A-Za-z0-9_-]{43}$/;
/** Activity is written at most this often per session (the idle clock is this coarse). */
const TOUCH_EVERY_MS = 15_000;

export function hashSessionId(id: string): string {
  return createHash('sha256').update('odc-portal session v1\0').update(id).digest('hex');
}

/** The session id a request's Cookie header carries, if it has a well-formed one. */
export function sessionIdOf(req: IncomingMessage): string | null {
  const header = req.headers.cookie;
  if (!header) return null;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === SESSION_COOKIE) {
      const v = part.slice(eq + 1).trim();
      return ID_PATTERN.test(v) ? v : null;
    }
  }
  return null;
}

export interface ActiveSession {
  id: string;
  row: SessionRow;
  token: TokenRecord;
}

export interface WebSessionsOptions {
  storage: SessionStorage;
  /** Writes one audit record (its own transaction). */
  audit: (actor: AuditActor, entry: AuditEntry) => Promise<void>;
  onAuditError?: (err: unknown) => void;
  now?: () => number;
}

export class WebSessions {
  private readonly storage: SessionStorage;
  private readonly now: () => number;
  /** The session a request was authenticated with (for /sessions/current). */
  private readonly byRequest = new WeakMap<IncomingMessage, ActiveSession>();

  constructor(private readonly opts: WebSessionsOptions) {
    this.storage = opts.storage;
    this.now = opts.now ?? Date.now;
  }

  /** The live session of a request's cookie (expired or revoked ones are deleted), or null. */
  async lookup(req: IncomingMessage): Promise<ActiveSession | null> {
    const id = sessionIdOf(req);
    if (!id) return null;
    const hash = hashSessionId(id);
    const row = await this.storage.get(hash);
    if (!row) return null;
    const t = this.now();
    if (t - row.lastSeenAt >= SESSION_IDLE_MS || t - row.createdAt >= SESSION_MAX_MS) {
      await this.storage.delete(hash);
      return null;
    }
    const token = await this.storage.activeToken(row.tokenId);
    if (!token) {
      await this.storage.delete(hash);
      return null;
    }
    return { id, row, token };
  }

  /**
   * For the authenticator (auth.ts): a request without an Authorization header but with a live
   * session authenticates as the session's token; a cross-origin one, or a write without the
   * CSRF token, is refused (403) and audited. Null when there is no live session: the request is
   * then treated as one without credentials (and a wrong id counts as a failed authentication).
   */
  readonly resolve = async (req: IncomingMessage): Promise<AuthOutcome | null> => {
    const session = await this.lookup(req);
    if (!session) return null;
    const write = !isSafeMethod(req.method);
    const crossOrigin = crossOriginReason(req, write);
    const reason = crossOrigin ?? (write && !csrfHeaderMatches(req, session.id) ? 'no valid X-CSRF-Token header' : null);
    if (reason) {
      await this.record(req, session.token, {
        action: 'session.refused',
        outcome: 'denied',
        detail: { status: 403, method: (req.method ?? '').slice(0, 10), route: (req.url ?? '').split('?')[0]!.slice(0, 200), reason: crossOrigin ? 'cross-origin' : 'csrf-token' },
      });
      return forbidden(`refused a cross-site or unverified request made with a session cookie (${reason}); use the portal's own pages, or call the API with a bearer token`);
    }
    const t = this.now();
    if (t - session.row.lastSeenAt >= TOUCH_EVERY_MS) await this.storage.touch(session.row.idHash, t);
    this.byRequest.set(req, session);
    return session.token;
  };

  /** Middleware: nothing answered to a cookie-authenticated request is kept in a browser's cache. */
  readonly noStore: RequestHandler = (req, res, next) => {
    if (this.byRequest.has(req)) res.set('Cache-Control', 'no-store');
    next();
  };

  /** The session a request was authenticated with, if it was by cookie. */
  sessionOf(req: IncomingMessage): ActiveSession | undefined {
    return this.byRequest.get(req);
  }

  async create(token: TokenRecord): Promise<{ id: string; answer: SessionResponse }> {
    const t = this.now();
    await this.storage.deleteExpired(t - SESSION_IDLE_MS, t - SESSION_MAX_MS);
    const id = randomBytes(32).toString('base64url');
    const row: SessionRow = { idHash: hashSessionId(id), tokenId: token.id, createdAt: t, lastSeenAt: t };
    await this.storage.create(row);
    return { id, answer: this.describe({ id, row, token }) };
  }

  async end(session: ActiveSession): Promise<void> {
    await this.storage.delete(session.row.idHash);
  }

  describe(s: ActiveSession): SessionResponse {
    return {
      csrfToken: csrfTokenFor(s.id),
      tokenId: s.token.id,
      tokenName: s.token.name,
      role: s.token.role,
      apps: s.token.apps,
      stages: s.token.stages,
      expiresAt: new Date(s.row.createdAt + SESSION_MAX_MS).toISOString(),
      idleMinutes: SESSION_IDLE_MS / 60_000,
    };
  }

  async record(req: IncomingMessage, token: TokenRecord | null, entry: AuditEntry): Promise<void> {
    try {
      // The client as auth.ts identifies it (a trusted proxy's X-Forwarded-For), with this token.
      await this.opts.audit({ ...actorOf(req as Request), tokenId: token?.id ?? null, tokenName: token?.name ?? null }, entry);
    } catch (err) {
      this.opts.onAuditError?.(err);
    }
  }
}

function cookie(req: IncomingMessage, value: string, maxAgeSeconds: number): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}${isHttps(req) ? '; Secure' : ''}`;
}

/**
 * `POST /sessions` (sign in), mounted before authentication. The token is checked by the same
 * authenticator as a bearer call (`auth`), so failures are limited and audited the same way and
 * a valid token is treated exactly as on any other route.
 */
export function signInRouter(sessions: WebSessions, auth: Authenticator): Router {
  const r = Router();
  r.post('/sessions', (req, _res, next) => {
    // Only this portal's own sign-in page (or a non-browser client) may sign in: a page elsewhere
    // must not sign a browser in with a token of its choosing.
    const reason = crossOriginReason(req, false);
    if (reason) return next(forbidden(`sign in from the portal's own page (${reason})`));
    next();
  }, jsonBody, validateBody(createSessionRequestSchema), async (req: Request, res) => {
    const { token: secret } = req.body as CreateSessionRequest;
    const asBearer = Object.create(req, { headers: { value: { ...req.headers, authorization: `Bearer ${secret}` } } }) as IncomingMessage;
    const outcome = await auth(asBearer, req.originalUrl);
    if (outcome instanceof HttpProblem) throw outcome;
    req.token = outcome;
    if (outcome.role === 'runtime') throw forbidden("a runtime token reads its app's settings only; sign in with a person's token (admin, developer or operator)");
    const { id, answer } = await sessions.create(outcome);
    await sessions.record(req, outcome, { action: 'session.create', outcome: 'ok', detail: { role: outcome.role } });
    res.status(201).set('Cache-Control', 'no-store').set('Set-Cookie', cookie(req, id, SESSION_MAX_MS / 1000)).json(answer);
  });
  return r;
}

/** `GET` and `DELETE /sessions/current`, mounted after authentication. */
export function currentSessionRouter(sessions: WebSessions): Router {
  const r = Router();
  const current: RequestHandler = (req, _res, next) => {
    if (!sessions.sessionOf(req)) return next(badRequest('this request has no browser session: sessions belong to the web UI (sign in at /), bearer tokens have none'));
    next();
  };
  r.get('/sessions/current', current, (req, res) => {
    res.set('Cache-Control', 'no-store').json(sessions.describe(sessions.sessionOf(req)!));
  });
  r.delete('/sessions/current', current, async (req, res) => {
    const s = sessions.sessionOf(req)!;
    await sessions.end(s);
    await sessions.record(req, s.token, { action: 'session.end', outcome: 'ok', detail: { reason: 'sign-out' } });
    // The browser also drops what it may hold for this origin (its cache and storage).
    res.set('Cache-Control', 'no-store').set('Set-Cookie', cookie(req, '', 0)).set('Clear-Site-Data', '"cache", "storage"').status(204).end();
  });
  return r;
}
