// A stand-in for the extension host, at the host boundary: Chromium loads the real webview
// bundle (dist/webview/main.js) in the same HTML, under the same CSP, as the panel does
// (extension/webviews/html.ts), with a fake `acquireVsCodeApi` whose postMessage reaches this
// test process. Every message the webview sends is validated with the protocol's real zod
// schemas; requests are answered by handlers the test sets (default: an in-memory stage store).
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import type { BrowserContext, Frame, Page } from 'playwright-core';
import type { StageSetting } from '../../common/api';
import {
  parseWebviewMessage,
  type HostNotifications,
  type ProtocolError,
  type RequestMethod,
  type RequestParams,
  type RequestResult,
  type StageView,
  type WebviewToHost,
} from '../../common/protocol';
import { SECRET_MASK } from '../../common/values';
import { makeNonce, stageValuesHtml } from '../../extension/webviews/html';
// @ts-ignore: the harness is plain JavaScript (no declarations)
import * as harness from '../harness/vscode-web.mjs';

type Browser = { context: BrowserContext; close: () => Promise<void> };
const launchBrowser = harness.launchBrowser as (o: { viewport: { width: number; height: number } }) => Promise<Browser>;

export const ROOT = path.resolve(__dirname, '../..');
const ASSETS = path.join(ROOT, 'dist/webview');

let built = false;
/** Builds dist/webview unless it is newer than every source it is made of (npm test builds first). */
export function buildWebview(): void {
  if (built) return;
  const newest = (dir: string): number =>
    fs.readdirSync(dir, { withFileTypes: true }).reduce((t, e) => Math.max(t, e.isDirectory() ? newest(path.join(dir, e.name)) : fs.statSync(path.join(dir, e.name)).mtimeMs), 0);
  const out = path.join(ASSETS, 'main.js');
  const stale = !fs.existsSync(out) || !fs.existsSync(path.join(ASSETS, 'codicon.css')) || fs.statSync(out).mtimeMs < Math.max(newest(path.join(ROOT, 'webview')), newest(path.join(ROOT, 'common')));
  if (stale) execFileSync(process.execPath, [path.join(ROOT, 'scripts/build.mjs'), 'webview'], { cwd: ROOT, stdio: 'inherit' });
  built = true;
}

// ---- an in-memory app in three stages, as the host would relay it from the portal ------------

export interface FakeSetting {
  name: string;
  type: StageSetting['type'];
  description?: string;
  isSecret?: boolean;
  defaultValue?: string | null;
}

export const STAGES = [
  { key: 'development', name: 'Development' },
  { key: 'qa', name: 'QA' },
  { key: 'production', name: 'Production' },
];

export const SETTINGS: FakeSetting[] = [
  { name: 'PaymentApiKey', type: 'Text', description: 'Key for the payment gateway', isSecret: true },
  { name: 'SigningCert', type: 'Text', description: 'PEM certificate', isSecret: true },
  { name: 'MaxRetries', type: 'Integer', defaultValue: '3' },
  { name: 'Greeting', type: 'Text', description: 'Shown on the home page', defaultValue: 'hello' },
  { name: 'LaunchDate', type: 'Date' },
];

interface Stored {
  value: string | null;
  version: number;
  updatedAt: string | null;
  updatedBy: string | null;
}

/** What the server would hold; the stand-in host only ever hands out masked views of it. */
export class FakeStore {
  private readonly values = new Map<string, Stored>();
  revision = 4;
  constructor(readonly settings: FakeSetting[] = SETTINGS) {}

  private key(stage: string, name: string) {
    return `${stage}\u0000${name}`;
  }
  get(stage: string, name: string): Stored {
    return this.values.get(this.key(stage, name)) ?? { value: null, version: 0, updatedAt: null, updatedBy: null };
  }
  /** A write by someone (another user, or this panel's save). */
  write(stage: string, name: string, value: string | null, by = 'someone-else'): void {
    const cur = this.get(stage, name);
    this.values.set(this.key(stage, name), { value, version: cur.version + 1, updatedAt: '2025-11-20T10:00:00.000Z', updatedBy: by });
  }
  view(stage: string): StageView {
    return {
      app: 'orders',
      stage,
      revision: this.revision,
      settings: this.settings.map((s) => {
        const v = this.get(stage, s.name);
        const hasValue = v.value !== null;
        return {
          name: s.name,
          type: s.type,
          description: s.description ?? '',
          isSecret: !!s.isSecret,
          hasValue,
          value: hasValue ? (s.isSecret ? SECRET_MASK : v.value) : null,
          defaultValue: s.isSecret ? null : (s.defaultValue ?? null),
          missing: !!s.isSecret && !hasValue,
          version: v.version,
          updatedAt: v.updatedAt,
          updatedBy: v.updatedBy,
        };
      }),
    };
  }
}

// ---- the stand-in host -----------------------------------------------------------------------

type Answer<M extends RequestMethod> = RequestResult<M> | { error: ProtocolError } | { hang: true };
type Handler<M extends RequestMethod> = (params: RequestParams<M>) => Answer<M> | Promise<Answer<M>>;

export class StandInHost {
  readonly store: FakeStore;
  /** Every message the webview sent, in order, after validation. */
  readonly received: WebviewToHost[] = [];
  readonly invalid: string[] = [];
  private readonly handlers: { [M in RequestMethod]?: Handler<M> } = {};
  private readonly defaults: { [M in RequestMethod]: Handler<M> };

  constructor(
    private readonly page: Page,
    store?: FakeStore,
  ) {
    this.store = store ?? new FakeStore();
    this.defaults = {
      // Like the host: the first stage's settings come with the answer (through whatever answers stage/load).
      'panel/init': async () => {
        const load = (this.handlers['stage/load'] ?? this.defaults['stage/load']) as Handler<'stage/load'>;
        const view = await load({ stage: 'qa' });
        return { app: { key: 'orders', name: 'Orders' }, stages: STAGES, stage: 'qa', view: 'settings' in view ? view : null };
      },
      'stage/load': ({ stage }) => this.store.view(stage),
      'panel/confirmDiscard': () => ({ discard: true }),
      'stage/save': ({ stage, changes }) => {
        const conflicts = changes.filter((c) => this.store.get(stage, c.name).version !== c.baseVersion).map((c) => c.name);
        if (conflicts.length) return { outcome: 'conflict', message: `someone else changed ${conflicts.join(', ')}.`, conflicts, view: this.store.view(stage) };
        for (const c of changes) this.store.write(stage, c.name, c.value, 'me');
        return { outcome: 'saved', view: this.store.view(stage) };
      },
      'command/run': () => ({ ran: true }),
      // History, compare and promote (SPEC §12, §13): a test that uses them answers them itself.
      'value/history': () => ({ error: { code: 'internal', message: 'the stand-in has no history' } }),
      'value/restore': () => ({ error: { code: 'internal', message: 'the stand-in has no history' } }),
      'compare/load': () => ({ error: { code: 'internal', message: 'the stand-in has no comparison' } }),
      'promote/preview': () => ({ error: { code: 'internal', message: 'the stand-in has no promote' } }),
      'promote/apply': () => ({ error: { code: 'internal', message: 'the stand-in has no promote' } }),
      'coverage/load': () => ({
        app: 'orders',
        revision: this.store.revision,
        stages: STAGES,
        settings: this.store.settings.map((s) => ({
          name: s.name,
          type: s.type,
          description: s.description ?? '',
          isSecret: !!s.isSecret,
          status: Object.fromEntries(
            STAGES.map((st) => {
              const v = this.store.get(st.key, s.name).value;
              return [st.key, v !== null ? 'set' : s.isSecret ? 'missing' : s.defaultValue != null ? 'default' : 'unset'];
            }),
          ),
        })),
      }),
    };
  }

  /** Answers the next requests of `method` with `handler` (until replaced or reset). */
  on<M extends RequestMethod>(method: M, handler: Handler<M>): void {
    (this.handlers as Record<string, unknown>)[method] = handler;
  }
  reset(method: RequestMethod): void {
    delete this.handlers[method];
  }
  requests<M extends RequestMethod>(method: M): Array<RequestParams<M>> {
    return this.received.filter((m): m is Extract<WebviewToHost, { kind: 'request' }> => m.kind === 'request' && m.method === method).map((m) => m.params as RequestParams<M>);
  }
  notifications(method: string): unknown[] {
    return this.received.filter((m) => m.kind === 'notification' && m.method === method).map((m) => m.params);
  }

  async notify<K extends keyof HostNotifications>(method: K, params: HostNotifications[K]): Promise<void> {
    await this.post({ kind: 'notification', method, params });
  }

  async receive(raw: unknown): Promise<void> {
    const parsed = parseWebviewMessage(raw);
    if (!parsed.ok) {
      this.invalid.push(parsed.message);
      if (parsed.id !== undefined) await this.post({ kind: 'response', id: parsed.id, ok: false, error: { code: 'bad-message', message: parsed.message } });
      return;
    }
    const m = parsed.message;
    this.received.push(m);
    if (m.kind !== 'request') return;
    const handler = (this.handlers[m.method] ?? this.defaults[m.method]) as Handler<RequestMethod>;
    const answer = (await handler(m.params as never)) as Record<string, unknown>;
    if (answer && 'hang' in answer) return;
    if (answer && 'error' in answer && !('outcome' in answer)) await this.post({ kind: 'response', id: m.id, ok: false, error: answer.error });
    else await this.post({ kind: 'response', id: m.id, ok: true, result: answer });
  }

  private async post(message: unknown): Promise<void> {
    if (this.page.isClosed()) return;
    await this.page.evaluate((m) => window.postMessage(m, '*'), message as never).catch(() => {});
  }
}

// ---- the page --------------------------------------------------------------------------------

export interface Session {
  page: Page;
  frame: Frame;
  host: StandInHost;
  /** CSP violations and page errors seen so far. */
  problems: string[];
  close(): Promise<void>;
}

let browserPromise: Promise<Browser> | undefined;
let server: http.Server | undefined;
let origin = '';
const pages = new Map<string, string>();

async function ensureServer(): Promise<void> {
  if (server) return;
  server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const page = pages.get(url.pathname);
    if (page !== undefined) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
      return;
    }
    const file = path.join(ASSETS, path.basename(url.pathname));
    const types: Record<string, string> = { '.js': 'text/javascript', '.css': 'text/css', '.ttf': 'font/ttf', '.map': 'application/json' };
    if (!file.startsWith(ASSETS) || !fs.existsSync(file)) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream' }).end(fs.readFileSync(file));
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** Opens the webview in a fresh page with a fresh stand-in host. */
export async function openWebview(opts: { requestTimeoutMs?: number; setup?: (host: StandInHost) => void; store?: FakeStore } = {}): Promise<Session> {
  buildWebview();
  await ensureServer();
  browserPromise ??= launchBrowser({ viewport: { width: 1280, height: 800 } });
  const { context } = await (browserPromise as Promise<Browser>);
  const page = await context.newPage();
  const problems: string[] = [];
  const host = new StandInHost(page, opts.store);
  opts.setup?.(host);
  page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    if (/Content.Security.Policy|Refused to/i.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  await page.exposeBinding('__odcToHost', (_src, msg: unknown) => void host.receive(msg));
  // tsx compiles this file with esbuild's keepNames, which wraps named functions in __name();
  // functions serialized into the page (evaluate, init scripts) need that helper there.
  await page.addInitScript({ content: 'window.__name = (f) => f;' });
  await page.addInitScript(() => {
    const w = window as unknown as Record<string, unknown>;
    w.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => (w.__cspViolations as string[]).push(`${e.violatedDirective} ${e.blockedURI}`));
    let acquired = false;
    w.acquireVsCodeApi = () => {
      if (acquired) throw new Error('acquireVsCodeApi called twice');
      acquired = true;
      return {
        // Structured clone, as VS Code's postMessage does.
        postMessage: (m: unknown) => (w.__odcToHost as (m: unknown) => void)(JSON.parse(JSON.stringify(m))),
        getState: () => undefined,
        setState: () => {
          throw new Error('the webview must not persist state (it could hold a secret)');
        },
      };
    };
  });
  const pagePath = `/page-${pages.size + 1}.html`;
  pages.set(
    pagePath,
    stageValuesHtml({
      cspSource: origin,
      nonce: makeNonce(),
      scriptUri: `${origin}/main.js`,
      styleUri: `${origin}/main.css`,
      codiconsUri: `${origin}/codicon.css`,
      title: 'Stage Values: orders',
      requestTimeoutMs: opts.requestTimeoutMs ?? 5000,
    }),
  );
  await page.goto(origin + pagePath);
  return {
    page,
    frame: page.mainFrame(),
    host,
    problems,
    async close() {
      const csp = (await page.evaluate(() => (window as unknown as { __cspViolations: string[] }).__cspViolations).catch(() => [])) as string[];
      problems.push(...csp.map((c) => `csp: ${c}`));
      await page.close();
    },
  };
}

export async function shutdown(): Promise<void> {
  if (browserPromise) await (await browserPromise).close();
  browserPromise = undefined;
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
}

/**
 * Everything a page holds that a value could hide in: the light DOM, every open shadow root,
 * and the current value of every input (a property, not in the markup). A string, so it runs
 * in any frame (the VS Code webview's too) without the test compiler's helpers.
 */
export const EVERYTHING_IN_PAGE_JS = `(() => {
  const parts = [document.documentElement.outerHTML];
  const walk = (root) => {
    for (const el of Array.from(root.querySelectorAll('*'))) {
      if (el.shadowRoot) { parts.push(el.shadowRoot.innerHTML); walk(el.shadowRoot); }
      if (typeof el.value === 'string') parts.push(el.value);
    }
  };
  walk(document);
  return parts.join('\\n');
})()`;

export async function everythingInPage(page: Page | Frame): Promise<string> {
  return (await page.evaluate(EVERYTHING_IN_PAGE_JS)) as string;
}
