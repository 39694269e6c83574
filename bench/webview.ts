// Stage editor first render: the real Stage Values webview bundle (dist/webview/main.js) in
// Chromium, in the panel's HTML under its CSP, fed by the stand-in extension host of the webview
// tests (test/webview/standin.ts) with a stage of 2,000 settings. Measured in the page's own clock:
// from navigation start to the first frame painted with every row in the table.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fmt, notMeasured, type Row } from './lib/result';
import { log, median, ROOT, round, withTimeout } from './lib/util';

const GOAL_MS = 300;
/** A page that has not painted every row by then counts as "more than PAGE_TIMEOUT_MS". */
const PAGE_TIMEOUT_MS = 120_000;

/** What the bench uses of test/webview/standin.ts. */
interface StandinModule {
  FakeStore: new (settings: Array<{ name: string; type: string; description?: string; isSecret?: boolean; defaultValue?: string | null }>) => {
    write(stage: string, name: string, value: string | null, by?: string): void;
    view(stage: string): unknown;
  };
  openWebview(opts: { setup?: (host: { on(method: 'stage/load', handler: (params: { stage: string }) => unknown): void }) => void }): Promise<{
    page: import('playwright-core').Page;
    problems: string[];
    close(): Promise<void>;
  }>;
  shutdown(): Promise<void>;
}

interface PageTimes {
  /** navigation start -> first frame painted with all rows */
  rendered: number;
  /** navigation start -> the stage/load answer reached the page (when the init script ran) */
  dataArrived: number | null;
  /** navigation start -> DOMContentLoaded end */
  domContentLoaded: number;
  rows: number;
}

/** Runs in the page before its scripts: notes when the stage arrives and when the full table is painted. */
function initScript(n: number): string {
  return `(() => {
  const n = ${n};
  window.__benchInit = true;
  window.addEventListener('message', (e) => {
    const d = e.data;
    if (window.__benchData === undefined && d && d.result && Array.isArray(d.result.settings) && d.result.settings.length === n) window.__benchData = performance.now();
  }, true);
  const check = () => {
    if (document.querySelectorAll('tbody tr[data-setting]').length >= n) {
      // The frame after the one that had every row: that one has been painted.
      requestAnimationFrame(() => { window.__benchRendered = performance.now(); });
    } else requestAnimationFrame(check);
  };
  requestAnimationFrame(check);
})();`;
}

export async function measureWebview(o: { settings: number; runs: number }): Promise<Row[]> {
  const id = 'webview-render';
  const measure = `stage editor with ${o.settings.toLocaleString('en-US')} settings, first render in Chromium`;
  const goal = `<= ${GOAL_MS} ms`;
  const missing = ['webview/main.ts', 'test/webview/standin.ts', 'extension/webviews/html.ts'].filter((f) => !fs.existsSync(path.join(ROOT, f)));
  if (missing.length) return [notMeasured(id, measure, goal, `${missing.join(', ')} not in the repo yet`)];
  if (!fs.existsSync(path.join(ROOT, 'dist/webview/main.js'))) return [notMeasured(id, measure, goal, 'dist/webview/main.js is not built (node scripts/build.mjs webview)')];
  if (!fs.existsSync(process.env.CHROMIUM_PATH || '/usr/bin/chromium')) return [notMeasured(id, measure, goal, 'no Chromium at /usr/bin/chromium (apt install chromium)')];

  // Loaded here, not at the top: the stand-in pulls in the extension's webview HTML and playwright.
  // (By a path in a variable, so the bench's type-check does not pull the webview tests in.)
  const standinPath = path.join(ROOT, 'test/webview/standin');
  const { FakeStore, openWebview, shutdown } = (await import(standinPath)) as StandinModule;
  const settings = Array.from({ length: o.settings }, (_, i) => {
    const isSecret = i % 10 === 9;
    const types = ['Text', 'Integer', 'Boolean', 'Decimal', 'Email', 'Date'] as const;
    return {
      name: `Setting${String(i + 1).padStart(5, '0')}`,
      type: isSecret ? ('Text' as const) : types[i % types.length]!,
      description: `Setting number ${i + 1}`,
      isSecret,
      defaultValue: isSecret ? null : i % 3 === 0 ? null : '1',
    };
  });
  const big = new FakeStore(settings);
  // Half the settings have a value in the stage (secrets included: they show as set, masked).
  for (const s of settings.filter((_, i) => i % 2 === 0)) big.write('qa', s.name, s.isSecret ? 'secret-value' : s.type === 'Text' ? 'some text' : '1', 'bench');

  const runs: PageTimes[] = [];
  let timedOut = false;
  try {
    for (let i = 0; i < o.runs + 1; i++) {
      const session = await withTimeout(
        'webview page open',
        60_000,
        openWebview({
          setup: (host) => {
            host.on('stage/load', ({ stage }) => big.view(stage));
            const page = (host as unknown as { page: import('playwright-core').Page }).page;
            // A string, not a function: tsx would add helpers (__name) the page does not have.
            void page.addInitScript({ content: initScript(o.settings) });
          },
        }),
      );
      try {
        const { page } = session;
        try {
          await page.waitForFunction(() => (window as unknown as { __benchRendered?: number }).__benchRendered !== undefined, undefined, { timeout: PAGE_TIMEOUT_MS, polling: 100 });
        } catch (e) {
          const state = await page
            .evaluate(() => ({ init: (window as unknown as { __benchInit?: boolean }).__benchInit ?? false, rows: document.querySelectorAll('tbody tr[data-setting]').length, body: document.body.innerText.slice(0, 300) }))
            .catch(() => null);
          if (!state?.init || session.problems.length) {
            throw new Error(`the table never showed all ${o.settings} rows: ${JSON.stringify(state)}; problems: ${session.problems.join('; ')}; ${(e as Error).message}`);
          }
          log(`  webview page ${i}: not painted after ${PAGE_TIMEOUT_MS / 1000} s (${state.rows} rows so far)`);
          timedOut = true;
          break;
        }
        const t = await page.evaluate(() => {
          const w = window as unknown as { __benchRendered: number; __benchData?: number; __benchInit?: boolean };
          const nav = performance.getEntriesByType('navigation')[0] as PerformanceNavigationTiming | undefined;
          return {
            rendered: w.__benchRendered,
            dataArrived: w.__benchData ?? null,
            domContentLoaded: nav?.domContentLoadedEventEnd ?? NaN,
            rows: document.querySelectorAll('tbody tr[data-setting]').length,
          };
        });
        if (session.problems.length) throw new Error(`the webview reported problems: ${session.problems.join('; ')}`);
        // The first page warms Chromium up (process start, disk cache) and is not counted.
        if (i > 0) runs.push(t);
        log(`  webview page ${i}${i === 0 ? ' (warm-up)' : ''}: ${t.rows} rows painted at ${Math.round(t.rendered)} ms (data at ${t.dataArrived === null ? '?' : Math.round(t.dataArrived)} ms, DOMContentLoaded ${Math.round(t.domContentLoaded)} ms)`);
      } finally {
        await session.close();
      }
    }
  } finally {
    await shutdown();
  }
  if (timedOut) {
    return [{ id, measure, subject: `> ${PAGE_TIMEOUT_MS / 1000} s`, baseline: '-', ratio: '-', goal, status: 'miss', note: `a page had not painted all ${o.settings} rows after ${PAGE_TIMEOUT_MS / 1000} s` }];
  }
  const rendered = median(runs.map((r) => r.rendered));
  const arrived = runs.every((r) => r.dataArrived !== null) ? median(runs.map((r) => r.dataArrived!)) : null;
  const renderOnly = arrived === null ? null : median(runs.map((r) => r.rendered - r.dataArrived!));
  return [
    {
      id,
      measure,
      subject: `${fmt.ms(rendered)}${renderOnly === null ? '' : ` (render ${fmt.ms(renderOnly)} after the data arrived)`}`,
      baseline: '-',
      ratio: '-',
      goal,
      status: rendered <= GOAL_MS ? 'pass' : 'miss',
      note: `median of ${o.runs} fresh pages after a warm-up; navigation start to the first frame painted with all ${o.settings} rows (stand-in host, half the values set)`,
      data: { runs: runs.map((r) => ({ rendered: round(r.rendered, 1), dataArrived: r.dataArrived === null ? null : round(r.dataArrived, 1), domContentLoaded: round(r.domContentLoaded, 1) })), medianRendered: rendered, medianRenderAfterData: renderOnly },
    },
  ];
}
