// The portal web UI's sessions (SPEC §14), typed once: the sign-in body the server validates and
// the answer both the server and the page use. A session answer never holds the token itself.
import { z } from 'zod';
import { ROLES, scopeSchema } from './api';

/** The session cookie's name. Its value is an opaque id; the server keeps only its hash. */
export const SESSION_COOKIE = 'odc_session';
/** The header a cookie-authenticated write carries (the `csrfToken` of the session answer). */
export const CSRF_HEADER = 'x-csrf-token';
export const SESSION_IDLE_MS = 30 * 60 * 1000;
export const SESSION_MAX_MS = 8 * 60 * 60 * 1000;

export const createSessionRequestSchema = z.strictObject({ token: z.string().min(1).max(300) });
export type CreateSessionRequest = z.infer<typeof createSessionRequestSchema>;

export const sessionResponseSchema = z.object({
  /** Send it as X-CSRF-Token on every write; it is derived from the session id, so it ends with it. */
  csrfToken: z.string(),
  tokenId: z.string(),
  tokenName: z.string(),
  role: z.enum(ROLES),
  apps: scopeSchema,
  stages: scopeSchema,
  /** When the session ends at the latest (8 h after sign-in); it ends earlier after 30 min idle. */
  expiresAt: z.string(),
  idleMinutes: z.number().int(),
});
export type SessionResponse = z.infer<typeof sessionResponseSchema>;
