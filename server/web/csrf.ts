// Cross-site request forgery defences for cookie-authenticated requests (SPEC §14). SameSite=Strict
// alone is not enough: another port on the same host is the same *site*, so its pages send the
// cookie. A write therefore needs the same *origin* (Origin, or Sec-Fetch-Site when a browser
// sends no Origin) and the session's CSRF token in a header, which a page of another origin
// cannot read.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { CSRF_HEADER } from '../../common/session';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function isSafeMethod(method: string | undefined): boolean {
  return SAFE_METHODS.has((method ?? 'GET').toUpperCase());
}

export function isHttps(req: IncomingMessage): boolean {
  return (req.socket as Partial<TLSSocket>).encrypted === true;
}

/** This server's origin as the browser addressed it (scheme and Host). */
export function ownOrigin(req: IncomingMessage): string | null {
  const host = req.headers.host;
  return host ? `${isHttps(req) ? 'https' : 'http'}://${host.toLowerCase()}` : null;
}

/**
 * Why a request is not from one of this server's own pages, or null when it is. `requireProof`:
 * a write must prove it (an Origin or a Sec-Fetch-Site); a read is refused only when the browser
 * says it comes from elsewhere (another origin reading with the cookie).
 */
export function crossOriginReason(req: IncomingMessage, requireProof: boolean): string | null {
  const origin = req.headers.origin;
  const site = req.headers['sec-fetch-site'];
  if (typeof origin === 'string') {
    const own = ownOrigin(req);
    if (own === null || origin.toLowerCase() !== own) return `Origin ${origin.slice(0, 100)} is not this portal`;
    return null;
  }
  if (typeof site === 'string') return site === 'same-origin' || (site === 'none' && !requireProof) ? null : `Sec-Fetch-Site: ${site.slice(0, 30)}`;
  return requireProof ? 'no Origin or Sec-Fetch-Site header' : null;
}

/** The session's CSRF token: derived from its id (never stored), so it lives and ends with it. */
export function csrfTokenFor(sessionId: string): string {
  return createHmac('sha256', sessionId).update('odc-portal csrf v1').digest('base64url');
}

export function csrfHeaderMatches(req: IncomingMessage, sessionId: string): boolean {
  const sent = req.headers[CSRF_HEADER];
  if (typeof sent !== 'string' || sent.length > 100) return false;
  const want = Buffer.from(csrfTokenFor(sessionId));
  const got = Buffer.from(sent);
  return got.length === want.length && timingSafeEqual(got, want);
}
