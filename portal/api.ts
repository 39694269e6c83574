// The page's one way to the portal: fetch to /api/v1 with the session cookie (the browser sends
// it; the page never sees it) and, on writes, the session's CSRF token from memory. Answers are
// validated with the API's own schemas where they enter; failures become a PortalError-shaped
// error (name, kind, status, problem) that the shared Stage Values host understands.
import type { z } from 'zod';
import { API_PREFIX, problemSchema, type Problem } from '../common/api';
import { CSRF_HEADER, sessionResponseSchema, type SessionResponse } from '../common/session';

export class PortalError extends Error {
  constructor(
    readonly kind: 'http' | 'invalid-response',
    message: string,
    readonly status?: number,
    readonly problem?: Problem,
  ) {
    super(message);
    this.name = 'PortalError';
  }
}

let csrfToken: string | null = null;

/** Calls the API. `schema` checks the answer; without it the answer is not read. */
export async function api<T>(method: string, route: string, opts: { body?: unknown; schema?: z.ZodType<T> } = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  if (method !== 'GET' && csrfToken) headers[CSRF_HEADER] = csrfToken;
  let res: Response;
  try {
    res = await fetch(API_PREFIX + route, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body), credentials: 'same-origin', cache: 'no-store', redirect: 'error' });
  } catch {
    throw new PortalError('http', 'Cannot reach the portal (network error). Check your connection, then try again.');
  }
  if (!res.ok) {
    let problem: Problem | undefined;
    try {
      const parsed = problemSchema.safeParse(await res.json());
      if (parsed.success) problem = parsed.data;
    } catch {
      problem = undefined;
    }
    throw new PortalError('http', problem?.detail ?? `The portal answered ${res.status}.`, res.status, problem);
  }
  if (!opts.schema || res.status === 204) return undefined as T;
  const parsed = opts.schema.safeParse(await res.json().catch(() => undefined));
  if (!parsed.success) throw new PortalError('invalid-response', `The portal's answer to ${method} ${route.split('?')[0]} was not in the expected shape.`);
  return parsed.data;
}

export function isStatus(err: unknown, status: number): boolean {
  return err instanceof PortalError && err.status === status;
}

/** The signed-in session (and its CSRF token, kept in memory only), or null when signed out. */
export async function currentSession(): Promise<SessionResponse | null> {
  try {
    const s = await api('GET', '/sessions/current', { schema: sessionResponseSchema });
    csrfToken = s.csrfToken;
    return s;
  } catch (err) {
    if (isStatus(err, 401) || isStatus(err, 400)) return null;
    throw err;
  }
}

/** Signs in with a token: the server answers the cookie; the token is not kept here. */
export async function signIn(token: string): Promise<SessionResponse> {
  const s = await api('POST', '/sessions', { body: { token }, schema: sessionResponseSchema });
  csrfToken = s.csrfToken;
  return s;
}

export async function signOut(): Promise<void> {
  try {
    await api('DELETE', '/sessions/current');
  } finally {
    csrfToken = null;
  }
}

export const enc = encodeURIComponent;
