// The Stage Values editor in Chromium: the real webview bundle (dist/webview/main.js) in the
// panel's HTML under its CSP, fed by the stand-in extension host of the webview tests
// (test/webview/standin.ts). Two measures, each against a baseline in the same run:
//  - first rows painted after the data arrives, for 20,000 settings against 200 (the editor
//    renders only the rows in view, so the size of the stage should hardly matter): <= 1.5x;
//  - scrolling from the top to the bottom of 20,000 rows, a few screens per frame: the longest
//    frame (goal <= 50 ms), with the median frame as its baseline.
import * as fs from 'node:fs';
import * as path from 'node:path';
import { fmt, notMeasured, type Row } from './lib/result';
import { log, median, ROOT, round, withTimeout } from './lib/util';

const SMALL = 200;
const BIG = 20_000;
const RATIO_GOAL = 1.5;
const FRAME_GOAL_MS = 50;
const PAGE_TIMEOUT_MS = 120_000;

type FakeSettingLike = { name: string; type: string; description?: string; isSecret?: boolean; defaultValue?: string | null };
interface StoreLike {
  write(stage: string, name: string, value: string | null, by?: string): void;
}
/** What the bench uses of test/webview/standin.ts. */
interface StandinModule {
  FakeStore: new (settings: FakeSettingLike[]) => StoreLike;
  openWebview(opts: { store?: StoreLike; setup?: (host: { page: import('playwright-core').Page }) => void }): Promise<{
    page: import('playwright-core').Page;
    problems: string[];
    close(): Promise<void>;
  }>;
  shutdown(): Promise<void>;
}

function makeStore(m: StandinModule, n: number): StoreLike {
  const types = ['Text', 'Integer', 'Boolean', 'Decimal', 'Email', 'Date'] as const;
  const settings = Array.from({ length: n }, (_, i) => {
    const isSecret = i % 10 === 9;
    return {
      name: `Setting${String(i + 1).padStart(5, '0')}`,
      type: isSecret ? 'Text' : types[i % types.length]!,
      description: `Setting number ${i + 1}`,
      isSecret,
      defaultValue: isSecret ? null : i % 3 === 0 ? null : types[i % types.length] === 'Boolean' ? 'True' : types[i % types.length] === 'Date' ? '2025-01-01' : types[i % types.length] === 'Email' ? 'a@example.com' : '1',
    };
  });
  const store = new m.FakeStore(settings);
  // Half the settings have a value in the stage (secrets included: they show as set, masked).
  settings.forEach((s, i) => {
    if (i % 2 === 0) store.write('qa', s.name, s.isSecret ? 'secret-value' : s.defaultValue ?? (s.type === 'Integer' || s.type === 'Decimal' ? '1' : s.type === 'Boolean' ? 'True' : s.type === 'Date' ? '2025-01-01' : s.type === 'Email' ? 'a@example.com' : 'text'), 'bench');
  });
  return store;
}

/** Runs in the page before its scripts: notes when the init answer (with the stage) arrives and when rows are first painted. */
function initScript(n: number): string {
  return `(() => {
  const n = ${n};
  window.__benchInit = true;
  window.addEventListener('message', (e) => {
    const d = e.data;
    const v = d && d.result && d.result.view;
    if (window.__benchData === undefined && v && Array.isArray(v.settings) && v.settings.length === n) {
      window.__benchData = performance.now();
      const check = () => {
        if (document.querySelector('.rows [data-setting]:not([hidden])')) {
          // The frame after the one that had rows: that one has been painted.
          requestAnimationFrame(() => { window.__benchRendered = performance.now(); });
        } else requestAnimationFrame(check);
      };
      requestAnimationFrame(check);
    }
  }, true);
})();`;
}

/** Scrolls the window from top to bottom, `screens` viewports per frame, and returns every frame's duration. */
const SCROLL_JS = (screens: number) => `new Promise((resolve) => {
  window.scrollTo(0, 0);
  const frames = [];
  let last = 0;
  const step = (t) => {
    if (last) frames.push(t - last);
    last = t;
    const max = document.documentElement.scrollHeight - innerHeight;
    if (scrollY >= max - 1) {
      requestAnimationFrame((t2) => { frames.push(t2 - last); resolve({ frames, rows: document.querySelectorAll('.rows [data-setting]:not([hidden])').length, bottom: scrollY }); });
      return;
    }
    scrollBy(0, innerHeight * ${screens});
    requestAnimationFrame(step);
  };
  requestAnimationFrame(step);
})`;

export async function measureWebview(o: { settings?: number; runs: number }): Promise<Row[]> {
  const firstId = 'webview-first-rows';
  const firstMeasure = `Stage Values editor, first rows painted after the data arrives: ${BIG.toLocaleString('en-US')} settings vs ${SMALL}`;
  const scrollId = 'webview-scroll';
  const scrollMeasure = `Stage Values editor, scroll top to bottom of ${BIG.toLocaleString('en-US')} rows, longest frame`;
  const goalRatio = `<= ${RATIO_GOAL}x`;
  const goalFrame = `<= ${FRAME_GOAL_MS} ms`;
  const skip = (reason: string) => [notMeasured(firstId, firstMeasure, goalRatio, reason), notMeasured(scrollId, scrollMeasure, goalFrame, reason)];
  const missing = ['webview/main.ts', 'test/webview/standin.ts', 'extension/webviews/html.ts'].filter((f) => !fs.existsSync(path.join(ROOT, f)));
  if (missing.length) return skip(`${missing.join(', ')} not in the repo yet`);
  if (!fs.existsSync(path.join(ROOT, 'dist/webview/main.js'))) return skip('dist/webview/main.js is not built (node scripts/build.mjs webview)');
  if (!fs.existsSync(process.env.CHROMIUM_PATH || '/usr/bin/chromium')) return skip('no Chromium at /usr/bin/chromium (apt install chromium)');

  // Loaded here, not at the top: the stand-in pulls in the extension's webview HTML and playwright.
  // (By a path in a variable, so the bench's type-check does not pull the webview tests in.)
  const standinPath = path.join(ROOT, 'test/webview/standin');
  const m = (await import(standinPath)) as StandinModule;
  const stores = { [SMALL]: makeStore(m, SMALL), [BIG]: makeStore(m, BIG) } as Record<number, StoreLike>;
  const times: Record<number, number[]> = { [SMALL]: [], [BIG]: [] };
  let scroll: { frames: number[]; rows: number } | undefined;
  const runs = Math.max(1, o.runs);
  try {
    // Alternating sizes, after one warm-up page of each (process start, disk cache).
    for (let round_ = 0; round_ <= runs; round_++) {
      for (const n of [SMALL, BIG]) {
        const session = await withTimeout('webview page open', 60_000, m.openWebview({ store: stores[n], setup: (host) => void host.page.addInitScript({ content: initScript(n) }) }));
        try {
          const { page } = session;
          await page.waitForFunction(() => (window as unknown as { __benchRendered?: number }).__benchRendered !== undefined, undefined, { timeout: PAGE_TIMEOUT_MS, polling: 50 });
          const t = await page.evaluate(() => {
            const w = window as unknown as { __benchRendered: number; __benchData: number };
            return { rendered: w.__benchRendered, data: w.__benchData };
          });
          if (session.problems.length) throw new Error(`the webview reported problems: ${session.problems.join('; ')}`);
          const ms = t.rendered - t.data;
          if (round_ > 0) times[n]!.push(ms);
          log(`  webview ${n} settings${round_ === 0 ? ' (warm-up)' : ''}: first rows painted ${ms.toFixed(1)} ms after the data arrived`);
          if (n === BIG && round_ === runs) {
            scroll = (await page.evaluate(SCROLL_JS(4))) as { frames: number[]; rows: number };
            log(`  webview scroll: ${scroll.frames.length} frames, longest ${Math.max(...scroll.frames).toFixed(1)} ms, ${scroll.rows} DOM rows at the bottom`);
          }
        } finally {
          await session.close();
        }
      }
    }
  } finally {
    await m.shutdown();
  }
  const small = median(times[SMALL]!);
  const big = median(times[BIG]!);
  const ratio = big / small;
  const rows: Row[] = [
    {
      id: firstId,
      measure: firstMeasure,
      subject: fmt.ms(big),
      baseline: `${SMALL} settings: ${fmt.ms(small)}`,
      ratio: fmt.x(ratio),
      goal: goalRatio,
      status: ratio <= RATIO_GOAL ? 'pass' : 'miss',
      note: `median of ${runs} fresh pages per size, alternating, after a warm-up; from the init answer (which carries the stage) reaching the page to the first frame painted with rows`,
      data: { small: times[SMALL]!.map((x) => round(x, 1)), big: times[BIG]!.map((x) => round(x, 1)) },
    },
  ];
  if (scroll) {
    const frames = scroll.frames;
    const longest = Math.max(...frames);
    const med = median(frames);
    const sorted = [...frames].sort((a, b) => a - b);
    const p95 = sorted[Math.floor(sorted.length * 0.95)] ?? longest;
    rows.push({
      id: scrollId,
      measure: scrollMeasure,
      subject: `${fmt.ms(longest)} (p95 ${fmt.ms(p95)}, ${frames.length} frames)`,
      baseline: `median frame ${fmt.ms(med)}`,
      ratio: fmt.x(longest / med),
      goal: goalFrame,
      status: longest <= FRAME_GOAL_MS ? 'pass' : 'miss',
      note: `4 screens per frame (every frame binds a fresh set of rows), requestAnimationFrame intervals in the page; ${scroll.rows} DOM rows at the bottom`,
      data: { frames: frames.map((x) => round(x, 1)), longest, p95, median: med },
    });
  } else rows.push(notMeasured(scrollId, scrollMeasure, goalFrame, 'the scroll did not run'));
  return rows;
}
