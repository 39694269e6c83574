// The Stage Values panel: a stage selector, the stage's settings with unsaved edits collected
// per stage, one Save for all of them (one request, one PATCH, all or nothing), Discard, and
// the coverage tab. Edits survive every failure: a refused or failed save changes nothing here
// but the error shown; a 409 reloads only the conflicting settings' values.
import type { VscodeButton } from '@vscode-elements/elements/dist/vscode-button/vscode-button.js';
import type { VscodeSingleSelect } from '@vscode-elements/elements/dist/vscode-single-select/vscode-single-select.js';
import type { VscodeTabs } from '@vscode-elements/elements/dist/vscode-tabs/vscode-tabs.js';
import type { Stage } from '../common/api';
import type { AppRef, PROTOCOL_VERSION, StageView } from '../common/protocol';
import { renderCoverage } from './coverage';
import { h, icon, setChildren, toggle } from './dom';
import { HostError, type HostConnection } from './host';
import { StageDrafts } from './model';
import { StageEditor, type RowInfo } from './stageEditor';

interface StageState {
  stage: Stage;
  drafts: StageDrafts;
  editor: StageEditor;
  view?: StageView;
  info: Map<string, RowInfo>;
  busy: boolean;
  /** The save in flight, if any: a save VS Code asks for (host/save) waits for it. */
  saving?: Promise<boolean>;
  error?: string;
  notice?: string;
}

// A literal, not an import: the protocol module's runtime part (zod) stays out of the bundle.
// Typed against it, so a version bump there fails the webview's type-check until updated here.
const PROTOCOL: typeof PROTOCOL_VERSION = 1;

const plural = (n: number, one: string, many = `${one}s`) => `${n} ${n === 1 ? one : many}`;

export class StageValuesApp {
  private app: AppRef | undefined;
  private stages: Stage[] = [];
  private current: string | null = null;
  private readonly perStage = new Map<string, StageState>();
  private lastDirty = -1;
  /** Why the panel could not start (not signed in, server down, app not published). */
  private initError: string | undefined;

  // layout
  private readonly title = h('h1', {}, 'Stage Values');
  private readonly stageSelect = h('vscode-single-select', { id: 'stage-select', 'aria-describedby': 'stage-select-label' });
  private readonly saveBtn = h('vscode-button', { id: 'save', icon: 'save', disabled: true }, 'Save');
  private readonly discardBtn = h('vscode-button', { id: 'discard', secondary: true, icon: 'discard', disabled: true }, 'Discard');
  private readonly reloadBtn = h('vscode-button', { id: 'reload', secondary: true, icon: 'refresh', title: "Reload this stage's values (your edits stay)" }, 'Reload');
  private readonly revision = h('span', { class: 'muted', id: 'revision' });
  private readonly otherStages = h('span', { class: 'muted', id: 'other-stages' });
  private readonly error = h('div', { id: 'error', class: 'banner error', role: 'alert', hidden: true });
  private readonly status = h('div', { id: 'status', class: 'status', role: 'status', 'aria-live': 'polite' });
  private readonly editorHost = h('div', { id: 'editor' });
  private readonly coverageBody = h('div', { id: 'coverage' });
  private readonly coverageError = h('div', { id: 'coverage-error', class: 'banner error', role: 'alert', hidden: true });
  private readonly coverageRefresh = h('vscode-button', { id: 'coverage-refresh', secondary: true, icon: 'refresh' }, 'Refresh');
  private readonly tabs: VscodeTabs;

  constructor(
    private readonly root: HTMLElement,
    private readonly host: HostConnection,
  ) {
    this.tabs = h(
      'vscode-tabs',
      { 'selected-index': 0 },
      h('vscode-tab-header', { slot: 'header', 'data-tab': 'values' }, 'Values'),
      h(
        'vscode-tab-panel',
        {},
        h(
          'div',
          { class: 'toolbar', role: 'toolbar', 'aria-label': 'Stage values' },
          h('span', { id: 'stage-select-label', class: 'label' }, 'Stage'),
          this.stageSelect,
          this.revision,
          h('span', { class: 'spacer' }),
          this.otherStages,
          this.reloadBtn,
          this.discardBtn,
          this.saveBtn,
        ),
        this.error,
        this.status,
        this.editorHost,
      ),
      h('vscode-tab-header', { slot: 'header', 'data-tab': 'coverage' }, 'Coverage'),
      h(
        'vscode-tab-panel',
        {},
        h(
          'div',
          { class: 'toolbar' },
          h('span', { class: 'muted' }, 'Every setting in every stage, by status. No values are shown here.'),
          h('span', { class: 'spacer' }),
          this.coverageRefresh,
        ),
        this.coverageError,
        this.coverageBody,
      ),
    );
    this.stageSelect.label = 'Stage';
    this.stageSelect.addEventListener('change', () => {
      const key = this.stageSelect.value;
      if (key && key !== this.current) void this.showStage(key);
    });
    this.onClick(this.saveBtn, () => void this.save());
    this.onClick(this.discardBtn, () => void this.discard());
    this.onClick(this.reloadBtn, () => this.current && void this.loadStage(this.current));
    this.onClick(this.coverageRefresh, () => void this.loadCoverage());
    this.tabs.addEventListener('vsc-tabs-select', (e) => {
      if ((e as CustomEvent<{ selectedIndex: number }>).detail.selectedIndex === 1) void this.loadCoverage();
    });
    document.addEventListener('keydown', (e) => {
      if ((e.ctrlKey || e.metaKey) && !e.shiftKey && !e.altKey && e.key.toLowerCase() === 's') {
        e.preventDefault();
        if (this.tabs.selectedIndex === 0) void this.save();
      }
    });
    host.on('host/refresh', () => void this.init());
    // The VS Code editor's own Save (Ctrl+S, Save when closing) and Revert (Don't Save).
    host.on('host/save', ({ id }) => void this.saveAll().then((r) => host.notify('webview/saved', { id, ...r })));
    host.on('host/revert', () => {
      for (const st of this.perStage.values()) this.dropEdits(st);
      this.renderBanner();
      this.updateToolbar();
    });
    host.on('host/showStage', ({ stage }) => {
      if (this.stages.some((s) => s.key === stage)) {
        this.tabs.selectedIndex = 0;
        void this.showStage(stage);
      }
    });
    setChildren(this.root, h('header', {}, this.title), this.tabs);
  }

  start(): void {
    this.host.notify('webview/ready', { protocol: PROTOCOL });
    void this.init();
  }

  // ---- loading ------------------------------------------------------------------------------

  private async init(): Promise<void> {
    this.root.setAttribute('aria-busy', 'true');
    this.setStatus('Loading…');
    try {
      const { app, stages, stage } = await this.host.request('panel/init', {});
      this.app = app;
      this.stages = stages;
      setChildren(this.title, 'Stage Values: ', app.name, ' ', h('span', { class: 'muted app-key' }, `(${app.key})`));
      this.renderStageOptions();
      const first = this.current && stages.some((s) => s.key === this.current) ? this.current : stage;
      this.initError = undefined;
      this.renderBanner();
      if (first) await this.showStage(first, true);
      else this.setStatus('The server has no stages configured.');
      if (this.tabs.selectedIndex === 1) await this.loadCoverage();
    } catch (e) {
      // Keep every edit; show what to do (sign in, start the server, publish).
      this.initError = `Cannot open the stage values: ${(e as Error).message}`;
      this.renderBanner();
      this.setStatus('');
    } finally {
      this.root.removeAttribute('aria-busy');
    }
  }

  private renderStageOptions(): void {
    setChildren(this.stageSelect, ...this.stages.map((s) => h('vscode-option', { value: s.key }, s.name)));
  }

  private stateFor(key: string): StageState {
    let st = this.perStage.get(key);
    if (!st) {
      const stage = this.stages.find((s) => s.key === key) ?? { key, name: key };
      const drafts = new StageDrafts();
      const info = new Map<string, RowInfo>();
      const editor = new StageEditor({
        stageName: stage.name,
        drafts,
        info: (name) => info.get(name) ?? {},
        changed: (name) => {
          info.delete(name);
          this.updateToolbar();
        },
      });
      st = { stage, drafts, editor, info, busy: false };
      this.perStage.set(key, st);
    }
    return st;
  }

  private currentState(): StageState | undefined {
    return this.current ? this.perStage.get(this.current) : undefined;
  }

  private async showStage(key: string, force = false): Promise<void> {
    const changed = key !== this.current;
    this.current = key;
    const st = this.stateFor(key);
    if (this.stageSelect.value !== key) {
      await this.stageSelect.updateComplete;
      this.stageSelect.value = key;
    }
    if (changed) setChildren(this.editorHost, st.editor.element);
    this.renderBanner();
    this.updateToolbar();
    if (!st.view || force) await this.loadStage(key);
  }

  private async loadStage(key: string): Promise<void> {
    const st = this.stateFor(key);
    st.busy = true;
    st.error = undefined;
    if (key === this.current) {
      this.renderBanner();
      this.setStatus(`Loading ${st.stage.name}…`);
    }
    this.updateToolbar();
    try {
      const view = await this.host.request('stage/load', { stage: key });
      this.applyView(st, view, []);
      if (key === this.current) this.setStatus(`${st.stage.name}: ${plural(view.settings.length, 'setting')}, revision ${view.revision}.`);
    } catch (e) {
      this.showError(st, `Could not load ${st.stage.name}: ${(e as Error).message}`);
      if (key === this.current) this.setStatus('');
    } finally {
      st.busy = false;
      this.updateToolbar();
    }
  }

  /** Shows a (re)loaded view; drops only edits that cannot apply any more and says so. */
  private applyView(st: StageState, view: StageView, conflicts: string[]): void {
    const dropped = st.drafts.rebase(view, conflicts);
    st.view = view;
    st.editor.render(view);
    if (dropped.length > 0) {
      st.notice = `Your edits to ${dropped.join(', ')} were dropped: the setting was removed or changed by a publish.`;
    }
    if (st === this.currentState()) this.revision.textContent = `revision ${view.revision}`;
  }

  // ---- editing ------------------------------------------------------------------------------

  /** Saves every stage that has edits, one after the other; stops at the first that fails. */
  private async saveAll(): Promise<{ ok: boolean; message?: string }> {
    for (const st of [this.currentState(), ...this.perStage.values()]) {
      if (!st) continue;
      if (st.saving) await st.saving;
      if (st.drafts.size === 0) continue;
      if (!(await this.save(st))) return { ok: false, message: st.error ?? `${st.stage.name} could not be saved.` };
    }
    return { ok: true };
  }

  private save(st = this.currentState()): Promise<boolean> {
    if (!st?.view || st.busy || st.drafts.size === 0) return Promise.resolve(false);
    const saving = this.saveStage(st, st.view).finally(() => {
      if (st.saving === saving) st.saving = undefined;
    });
    st.saving = saving;
    return saving;
  }

  private async saveStage(st: StageState, view: StageView): Promise<boolean> {
    const invalid = st.drafts.invalidNames(view.settings);
    if (invalid.length > 0) {
      this.showError(st, `Fix ${plural(invalid.length, 'invalid value')} before saving: ${invalid.join(', ')}.`);
      if (st === this.currentState()) st.editor.focusRow(invalid[0]!);
      return false;
    }
    const changes = st.drafts.changes();
    st.busy = true;
    st.error = undefined;
    st.notice = undefined;
    this.renderBanner();
    this.setStatus(`Saving ${plural(changes.length, 'change')} to ${st.stage.name}…`);
    this.updateToolbar();
    try {
      const result = await this.host.request('stage/save', { stage: st.stage.key, changes });
      if (result.outcome === 'saved') {
        st.info.clear();
        st.drafts.discardAll(); // what was typed (secrets included) is gone from here on
        this.applyView(st, result.view, []);
        this.setStatus(`Saved ${plural(changes.length, 'change')} to ${st.stage.name}.`);
        return true;
      } else if (result.outcome === 'conflict') {
        st.info.clear();
        for (const name of result.conflicts) st.info.set(name, { conflict: true });
        this.applyView(st, result.view, result.conflicts);
        const kept = st.drafts.size;
        this.showError(
          st,
          `Nothing was saved: ${result.message} ${result.conflicts.join(', ')} ${result.conflicts.length === 1 ? 'was' : 'were'} reloaded with their new values` +
            (kept > 0 ? `; your ${plural(kept, 'other edit')} ${kept === 1 ? 'is' : 'are'} kept — review and save again.` : '.'),
        );
        this.setStatus('');
      } else {
        st.info.clear();
        for (const e of result.errors) st.info.set(e.name, { serverError: e.detail });
        st.editor.refresh();
        this.showError(st, `Nothing was saved: ${result.message}`);
        this.setStatus('');
        const first = result.errors[0];
        if (first) st.editor.focusRow(first.name);
      }
    } catch (e) {
      // Server down, refused, not signed in, no answer: every edit stays as typed.
      const err = e as HostError;
      const hint = err instanceof HostError && err.code === 'not-signed-in' ? '' : ' Your edits are kept; try again.';
      this.showError(st, `Not saved: ${err.message}${hint}`);
      this.setStatus('');
    } finally {
      st.busy = false;
      this.updateToolbar();
    }
    return false;
  }

  private async discard(): Promise<void> {
    const st = this.currentState();
    if (!st || st.drafts.size === 0) return;
    const n = st.drafts.size;
    // Discard asks first: what was typed cannot be brought back.
    const answer = await this.host.request('panel/confirmDiscard', { stage: st.stage.name, count: n }).catch(() => ({ discard: false }));
    if (!answer.discard) return;
    this.dropEdits(st);
    this.renderBanner();
    this.setStatus(`Discarded ${plural(n, 'edit')} in ${st.stage.name}.`);
    this.updateToolbar();
  }

  private dropEdits(st: StageState): void {
    st.drafts.discardAll();
    st.info.clear();
    st.editor.refresh();
    st.error = undefined;
  }

  // ---- chrome -------------------------------------------------------------------------------

  private updateToolbar(): void {
    const st = this.currentState();
    const count = st?.drafts.size ?? 0;
    const invalid = st?.view ? st.drafts.invalidNames(st.view.settings).length : 0;
    this.saveBtn.textContent = count > 0 ? `Save ${plural(count, 'change')}` : 'Save';
    this.saveBtn.disabled = !st?.view || st.busy || count === 0 || invalid > 0;
    this.saveBtn.title = invalid > 0 ? `Fix ${plural(invalid, 'invalid value')} first` : count > 0 ? `Save every edit in ${st?.stage.name} at once (Ctrl+S)` : 'No unsaved edits';
    this.discardBtn.disabled = !st || st.busy || count === 0;
    this.reloadBtn.disabled = !st || st.busy;
    const others = [...this.perStage.values()].filter((s) => s !== st && s.drafts.size > 0);
    this.otherStages.textContent = others.length ? `Unsaved in ${others.map((s) => `${s.stage.name} (${s.drafts.size})`).join(', ')}` : '';
    const total = [...this.perStage.values()].reduce((n, s) => n + s.drafts.size, 0);
    if (total !== this.lastDirty) {
      this.lastDirty = total;
      this.host.notify('webview/dirty', { count: total });
    }
  }

  private showError(st: StageState, message: string): void {
    st.error = message;
    if (st === this.currentState()) this.renderBanner();
  }

  private renderBanner(): void {
    const st = this.currentState();
    const message = this.initError ?? st?.error;
    toggle(this.error, !message && !st?.notice);
    setChildren(
      this.error,
      message ? h('div', {}, icon('error'), ' ', message) : null,
      st?.notice ? h('div', { class: 'notice' }, icon('info'), ' ', st.notice) : null,
      this.initError ? this.retryButton() : null,
    );
    if (st?.view) this.revision.textContent = `revision ${st.view.revision}`;
  }

  private retryButton(): VscodeButton {
    const b = h('vscode-button', { secondary: true, icon: 'refresh', 'data-action': 'retry' }, 'Retry');
    this.onClick(b, () => void this.init());
    return b;
  }

  private setStatus(text: string): void {
    this.status.textContent = text;
  }

  private async loadCoverage(): Promise<void> {
    toggle(this.coverageError, true);
    this.coverageRefresh.disabled = true;
    try {
      const view = await this.host.request('coverage/load', {});
      renderCoverage(this.coverageBody, view);
    } catch (e) {
      setChildren(this.coverageError, icon('error'), ` Could not load the coverage: ${(e as Error).message}`);
      toggle(this.coverageError, false);
    } finally {
      this.coverageRefresh.disabled = false;
    }
  }

  private onClick(b: VscodeButton, fn: () => void): void {
    b.addEventListener('click', () => {
      if (!b.disabled) fn();
    });
  }
}
