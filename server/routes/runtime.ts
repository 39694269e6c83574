// The app's run-time read (SPEC §9): the only route that returns a secret in clear,
// for a runtime token, for exactly its one app and stage.
import { Router } from 'express';
import type { RuntimeSettingsResponse } from '../../common/api';
import { allowRoles } from '../auth';
import type { Store } from '../store/store';

export function runtimeRouter(store: Store): Router {
  const r = Router();
  r.get('/runtime/settings', allowRoles('runtime'), (req, res) => {
    const token = req.token!;
    // Creation guarantees exactly one app and one stage for a runtime token.
    const app = (token.apps as string[])[0]!;
    const stage = (token.stages as string[])[0]!;
    const { revision, settings, etag } = store.runtimeSettings(app, stage);
    res.set('Cache-Control', 'no-store');
    res.set('ETag', etag);
    const match = req.headers['if-none-match'];
    if (match !== undefined && match.split(',').map((s) => s.trim().replace(/^W\//, '')).includes(etag)) {
      res.status(304).end();
      return;
    }
    const body: RuntimeSettingsResponse = { app, stage, revision, settings };
    res.json(body);
  });
  return r;
}
