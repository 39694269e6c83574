// The app's run-time read (SPEC §9): the only route that returns a secret in clear,
// for a runtime token, for exactly its one app and stage. The route below is the reference;
// app.ts also answers the plain GET of the hot path from the same reader before Express.
import { Router } from 'express';
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

export function runtimeRouter(read: ReturnType<typeof runtimeReader>): Router {
  const r = Router();
  r.get(RUNTIME_PATH, allowRoles(...RUNTIME_ROLES), async (req, res) => {
    const { etag, notModified, bytes } = await read(req.token!, req.headers['if-none-match']);
    res.set('Cache-Control', 'no-store');
    res.set('ETag', etag);
    if (notModified) {
      res.status(304).end();
      return;
    }
    res.type('json').send(bytes);
  });
  return r;
}
