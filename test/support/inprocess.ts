// The portal app served from the test process itself: the real Express app, the real HTTP
// server (createHttpServer) on a loopback port and a real SQLite store in a temp dir. For the
// few tests that need what a child process cannot give: app options (a short limiter window,
// the fast path off) and the log lines as objects. Always the embedded store (SQLite).
import * as fs from 'node:fs';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { createApp, type AppDeps, type PortalApp } from '../../server/app';
import { newKey } from '../../server/crypto/envelope';
import { createHttpServer } from '../../server/http/clientError';
import { parseStages, DEFAULT_STAGES } from '../../server/runtime';
import { Portal } from '../../server/services/portal';
import { SqliteStorage } from '../../server/store/sqlite/sqliteStorage';
import { tempDir } from './portal';

export interface InProcessPortal {
  url: string;
  port: number;
  portal: Portal;
  app: PortalApp;
  adminToken: string;
  dir: string;
  /** Every log line so far, parsed. */
  logs(): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function startInProcess(opts: Partial<Omit<AppDeps, 'portal' | 'logger' | 'version'>> & { dir?: string; portal?: Portal } = {}): Promise<InProcessPortal> {
  const dir = opts.dir ?? tempDir('odc-inproc-');
  fs.mkdirSync(dir, { recursive: true });
  let adminToken = '';
  const portal =
    opts.portal ??
    (await Portal.open({
      storage: new SqliteStorage(path.join(dir, 'portal.db')),
      masterKey: newKey(),
      stages: parseStages(DEFAULT_STAGES),
      firstAdmin: { actor: { tokenId: null, tokenName: 'test', client: 'cli' }, onCreated: (token) => void (adminToken = token) },
    }));
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString('utf8').split('\n').filter(Boolean));
      done();
    },
  });
  const logger = pino({ level: 'info', base: { pid: process.pid } }, sink);
  const { portal: _p, dir: _d, ...appOpts } = opts;
  const app = createApp({ portal, logger, version: 'test', ...appOpts });
  const server = createHttpServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    portal,
    app,
    adminToken,
    dir,
    logs: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>),
    async close() {
      await app.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!opts.portal) await portal.storage.close();
    },
  };
}
