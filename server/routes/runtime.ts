// The app's run-time read (SPEC §9): the only route that returns a secret in clear,
// for a runtime token, for exactly its one app and stage.
import { Router } from 'express';
import type { RuntimeSettingsResponse } from '../../common/api';
import { allowRoles } from '../auth';
import type { RuntimeSettings, Store } from '../store/store';

export function runtimeRouter(store: Store): Router {
  const r = Router();
  // The serialized answer, per memoized store answer (same app, stage, values): built once, and
  // collectable as soon as the store drops that answer after a write.
  const bodies = new WeakMap<RuntimeSettings, Buffer>();
  r.get('/runtime/settings', allowRoles('runtime'), (req, res) => {
    const token = req.token!;
    // Creation guarantees exactly one app and one stage for a runtime token.
    const app = (token.apps as string[])[0]!;
    const stage = (token.stages as string[])[0]!;
    const current = store.runtimeSettings(app, stage);
    const { revision, settings, etag } = current;
    res.set('Cache-Control', 'no-store');
    res.set('ETag', etag);
    const match = req.headers['if-none-match'];
    if (match !== undefined && match.split(',').map((s) => s.trim().replace(/^W\//, '')).includes(etag)) {
      res.status(304).end();
      return;
    }
    let bytes = bodies.get(current);
    if (!bytes) {
      const body: RuntimeSettingsResponse = { app, stage, revision, settings };
      bytes = Buffer.from(JSON.stringify(body), 'utf8');
      bodies.set(current, bytes);
    }
    res.type('json').send(bytes);
  });
  return r;
}
