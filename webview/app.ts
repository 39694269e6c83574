// The Stage Values panel: a stage selector, the stage's settings with unsaved edits collected
// per stage, one Save for all of them (one request, one PATCH, all or nothing), Discard, a
// filter, and the coverage tab. Edits survive every failure: a refused or failed save changes
// nothing here but the error shown; a 409 reloads only the conflicting settings' values.
import type { VscodeButton } from '@vscode-elements/elements/dist/vscode-button/vscode-button.js';
import type { VscodeTabs } from '@vscode-elements/elements/dist/vscode-tabs/vscode-tabs.js';
import type { Stage } from '../common/api';
import type { AppRef, ErrorCode, PROTOCOL_VERSION, RunnableCommand, StageView } from '../common/protocol';
import { ComparePanel } from './compare';
import { renderCoverage } from './coverage';
import { HistoryDialog } from './history';
import { h, icon, setChildren, toggle } from './dom';
import { HostError, type HostConnection } from './host';
import { StageDrafts } from './model';
import { NO_FILTER, StageEditor, type RowFilter, type RowInfo } from './stageEditor';

/** An error to show, with what the user can do about it. */
interface Problem {
  message: string;
  code?: ErrorCode | 'no-answer';
  status?: number;
}

interface StageState {
  stage: Stage;
  drafts: StageDrafts;
  editor: StageEditor;
  view?: StageView;
  info: Map<string, RowInfo>;
  busy: boolean;
  /** The save in flight, if any: a save VS Code asks for (host/save) waits for it. */
  saving?: Promise<boolean>;
  error?: Problem;
  notice?: string;
}

// A literal, not an import: the protocol module's runtime part (zod) stays out of the bundle.
// Typed against it, so a version bump there fails the webview's type-check until updated here.
const PROTOCOL: typeof PROTOCOL_VERSION = 1;

const plural = (n: number, one: string, many = `${one}s`) => `${n.toLocaleString('en-US')} ${n === 1 ? one : many}`;

function toProblem(prefix: string, e: unknown): Problem {
  const err = e as HostError;
  return { message: `${prefix}${err.message}`, ...(err instanceof HostError ? { code: err.code, ...(err.status !== undefined ? { status: err.status } : {}) } : {}) };
}

/** The command that fixes a problem, as a banner button (SPEC: banners are not dead ends). */
function fixFor(p: Problem): { command: RunnableCommand; label: string; icon: string } | undefined {
  if (p.code === 'not-signed-in' || (p.code === 'http' && (p.status === 401 || p.status === 403))) {
    return { command: 'odcSettings.signIn', label: p.code === 'not-signed-in' ? 'Sign In' : 'Sign In with Another Token', icon: 'account' };
  }
  if (p.code === 'http' && p.status === 404) return { command: 'odcSettings.publishApp', label: 'Publish App', icon: 'cloud-upload' };
  if (p.code === 'unreachable' || p.code === 'timeout' || p.code === 'invalid-response') return { command: 'odcSettings.openServerSettings', label: 'Open Settings', icon: 'settings-gear' };
  if (p.code === 'internal') return { command: 'odcSettings.showLog', label: 'Show Log', icon: 'output' };
  return undefined;
}

const FILTER_TOGGLES: Array<{ key: Exclude<keyof RowFilter, 'text'>; label: string; title: string }> = [
  { key: 'missing', label: 'Missing', title: 'Only settings with no value in this stage (missing secrets, no value and no default)' },
  { key: 'edited', label: 'Edited', title: 'Only settings with unsaved edits' },
  { key: 'invalid', label: 'Invalid', title: 'Only settings whose edit is not valid' },
  { key: 'due', label: 'Due', title: 'Only secrets due for rotation' },
];

export class StageValuesApp {
  private app: AppRef | undefined;
  private stages: Stage[] = [];
  private current: string | null = null;
  private readonly perStage = new Map<string, StageState>();
  private lastDirty = -1;
  /** Why the panel could not start (not signed in, server down, app not published). */
  private initError: Problem | undefined;
  private filter: RowFilter = NO_FILTER;

  // layout
  private readonly title = h('h1', {}, 'Stage Values');
  private readonly stageSelect = h('vscode-single-select', { id: 'stage-select' });
  private readonly saveBtn = h('vscode-button', { id: 'save', icon: 'save', disabled: true }, 'Save');
  private readonly discardBtn = h('vscode-button', { id: 'discard', secondary: true, icon: 'discard', disabled: true }, 'Discard');
  private readonly reloadBtn = h('vscode-button', { id: 'reload', secondary: true, icon: 'refresh', title: "Reload this stage's values (your edits stay)" }, 'Reload');
  private readonly revision = h('span', { class: 'muted', id: 'revision' });
  private readonly otherStages = h('span', { class: 'muted', id: 'other-stages' });
  private readonly filterInput = h('input', { type: 'search', id: 'filter', class: 'field filter-field', placeholder: 'Filter by name or description (Ctrl+F)', 'aria-label': 'Filter settings by name or description', autocomplete: 'off', spellcheck: 'false' });
  private readonly toggleBtns = new Map<string, HTMLButtonElement>();
  private readonly filterCount = h('span', { class: 'muted', id: 'filter-count' });
  /** Shown while only named settings show (Publish App's "Set the N new secrets…"). */
  private readonly onlyText = h('span', {});
  private readonly onlyClear = h('button', { type: 'button', class: 'row-btn', id: 'only-clear' }, 'Show all settings');
  private readonly onlyNote = h('span', { id: 'only-note', class: 'only-note', hidden: true }, icon('filter'), ' ', this.onlyText, ' ', this.onlyClear);
  private readonly sticky: HTMLElement;
  private readonly error = h('div', { id: 'error', class: 'banner error', role: 'alert', hidden: true });
  /** The page's one polite live region. */
  private readonly status = h('div', { id: 'status', class: 'status', role: 'status', 'aria-live': 'polite' });
  private readonly editorHost = h('div', { id: 'editor' });
  private readonly coverageBody = h('div', { id: 'coverage' });
  private readonly coverageError = h('div', { id: 'coverage-error', class: 'banner error', role: 'alert', hidden: true });
  private readonly coverageRefresh = h('vscode-button', { id: 'coverage-refresh', secondary: true, icon: 'refresh' }, 'Refresh');
  private readonly tabs: VscodeTabs;
  private readonly compare: ComparePanel;

  constructor(
    private readonly root: HTMLElement,
    private readonly host: HostConnection,
  ) {
    const toggles = FILTER_TOGGLES.map((t) => {
      const b = h('button', { type: 'button', class: 'row-btn filter-toggle', 'data-filter': t.key, 'aria-pressed': 'false', title: t.title }, icon('filter'), ` ${t.label}`);
      b.addEventListener('click', () => {
        this.setFilter({ ...this.filter, [t.key]: !this.filter[t.key] });
      });
      this.toggleBtns.set(t.key, b);
      return b;
    });
    this.sticky = h(
      'div',
      { class: 'sticky' },
      h(
        'div',
        { class: 'toolbar', role: 'toolbar', 'aria-label': 'Stage values' },
        h('span', { id: 'stage-select-label', class: 'label', 'aria-hidden': 'true' }, 'Stage'),
        this.stageSelect,
        this.revision,
        h('span', { class: 'spacer' }),
        this.otherStages,
        this.reloadBtn,
        this.discardBtn,
        this.saveBtn,
      ),
      h('div', { class: 'filterbar', role: 'search' }, this.filterInput, h('span', { class: 'toggles', role: 'group', 'aria-label': 'Show only' }, ...toggles), this.onlyNote, this.filterCount),
    );
    this.tabs = h(
      'vscode-tabs',
      { 'selected-index': 0 },
      h('vscode-tab-header', { slot: 'header', 'data-tab': 'values' }, 'Values'),
      h('vscode-tab-panel', {}, this.sticky, this.error, this.status, this.editorHost),
      h('vscode-tab-header', { slot: 'header', 'data-tab': 'coverage' }, 'Coverage'),
      h(
        'vscode-tab-panel',
        {},
        h(
          'div',
          { class: 'toolbar' },
          h('span', { class: 'muted' }, 'Every setting in every stage, by status. No values are shown here. Choose a cell to open that setting in its stage.'),
          h('span', { class: 'spacer' }),
          this.coverageRefresh,
        ),
        this.coverageError,
        this.coverageBody,
      ),
      h('vscode-tab-header', { slot: 'header', 'data-tab': 'compare' }, 'Compare'),
      h('vscode-tab-panel', {}, (this.compare = this.comparePanel()).element),
    );
    this.stageSelect.label = 'Stage';
    this.stageSelect.addEventListener('change', () => {
      const key = this.stageSelect.value;
      if (key && key !== this.current) void this.showStage(key);
    });
    this.filterInput.addEventListener('input', () => this.setFilter({ ...this.filter, text: this.filterInput.value }));
    this.filterInput.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && this.filterInput.value) {
        e.stopPropagation();
        this.filterInput.value = '';
        this.setFilter({ ...this.filter, text: '' });
      }
    });
    this.onlyClear.addEventListener('click', () => {
      const { names: _dropped, ...rest } = this.filter;
      this.setFilter(rest);
      this.filterInput.focus();
    });
    this.onClick(this.saveBtn, () => void this.save());
    this.onClick(this.discardBtn, () => void this.discard());
    this.onClick(this.reloadBtn, () => this.current && void this.loadStage(this.current));
    this.onClick(this.coverageRefresh, () => void this.loadCoverage());
    this.tabs.addEventListener('vsc-tabs-select', (e) => {
      const index = (e as CustomEvent<{ selectedIndex: number }>).detail.selectedIndex;
      this.currentState()?.editor.setAttached(index === 0);
      if (index === 1) void this.loadCoverage();
      if (index === 2) void this.compare.load();
    });
    document.addEventListener('keydown', (e) => {
      const mod = (e.ctrlKey || e.metaKey) && !e.shiftKey && !e.altKey;
      if (mod && e.key.toLowerCase() === 's') {
        e.preventDefault();
        if (this.tabs.selectedIndex === 0) void this.save();
      } else if (mod && e.key.toLowerCase() === 'f') {
        e.preventDefault();
        this.tabs.selectedIndex = 0;
        this.currentState()?.editor.setAttached(true);
        this.filterInput.focus();
        this.filterInput.select();
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
    host.on('host/showStage', ({ stage, settings }) => {
      if (settings?.length) {
        this.tabs.selectedIndex = 0;
        this.setFilter({ ...NO_FILTER, names: settings });
      }
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
      const { app, stages, stage, view, only } = await this.host.request('panel/init', {});
      if (only?.length) this.setFilter({ ...NO_FILTER, names: only }, false);
      this.app = app;
      this.stages = stages;
      this.compare.setStages(stages);
      for (const s of stages) {
        const st = this.perStage.get(s.key);
        if (st) st.stage = s;
      }
      setChildren(this.title, 'Stage Values: ', app.name, ' ', h('span', { class: 'muted app-key' }, `(${app.key})`));
      const first = this.current && stages.some((s) => s.key === this.current) ? this.current : stage;
      this.initError = undefined;
      await this.renderStageOptions(first);
      this.renderBanner();
      if (first) {
        // The host sent the first stage's settings with its answer: no second round trip.
        if (view && view.stage === first) {
          const st = this.stateFor(first);
          this.applyView(st, view, []);
          await this.showStage(first);
          this.loadedStatus(st, view);
        } else await this.showStage(first, true);
      } else this.setStatus('The server has no stages configured.');
      if (this.tabs.selectedIndex === 1) await this.loadCoverage();
    } catch (e) {
      // Keep every edit; offer what fixes it (sign in, check the server address, publish).
      this.initError = toProblem('Cannot open the stage values: ', e);
      this.renderBanner();
      this.setStatus('');
    } finally {
      this.root.removeAttribute('aria-busy');
    }
  }

  /**
   * (Re)builds the stage dropdown with `selected` on the stage shown. vscode-single-select reads
   * its options when their slot changes, after this returns: without `selected` it would fall
   * back to the first option and display it while the table showed another stage.
   */
  private async renderStageOptions(selected: string | null): Promise<void> {
    const existing = [...this.stageSelect.querySelectorAll('vscode-option')].map((o) => `${o.getAttribute('value')}\u0000${o.textContent}`);
    const wanted = this.stages.map((s) => `${s.key}\u0000${s.name}`);
    if (existing.join('\u0001') !== wanted.join('\u0001')) {
      setChildren(this.stageSelect, ...this.stages.map((s) => h('vscode-option', { value: s.key, selected: s.key === selected }, s.name)));
    }
    await this.syncSelect(selected);
  }

  /** Makes the dropdown display `key` (its value and its visible label). */
  private async syncSelect(key: string | null): Promise<void> {
    for (const o of this.stageSelect.querySelectorAll('vscode-option')) {
      const on = o.getAttribute('value') === key;
      (o as HTMLElement & { selected: boolean }).selected = on;
      if (on) o.setAttribute('selected', '');
      else o.removeAttribute('selected');
    }
    await this.stageSelect.updateComplete;
    if (key !== null && this.stageSelect.value !== key) this.stageSelect.value = key;
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
        stickyHeight: () => this.sticky.getBoundingClientRect().height,
        history: (name) => void this.openHistory(key, name),
      });
      editor.onFilterReset = () => this.setFilter(NO_FILTER, false);
      st = { stage, drafts, editor, info, busy: false };
      this.perStage.set(key, st);
    }
    return st;
  }

  private currentState(): StageState | undefined {
    return this.current ? this.perStage.get(this.current) : undefined;
  }

  private async showStage(key: string, load = false): Promise<void> {
    const previous = this.currentState();
    const changed = key !== this.current;
    this.current = key;
    const st = this.stateFor(key);
    await this.syncSelect(key);
    if (changed) {
      previous?.editor.setAttached(false);
      setChildren(this.editorHost, st.editor.element);
      st.editor.setFilter(this.filter);
      st.editor.setAttached(this.tabs.selectedIndex === 0);
      this.revision.textContent = st.view ? `revision ${st.view.revision}` : '';
      this.renderFilterBar();
    }
    this.renderBanner();
    this.updateToolbar();
    if (load || (!st.view && !st.busy)) await this.loadStage(key);
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
      this.loadedStatus(st, view);
    } catch (e) {
      this.showError(st, toProblem(`Could not load ${st.stage.name}: `, e));
      if (key === this.current) this.setStatus('');
    } finally {
      st.busy = false;
      this.updateToolbar();
    }
  }

  private loadedStatus(st: StageState, view: StageView): void {
    if (st === this.currentState()) this.setStatus(`${st.stage.name}: ${plural(view.settings.length, 'setting')}, revision ${view.revision}.`);
  }

  /** Shows a (re)loaded view; drops only edits that cannot apply any more and says so. */
  private applyView(st: StageState, view: StageView, conflicts: string[]): void {
    const dropped = st.drafts.rebase(view, conflicts);
    st.view = view;
    st.editor.render(view);
    if (dropped.length > 0) {
      st.notice = `Your edits to ${dropped.join(', ')} were dropped: the setting was removed or changed by a publish.`;
    }
    if (st === this.currentState()) {
      this.revision.textContent = `revision ${view.revision}`;
      this.renderFilterBar();
    }
  }

  // ---- filter -------------------------------------------------------------------------------

  private setFilter(f: RowFilter, apply = true): void {
    this.filter = f;
    if (this.filterInput.value !== f.text) this.filterInput.value = f.text;
    if (apply) this.currentState()?.editor.setFilter(f);
    this.renderFilterBar();
  }

  private renderFilterBar(): void {
    for (const [key, b] of this.toggleBtns) b.setAttribute('aria-pressed', String(this.filter[key as keyof RowFilter] === true));
    const st = this.currentState();
    const c = st?.editor.counts();
    toggle(this.toggleBtns.get('due')!, !c?.due);
    const names = this.filter.names;
    this.onlyText.textContent = names ? `Only ${names.length === 1 ? 'the new secret' : `the ${names.length} new secrets`}: ${names.join(', ')}` : '';
    toggle(this.onlyNote, !names);
    this.filterCount.textContent = !c ? '' : c.shown === c.total ? plural(c.total, 'setting') : `${c.shown.toLocaleString('en-US')} of ${plural(c.total, 'setting')}`;
  }

  /** Opens a setting's row in a stage, ready to type (a coverage cell's action). */
  private async openRow(stageKey: string, name: string): Promise<void> {
    this.tabs.selectedIndex = 0;
    await this.showStage(stageKey);
    const st = this.stateFor(stageKey);
    st.editor.setAttached(true);
    st.editor.focusRow(name, { openSecret: true });
    this.setStatus(`${name} in ${st.stage.name}.`);
  }

  // ---- editing ------------------------------------------------------------------------------

  /** Saves every stage that has edits, one after the other; stops at the first that fails. */
  private async saveAll(): Promise<{ ok: boolean; message?: string }> {
    for (const st of [this.currentState(), ...this.perStage.values()]) {
      if (!st) continue;
      if (st.saving) await st.saving;
      if (st.drafts.size === 0) continue;
      if (!(await this.save(st))) return { ok: false, message: st.error?.message ?? `${st.stage.name} could not be saved.` };
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
      this.showError(st, { message: `Fix ${plural(invalid.length, 'invalid value')} before saving: ${invalid.join(', ')}.` });
      if (st === this.currentState()) st.editor.focusRow(invalid[0]!);
      return false;
    }
    const changes = st.drafts.changes();
    // The target is the state's own stage, the one the dropdown, the table and this line show.
    const target = st.stage;
    st.busy = true;
    st.error = undefined;
    st.notice = undefined;
    this.renderBanner();
    this.setStatus(`Saving ${plural(changes.length, 'change')} to ${target.name}…`);
    this.updateToolbar();
    try {
      const result = await this.host.request('stage/save', { stage: target.key, changes });
      if (result.outcome === 'saved') {
        st.info.clear();
        st.drafts.discardAll(); // what was typed (secrets included) is gone from here on
        st.editor.closeEditors();
        this.applyView(st, result.view, []);
        this.setStatus(`Saved ${plural(changes.length, 'change')} to ${target.name}.`);
        return true;
      } else if (result.outcome === 'conflict') {
        st.info.clear();
        for (const name of result.conflicts) st.info.set(name, { conflict: true });
        st.editor.closeEditors(result.conflicts);
        this.applyView(st, result.view, result.conflicts);
        const kept = st.drafts.size;
        this.showError(st, {
          message:
            `Nothing was saved: ${result.message} ${result.conflicts.join(', ')} ${result.conflicts.length === 1 ? 'was' : 'were'} reloaded with their new values` +
            (kept > 0 ? `; your ${plural(kept, 'other edit')} ${kept === 1 ? 'is' : 'are'} kept — review and save again.` : '.'),
        });
        this.setStatus('');
      } else {
        st.info.clear();
        for (const e of result.errors) st.info.set(e.name, { serverError: e.detail });
        st.editor.refresh();
        this.showError(st, { message: `Nothing was saved: ${result.message}` });
        this.setStatus('');
        const first = result.errors[0];
        if (first) st.editor.focusRow(first.name);
      }
    } catch (e) {
      // Server down, refused, not signed in, no answer: every edit stays as typed.
      const p = toProblem('Not saved: ', e);
      this.showError(st, { ...p, message: p.code === 'not-signed-in' ? p.message : `${p.message} Your edits are kept; try again.` });
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
    st.editor.closeEditors();
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

  private showError(st: StageState, problem: Problem): void {
    st.error = problem;
    if (st === this.currentState()) this.renderBanner();
  }

  private renderBanner(): void {
    const st = this.currentState();
    const problem = this.initError ?? st?.error;
    toggle(this.error, !problem && !st?.notice);
    const fix = problem && fixFor(problem);
    setChildren(
      this.error,
      problem ? h('div', {}, icon('error'), ' ', problem.message) : null,
      st?.notice ? h('div', { class: 'notice' }, icon('info'), ' ', st.notice) : null,
      problem ? h('div', { class: 'banner-actions' }, fix ? this.commandButton(fix) : null, this.initError ? this.retryButton() : this.reloadButton()) : null,
    );
  }

  private commandButton(fix: { command: RunnableCommand; label: string; icon: string }): VscodeButton {
    const b = h('vscode-button', { icon: fix.icon, 'data-action': 'command', 'data-command': fix.command }, fix.label);
    this.onClick(b, () => {
      void this.host.request('command/run', { command: fix.command }).then(
        (r) => {
          if (!r.ran) this.setStatus(`Run "${fix.label}" from the Command Palette (ODC).`);
        },
        (e: unknown) => this.setStatus(`Could not run ${fix.label}: ${(e as Error).message}`),
      );
    });
    return b;
  }

  private retryButton(): VscodeButton {
    const b = h('vscode-button', { secondary: true, icon: 'refresh', 'data-action': 'retry' }, 'Retry');
    this.onClick(b, () => void this.init());
    return b;
  }

  private reloadButton(): VscodeButton | null {
    const st = this.currentState();
    if (!st || st.view) return null; // a failed save: the Save button is the retry
    const b = h('vscode-button', { secondary: true, icon: 'refresh', 'data-action': 'retry' }, 'Retry');
    this.onClick(b, () => this.current && void this.loadStage(this.current));
    return b;
  }

  private setStatus(text: string): void {
    this.status.textContent = text;
  }

  // ---- history and compare (SPEC §12, §13) ----------------------------------------------------

  private async openHistory(stageKey: string, name: string): Promise<void> {
    const st = this.stateFor(stageKey);
    const dialog = new HistoryDialog(
      { name, stageName: st.stage.name },
      {
        load: () => this.host.request('value/history', { stage: stageKey, name }),
        restore: (version, baseVersion) => this.host.request('value/restore', { stage: stageKey, name, version, baseVersion }),
        restored: (result, version) => {
          this.applyView(st, result.view, []);
          this.setStatus(`Restored version ${version} of ${name} in ${st.stage.name}.`);
        },
      },
    );
    await dialog.open();
  }

  private comparePanel(): ComparePanel {
    return new ComparePanel({
      load: (stages) => this.host.request('compare/load', { stages }),
      preview: (from, to) => this.host.request('promote/preview', { from, to }),
      apply: (from, to, baseVersions) => this.host.request('promote/apply', { from, to, baseVersions }),
      promoted: (to) => {
        // The target's values changed under any open view of it: reload (unsaved edits stay).
        if (this.perStage.get(to)?.view) void this.loadStage(to);
      },
    });
  }

  private async loadCoverage(): Promise<void> {
    toggle(this.coverageError, true);
    this.coverageRefresh.disabled = true;
    try {
      const view = await this.host.request('coverage/load', {});
      renderCoverage(this.coverageBody, view, (stage, name) => void this.openRow(stage, name));
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
