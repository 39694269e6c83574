// The Stage Values editor's second host: the same editor (webview/app.ts) and the same host logic
// (common/stageValuesHost.ts) as in VS Code, with the portal API reached over fetch with the
// session cookie instead of the extension's bearer-token client. The editor talks to it through
// the same protocol messages, delivered in the page instead of across the webview boundary.
import {
  appResponseSchema,
  compareResponseSchema,
  historyResponseSchema,
  promoteResponseSchema,
  stageSettingsResponseSchema,
  stagesResponseSchema,
  type ValueChange,
} from '../common/api';
import type { HostToWebview } from '../common/protocol';
import { StageValuesController, type StageValuesClient } from '../common/stageValuesHost';
import { StageValuesApp } from '../webview/app';
import { HostConnection, type VsCodeApi } from '../webview/host';
import { api, enc } from './api';

/** The portal API as the editor's host needs it, over fetch (cookie + CSRF token). */
export const fetchClient: StageValuesClient = {
  stages: () => api('GET', '/stages', { schema: stagesResponseSchema }),
  app: (key) => api('GET', `/apps/${enc(key)}`, { schema: appResponseSchema }),
  stageSettings: (app, stage) => api('GET', `/apps/${enc(app)}/stages/${enc(stage)}/settings`, { schema: stageSettingsResponseSchema }),
  patchStage: (app, stage, changes: ValueChange[]) => api('PATCH', `/apps/${enc(app)}/stages/${enc(stage)}/settings`, { body: { changes }, schema: stageSettingsResponseSchema }),
  history: (app, stage, name) => api('GET', `/apps/${enc(app)}/stages/${enc(stage)}/settings/${enc(name)}/history`, { schema: historyResponseSchema }),
  restore: (app, stage, name, version, baseVersion) =>
    api('POST', `/apps/${enc(app)}/stages/${enc(stage)}/settings/${enc(name)}/restore`, { body: { version, baseVersion }, schema: stageSettingsResponseSchema }),
  compare: (app, stages) => api('GET', `/apps/${enc(app)}/compare?stages=${stages.map(enc).join(',')}`, { schema: compareResponseSchema }),
  promote: (app, body) => api('POST', `/apps/${enc(app)}/promote`, { body, schema: promoteResponseSchema }),
};

/**
 * Carries protocol messages between the editor and the host inside one page. Each message is
 * structured-cloned, as VS Code's postMessage does, so neither side shares objects with the other.
 */
class InPageChannel extends EventTarget implements VsCodeApi {
  toHost: (message: unknown) => void = () => {};
  postMessage(message: unknown): void {
    const copy = structuredClone(message);
    queueMicrotask(() => this.toHost(copy));
  }
  deliver(message: HostToWebview): void {
    this.dispatchEvent(new MessageEvent('message', { data: structuredClone(message) }));
  }
}

export interface EditorOptions {
  app: string;
  stage?: string;
  coverage?: boolean;
  /** Called when the person picks another stage or tab (the page updates its address). */
  onNavigate?: (where: { stage: string | null; coverage: boolean }) => void;
}

function keepEdits(e: BeforeUnloadEvent): void {
  e.preventDefault();
}

/** Mounts the Stage Values editor in `root`, hosted by this page. */
export function mountEditor(root: HTMLElement, o: EditorOptions): void {
  const channel = new InPageChannel();
  const controller = new StageValuesController({
    appKey: o.app,
    client: async () => fetchClient,
    post: (m) => channel.deliver(m),
    ...(o.stage ? { initialStage: o.stage } : {}),
    // The banners' "Sign In" is the sign-in page here; the VS Code commands have no meaning.
    executeCommand: async () => {
      location.assign(`/signin?next=${enc(location.pathname)}`);
    },
    runsCommand: (c) => c === 'odcSettings.signIn',
    confirmDiscard: async ({ stage, count }) => confirm(`Discard ${count} unsaved edit${count === 1 ? '' : 's'} in ${stage}? What you typed is dropped; the portal is not changed.`),
    // Unsaved edits: leaving the page asks first (the browser's own prompt).
    onDirtyChange: (count) => {
      if (count > 0) addEventListener('beforeunload', keepEdits);
      else removeEventListener('beforeunload', keepEdits);
    },
  });
  channel.toHost = (m) => void controller.handle(m);
  const host = new HostConnection(channel, 30_000, channel);
  const app = new StageValuesApp(root, host);
  const tabs = root.querySelector('vscode-tabs') as (HTMLElement & { selectedIndex: number }) | null;
  // The coverage page is the editor's coverage tab, chosen before it starts (it loads it then).
  if (tabs && o.coverage) tabs.selectedIndex = 1;
  const select = root.querySelector('#stage-select') as (HTMLElement & { value: string }) | null;
  const report = () => o.onNavigate?.({ stage: select?.value || null, coverage: tabs?.selectedIndex === 1 });
  select?.addEventListener('change', report);
  tabs?.addEventListener('vsc-tabs-select', () => queueMicrotask(report));
  app.start();
}
