// The portal's own web UI (SPEC §14): one HTML shell for every page (the page script routes by
// path), and the built assets under /assets with content-hashed names. The shell has no inline
// script or style, so its policy needs no 'unsafe-inline'; pages are never cached or framed.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { Router, type Response } from 'express';
import { inScope } from '../auth';
import { isHttps } from './csrf';
import type { WebSessions } from './sessions';

/** The paths the page script knows (see portal/router.ts); anything else is its 404 page. */
const PAGE_ROUTES = ['/', '/signin', '/apps', '/apps/:app', '/apps/:app/stages/:stage', '/apps/:app/coverage', '/apps/:app/audit', '/tokens', '/audit'];

export interface PortalAssets {
  /** Logical name (portal.js, portal.css, codicon.css) -> hashed file name. */
  entries: Record<string, string>;
  /** Hashed file name -> bytes and type. */
  files: Map<string, { bytes: Buffer; type: string }>;
}

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.ttf': 'font/ttf', '.woff2': 'font/woff2', '.svg': 'image/svg+xml' };

/** Loads dist/portal (written by `node scripts/build.mjs portal`), or null when it was not built. */
export function loadPortalAssets(candidates: string[] = [path.join(__dirname, 'portal'), path.resolve(__dirname, '../../dist/portal')]): PortalAssets | null {
  for (const dir of candidates) {
    const manifest = path.join(dir, 'manifest.json');
    if (!fs.existsSync(manifest)) continue;
    const entries = JSON.parse(fs.readFileSync(manifest, 'utf8')) as Record<string, string>;
    const files = new Map<string, { bytes: Buffer; type: string }>();
    for (const name of fs.readdirSync(dir)) {
      const type = TYPES[path.extname(name)];
      if (type && /-[A-Za-z0-9_]{8,}\.[a-z0-9]+$/.test(name)) files.set(name, { bytes: fs.readFileSync(path.join(dir, name)), type });
    }
    return { entries, files };
  }
  return null;
}

export function pageContentSecurityPolicy(https: boolean): string {
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "font-src 'self'",
    "img-src 'self'",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
    ...(https ? ['upgrade-insecure-requests'] : []),
  ].join('; ');
}

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

function shell(assets: PortalAssets): string {
  const a = (name: string) => escapeAttr(`/assets/${assets.entries[name] ?? name}`);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>ODC Portal</title>
<link rel="stylesheet" href="${a('codicon.css')}" id="vscode-codicon-stylesheet">
<link rel="stylesheet" href="${a('portal.css')}">
<script src="${a('portal.js')}" defer></script>
</head>
<body>
<div id="portal" aria-busy="true"><p class="loading">Loading…</p></div>
<noscript><p>The ODC Portal needs JavaScript. The API stays available under /api/v1 (see /api/v1/openapi.json).</p></noscript>
</body>
</html>
`;
}

function pageHeaders(res: Response, https: boolean): void {
  res.set({
    'Content-Security-Policy': pageContentSecurityPolicy(https),
    'X-Frame-Options': 'DENY',
    'Cache-Control': 'no-store',
    'Referrer-Policy': 'no-referrer',
    'Content-Type': 'text/html; charset=utf-8',
  });
}

export function pagesRouter(sessions: WebSessions, assets: PortalAssets | null): Router {
  const r = Router();
  const html = assets ? shell(assets) : null;

  r.get('/assets/:file', (req, res, next) => {
    const file = assets?.files.get(req.params.file);
    if (!file) return next();
    // The name changes with the content, so a browser may keep it for a year.
    res.set({ 'Content-Type': file.type, 'Cache-Control': 'public, max-age=31536000, immutable', 'X-Content-Type-Options': 'nosniff' }).send(file.bytes);
  });

  r.get(PAGE_ROUTES, async (req, res) => {
    pageHeaders(res, isHttps(req));
    if (!html) {
      res.status(503).send('<!DOCTYPE html><html lang="en"><head><title>ODC Portal</title></head><body><main><h1>The web UI is not built</h1><p>Run npm run build. The API is available under /api/v1.</p></main></body></html>');
      return;
    }
    // A deep link outside the signed-in token's scope answers 403 (the page says so too).
    const session = await sessions.lookup(req);
    const app = req.params.app as string | undefined;
    const stage = req.params.stage as string | undefined;
    const denied = session && ((app !== undefined && !inScope(session.token.apps, app)) || (stage !== undefined && !inScope(session.token.stages, stage)));
    res.status(denied ? 403 : 200).send(html);
  });

  // Any other page a browser asks for: the shell, which shows its "not found" page.
  r.get(/^\/(?!api\/|assets\/).*/, (req, res, next) => {
    if (!html || !(req.headers.accept ?? '').includes('text/html')) return next();
    pageHeaders(res, isHttps(req));
    res.status(404).send(html);
  });
  return r;
}
