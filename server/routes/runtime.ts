// The app's run-time read (SPEC §9): the only route that returns a secret in clear,
// for a runtime token, for exactly its one app and stage. The route below is the reference;
// app.ts also answers the plain GET of the hot path from the same reader before Express.
import { Router } from 'express';
import type { ServerResponse } from 'node:http';
import type { Role, RuntimeSettingsResponse } from '../../common/api';
import { allowRoles } from '../auth';
import type { TokenRecord } from '../services/tokens';
import type { RuntimeSettings, ValuesService } from '../services/values';

export const RUNTIME_PATH = '/runtime/settings';
export const RUNTIME_ROLES: readonly Role[] = ['runtime'];

export interface RuntimeAnswer {
  etag: string;
  /** The request's If-None-Match names the current ETag: answer 304. */
  notModified: boolean;
  /** The serialized body (for a 200). */
  bytes: Buffer;
}

/** The run-time answer for a runtime token, shared by the route and the fast path. */
export function runtimeReader(values: ValuesService): (token: TokenRecord, ifNoneMatch: string | undefined) => Promise<RuntimeAnswer> {
  // The serialized answer, per memoized store answer (same app, stage, values): built once, and
  // collectable as soon as the store drops that answer after a write.
  const bodies = new WeakMap<RuntimeSettings, Buffer>();
  return async (token, ifNoneMatch) => {
    // Creation guarantees exactly one app and one stage for a runtime token.
    const app = (token.apps as string[])[0]!;
    const stage = (token.stages as string[])[0]!;
    const current = await values.runtimeSettings(app, stage);
    const { revision, settings, etag } = current;
    const notModified =
      ifNoneMatch !== undefined &&
      ifNoneMatch
        .split(',')
        .map((s) => s.trim().replace(/^W\//, ''))
        .includes(etag);
    let bytes = bodies.get(current);
    if (!bytes) {
      const body: RuntimeSettingsResponse = { app, stage, revision, settings };
      bytes = Buffer.from(JSON.stringify(body), 'utf8');
      bodies.set(current, bytes);
    }
    return { etag, notModified, bytes };
  };
}

/**
 * Writes the run-time answer: the one definition of its status, headers and body, used by the
 * route and by the fast path alike (so the two cannot drift). The prelude set the security
 * headers already. 304 when If-None-Match names the current ETag; Express's own freshness
 * rules are not involved (there is no Last-Modified to compare).
 */
export function sendRuntimeAnswer(res: ServerResponse, answer: RuntimeAnswer): void {
  res.setHeader('Cache-Control', 'no-store');
  res.setHeader('ETag', answer.etag);
  if (answer.notModified) {
    res.writeHead(304).end();
    return;
  }
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', String(answer.bytes.length));
  res.writeHead(200).end(answer.bytes);
}

export function runtimeRouter(read: ReturnType<typeof runtimeReader>): Router {
  const r = Router();
  r.get(RUNTIME_PATH, allowRoles(...RUNTIME_ROLES), async (req, res) => {
    sendRuntimeAnswer(res, await read(req.token!, req.headers['if-none-match']));
  });
  return r;
}
