// The table of one stage's settings, virtualized: the row model (the stage's settings, the
// drafts, which secret editors are open) is complete, but only the rows near the viewport have
// DOM, and those DOM rows are recycled as the page scrolls. Rows have fixed heights (one for a
// closed row, one for a row with an open secret editor, per layout; styles.css), so the position
// of every row is known without rendering it.
//
// Edits live in the stage's drafts, not in the DOM, so a row scrolled out of view and back shows
// them again; the row holding the keyboard focus is never recycled while it has it.
//
// Secrets: the row shows `*****` when the stage has a value and a "Missing" marker when not; Set
// and Replace open an empty, masked multi-line field (never prefilled: the webview has no value
// to put there) with a "Show what I typed" toggle, off by default. It is a native <textarea>
// with autocomplete="off", so Chromium keeps no form state of it (session restore). What is
// typed lives in that field and in the stage's drafts until it is saved, discarded or the panel
// closes; a recycled row's fields are emptied.
import type { StageView, StageViewSetting } from '../common/protocol';
import { describeType } from '../common/values';
import { formatWhen, h, icon, setChildren, toggle } from './dom';
import type { StageDrafts } from './model';

export interface RowInfo {
  /** Someone else changed this setting; the user's edit of it was dropped at the last save. */
  conflict?: boolean;
  /** The server's reason for refusing the value at the last save (422). */
  serverError?: string;
}

export interface EditorContext {
  stageName: string;
  drafts: StageDrafts;
  info(name: string): RowInfo;
  /** A draft changed (typed, reset, cleared, undone). */
  changed(name: string): void;
  /** Pixels at the top of the viewport covered by the sticky toolbar. */
  stickyHeight(): number;
  /** Opens the setting's history in this stage (SPEC §12); no History button without it. */
  history?(name: string): void;
}

export interface RowFilter {
  text: string;
  missing: boolean;
  edited: boolean;
  invalid: boolean;
  due: boolean;
  /** Only these settings (Publish App's "Set the N new secrets…"); cleared like any filter. */
  names?: readonly string[];
}
export const NO_FILTER: RowFilter = { text: '', missing: false, edited: false, invalid: false, due: false };

/** Rows rendered beyond the viewport, above and below (px): scrolling a little needs no new rows. */
const OVERSCAN_PX = 320;

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

type ControlKind = 'text' | 'multiline' | 'boolean' | 'date' | 'secret';
const PICKER_TYPES: Partial<Record<StageViewSetting['type'], { input: string; step?: string; what: string }>> = {
  Date: { input: 'date', what: 'a date' },
  Time: { input: 'time', step: '1', what: 'a time' },
  DateTime: { input: 'datetime-local', step: '1', what: 'a date and time' },
};

function controlKind(s: StageViewSetting): ControlKind {
  if (s.isSecret) return 'secret';
  if (s.type === 'Boolean') return 'boolean';
  if (PICKER_TYPES[s.type]) return 'date';
  // Text may hold newlines (SPEC §2): a one-line <input> would turn them into spaces.
  return s.type === 'Text' ? 'multiline' : 'text';
}

/** Whether the setting has no effective value in the stage (a missing secret, or no value and no default). */
export function isMissing(s: StageViewSetting): boolean {
  return s.isSecret ? !s.hasValue : !s.hasValue && s.defaultValue === null;
}

function rowButton(action: string, label: string, iconName: string): HTMLButtonElement {
  return h('button', { type: 'button', class: 'row-btn', 'data-action': action }, icon(iconName), h('span', { class: 'row-btn-label' }, label));
}

function setButton(b: HTMLButtonElement, label: string, ariaLabel: string, action?: string): void {
  const l = b.querySelector('.row-btn-label');
  if (l && l.textContent !== label) l.textContent = label;
  if (b.getAttribute('aria-label') !== ariaLabel) b.setAttribute('aria-label', ariaLabel);
  if (action && b.dataset.action !== action) b.dataset.action = action;
}

let nextViewId = 1;

/** One DOM row, bound to one setting at a time. */
class RowView {
  readonly tr: HTMLElement;
  name: string | null = null;
  private readonly id = nextViewId++;
  private readonly nameCell = h('div', { class: 'cell name', role: 'rowheader' });
  private readonly typeCell = h('div', { class: 'cell type', role: 'cell' });
  private readonly valueCell = h('div', { class: 'cell value', role: 'cell' });
  private readonly defaultCell = h('div', { class: 'cell default', role: 'cell', 'data-role': 'default' });
  private readonly changedCell = h('div', { class: 'cell changed', role: 'cell', 'data-role': 'changed' });
  private readonly actionsCell = h('div', { class: 'cell actions', role: 'cell' });
  private readonly msg = h('div', { class: 'msg', 'data-role': 'message', id: `row-msg-${this.id}` });
  private kind: ControlKind | null = null;

  // Controls, made on first use and kept while the view is recycled.
  private text?: HTMLInputElement;
  private multiline?: HTMLTextAreaElement;
  private select?: HTMLSelectElement;
  private dateBox?: { wrap: HTMLElement; input: HTMLInputElement; picker: HTMLInputElement; button: HTMLButtonElement };
  private secret?: { state: HTMLElement; editor: HTMLElement; field: HTMLTextAreaElement; show: HTMLButtonElement; cancel: HTMLButtonElement };
  private readonly resetBtn = rowButton('reset', 'Reset', 'discard');
  private readonly undoBtn = rowButton('undo', 'Undo', 'reply');
  private readonly setBtn = rowButton('set', 'Set', 'key');
  private readonly clearBtn = rowButton('clear', 'Clear', 'trash');
  private readonly historyBtn = rowButton('history', 'History', 'history');

  constructor(private readonly editor: StageEditor) {
    this.tr = h('div', { class: 'grid-row', role: 'row' }, this.nameCell, this.typeCell, this.valueCell, this.defaultCell, this.changedCell, this.actionsCell);
    const act = (b: HTMLButtonElement, fn: (name: string) => void) =>
      b.addEventListener('click', () => {
        if (!b.disabled && this.name !== null) fn(this.name);
      });
    act(this.resetBtn, (n) => this.editor.clearValue(n, true));
    act(this.undoBtn, (n) => this.editor.undo(n, true));
    act(this.setBtn, (n) => this.editor.openSecret(n, true));
    act(this.clearBtn, (n) => this.editor.clearValue(n, true));
    act(this.historyBtn, (n) => this.editor.ctx.history?.(n));
  }

  get setting(): StageViewSetting | undefined {
    return this.name === null ? undefined : this.editor.setting(this.name);
  }

  hasFocus(): boolean {
    return this.tr.contains(document.activeElement);
  }

  place(pos: number, top: number, open: boolean): void {
    const t = `translateY(${top}px)`;
    if (this.tr.style.transform !== t) this.tr.style.transform = t;
    const idx = String(pos + 2); // the header row is 1
    if (this.tr.getAttribute('aria-rowindex') !== idx) this.tr.setAttribute('aria-rowindex', idx);
    this.tr.classList.toggle('open', open);
  }

  bind(name: string): void {
    if (this.name !== name) {
      this.wipe();
      this.name = name;
      this.tr.dataset.setting = name;
    }
    toggle(this.tr, false);
    this.render();
  }

  /** Unbinds the view: hidden, and every field emptied (a typed secret must not linger in a spare row). */
  release(): void {
    this.wipe();
    this.name = null;
    delete this.tr.dataset.setting;
    toggle(this.tr, true);
  }

  private wipe(): void {
    if (this.secret) this.secret.field.value = '';
    if (this.multiline) this.multiline.value = '';
    if (this.text) this.text.value = '';
    if (this.dateBox) this.dateBox.input.value = '';
  }

  /** Renders the bound setting's state (its data, its draft, its messages). */
  render(): void {
    const s = this.setting;
    if (!s) return;
    const ctx = this.editor.ctx;
    const edit = ctx.drafts.get(s.name);
    const info = ctx.info(s.name);
    const problem = ctx.drafts.problem(s);
    const invalid = !!(problem ?? (edit ? info.serverError : undefined));

    // Name, badges, and the row's state in words (not by colour alone).
    const marker = info.conflict ? { icon: 'warning', text: 'Conflict', cls: 'conflict' } : invalid ? { icon: 'error', text: 'Invalid', cls: 'invalid' } : edit ? { icon: 'circle-filled', text: 'Edited', cls: 'dirty' } : null;
    setChildren(
      this.nameCell,
      h('span', { class: 'setting-name', title: s.description || undefined }, s.name),
      s.isSecret ? h('span', { class: 'badge secret-badge', title: 'Is Secret: write-only, encrypted at rest' }, icon('lock'), 'Secret') : null,
      marker ? h('span', { class: `marker ${marker.cls}`, 'data-role': 'marker' }, icon(marker.icon), ` ${marker.text}`) : null,
      s.description ? h('span', { class: 'description', title: s.description }, s.description) : null,
    );
    this.tr.classList.toggle('dirty', !!edit);
    this.tr.classList.toggle('conflict', !!info.conflict);
    this.tr.classList.toggle('invalid', invalid);
    setChildren(this.typeCell, h('span', { title: `Expects ${describeType(s.type)}` }, s.type));
    if (s.isSecret) setChildren(this.defaultCell, h('span', { class: 'muted', title: 'A secret has no default value' }, 'n/a'));
    else if (s.defaultValue === null) setChildren(this.defaultCell, h('span', { class: 'muted', 'aria-hidden': 'true' }, '—'), h('span', { class: 'sr-only' }, 'no default'));
    else setChildren(this.defaultCell, h('code', {}, s.defaultValue));
    // Dates are formatted here, for the rows on screen only.
    setChildren(
      this.changedCell,
      s.updatedAt ? h('span', {}, s.updatedBy ?? 'unknown', ' ', h('time', { datetime: s.updatedAt, title: s.updatedAt, class: 'muted' }, formatWhen(s.updatedAt))) : h('span', { class: 'muted' }, 'never'),
    );

    const kind = controlKind(s);
    if (kind !== this.kind) {
      this.kind = kind;
      this.wipe();
      setChildren(this.valueCell, ...this.controlsFor(kind), this.msg);
      const history = this.editor.ctx.history ? [this.historyBtn] : [];
      setChildren(this.actionsCell, ...(kind === 'secret' ? [this.setBtn, this.clearBtn, this.undoBtn] : [this.resetBtn, this.undoBtn]), ...history);
    }
    if (kind === 'secret') this.renderSecret(s, invalid);
    else this.renderPlain(s, kind, invalid);

    // The row's message.
    let message: { kind: 'error' | 'warning' | 'info'; text: string } | null = null;
    if (problem) message = { kind: 'error', text: capitalize(problem) };
    else if (info.serverError && edit) message = { kind: 'error', text: info.serverError };
    else if (info.conflict) message = { kind: 'warning', text: s.isSecret ? 'Someone else changed this secret meanwhile, so what you typed was not saved. Set it again if needed.' : 'Someone else changed this meanwhile, so your edit was not saved. Their value is shown.' };
    else if (edit?.draft.kind === 'clear') message = { kind: 'info', text: s.isSecret ? 'The app will read null in this stage.' : s.defaultValue !== null ? 'Resets to the default on save.' : 'Removes the value on save (no default: reads as null).' };
    else if (edit && edit.baseVersion !== s.version) message = { kind: 'warning', text: 'Changed by someone else since you started editing; saving will be refused for this setting.' };
    else if (!edit && !s.hasValue) {
      if (s.isSecret) message = this.editor.isOpen(s.name) ? null : { kind: 'warning', text: 'No value in this stage: set it before the app runs here.' };
      else message = { kind: 'info', text: s.defaultValue !== null ? 'No value in this stage: the default applies.' : 'No value in this stage and no default: reads as null.' };
    }
    this.msg.className = `msg ${message?.kind ?? 'none'}`;
    setChildren(this.msg, message ? icon(message.kind === 'error' ? 'error' : message.kind === 'warning' ? 'warning' : 'info') : null, message ? ` ${message.text}` : null);
    this.msg.title = message?.text ?? '';
  }

  private controlsFor(kind: ControlKind): HTMLElement[] {
    const input = (el: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement, read: () => string) => {
      el.addEventListener(el instanceof HTMLSelectElement ? 'change' : 'input', () => {
        if (this.name !== null) this.editor.typed(this.name, read());
      });
      el.addEventListener('keydown', (e) => {
        if ((e as KeyboardEvent).key === 'Escape' && this.name !== null && this.editor.ctx.drafts.get(this.name)) {
          e.stopPropagation();
          this.editor.undo(this.name, true);
        }
      });
    };
    const common = { 'data-role': 'value', autocomplete: 'off', spellcheck: 'false', 'aria-describedby': this.msg.id };
    switch (kind) {
      case 'text':
        if (!this.text) {
          const t = h('input', { type: 'text', class: 'field', ...common });
          input(t, () => t.value);
          this.text = t;
        }
        return [this.text];
      case 'multiline':
        if (!this.multiline) {
          const t = h('textarea', { class: 'field multiline', rows: 1, ...common });
          input(t, () => t.value);
          this.multiline = t;
        }
        return [this.multiline];
      case 'boolean':
        if (!this.select) {
          const sel = h('select', { class: 'field', 'data-role': 'value', 'aria-describedby': this.msg.id }, h('option', { value: '' }, ''), h('option', { value: 'True' }, 'True'), h('option', { value: 'False' }, 'False'));
          input(sel, () => sel.value);
          this.select = sel;
        }
        return [this.select];
      case 'date':
        if (!this.dateBox) {
          const t = h('input', { type: 'text', class: 'field', ...common });
          input(t, () => t.value);
          // The native picker, driven by the button; the text field stays the place to type.
          const picker = h('input', { type: 'date', class: 'native-picker', tabindex: -1, 'aria-hidden': 'true' });
          const button = h('button', { type: 'button', class: 'row-btn icon-only', 'data-action': 'pick' }, icon('calendar'));
          button.addEventListener('click', () => {
            const s = this.setting;
            const spec = s && PICKER_TYPES[s.type];
            if (!s || !spec) return;
            picker.type = spec.input;
            if (spec.step) picker.step = spec.step;
            else picker.removeAttribute('step');
            picker.value = pickerValue(s.type, t.value);
            try {
              picker.showPicker();
            } catch {
              t.focus(); // no picker here (or not allowed): typing still works
            }
          });
          picker.addEventListener('change', () => {
            const s = this.setting;
            if (!s || !picker.value) return;
            t.value = fromPicker(s.type, picker.value);
            if (this.name !== null) this.editor.typed(this.name, t.value);
            t.focus();
          });
          this.dateBox = { wrap: h('div', { class: 'date-box' }, t, button, picker), input: t, picker, button };
        }
        return [this.dateBox.wrap];
      case 'secret':
        if (!this.secret) {
          const field = h('textarea', {
            class: 'field secret-field masked',
            'data-role': 'secret-input',
            rows: 4,
            autocomplete: 'off',
            autocapitalize: 'off',
            autocorrect: 'off',
            spellcheck: 'false',
            translate: 'no',
            'aria-describedby': this.msg.id,
          });
          field.addEventListener('input', () => {
            if (this.name !== null) this.editor.typed(this.name, field.value);
          });
          field.addEventListener('keydown', (e) => {
            if (e.key === 'Escape' && this.name !== null) {
              e.stopPropagation();
              this.editor.cancelSecret(this.name, true);
            }
          });
          const show = rowButton('show', 'Show what I typed', 'eye');
          show.setAttribute('aria-pressed', 'false');
          show.addEventListener('click', () => this.name !== null && this.editor.toggleShown(this.name));
          const cancel = rowButton('cancel', 'Cancel', 'close');
          cancel.addEventListener('click', () => this.name !== null && this.editor.cancelSecret(this.name, true));
          this.secret = {
            state: h('div', { class: 'secret-state', 'data-role': 'secret-state' }),
            editor: h('div', { class: 'secret-editor' }, field, h('div', { class: 'secret-editor-actions' }, show, cancel)),
            field,
            show,
            cancel,
          };
        }
        return [this.secret.state, this.secret.editor];
    }
  }

  private renderPlain(s: StageViewSetting, kind: ControlKind, invalid: boolean): void {
    const ctx = this.editor.ctx;
    const edit = ctx.drafts.get(s.name);
    const wanted = !edit ? (s.value ?? '') : edit.draft.kind === 'clear' ? '' : edit.draft.value;
    const label = `Value of ${s.name} in ${ctx.stageName}`;
    const placeholder = s.defaultValue !== null ? `${s.defaultValue} (default)` : 'no value';
    let field: HTMLInputElement | HTMLTextAreaElement | HTMLSelectElement;
    if (kind === 'boolean') {
      const sel = this.select!;
      const none = sel.options[0]!;
      none.textContent = s.defaultValue !== null ? `${s.defaultValue} (default)` : 'No value (null)';
      field = sel;
    } else if (kind === 'date') {
      field = this.dateBox!.input;
      const what = PICKER_TYPES[s.type]?.what ?? 'a value';
      setButton(this.dateBox!.button, '', `Pick ${what} for ${s.name}`);
      this.dateBox!.button.title = `Pick ${what}`;
    } else field = kind === 'multiline' ? this.multiline! : this.text!;
    if (field.value !== wanted) field.value = wanted;
    if (!(field instanceof HTMLSelectElement)) field.placeholder = placeholder;
    if (field.getAttribute('aria-label') !== label) field.setAttribute('aria-label', label);
    field.classList.toggle('invalid', invalid);
    if (invalid) field.setAttribute('aria-invalid', 'true');
    else field.removeAttribute('aria-invalid');
    setButton(this.resetBtn, 'Reset', `Reset ${s.name} to ${s.defaultValue !== null ? 'the default' : 'no value'}`);
    this.resetBtn.title = "Remove this stage's value: the default applies";
    this.resetBtn.disabled = (!s.hasValue && !edit) || edit?.draft.kind === 'clear';
    setButton(this.undoBtn, 'Undo', `Undo the edit of ${s.name}`);
    setButton(this.historyBtn, 'History', `History of ${s.name}`);
    toggle(this.undoBtn, !edit);
  }

  private renderSecret(s: StageViewSetting, invalid: boolean): void {
    const ctx = this.editor.ctx;
    const sec = this.secret!;
    const edit = ctx.drafts.get(s.name);
    const open = this.editor.isOpen(s.name);
    if (edit?.draft.kind === 'set') {
      setChildren(sec.state, h('span', { class: 'pending' }, icon('edit'), s.hasValue ? ' Replaced on save' : ' Set on save'));
    } else if (edit?.draft.kind === 'clear') {
      setChildren(sec.state, h('span', { class: 'pending' }, icon('trash'), ' Cleared on save'));
    } else if (s.hasValue) {
      // The mask is shown, the words are read: "Set, value hidden" (no aria-label on a bare span).
      setChildren(sec.state, h('span', { class: 'mask', 'aria-hidden': 'true', title: 'Set (the value is never shown)' }, s.value ?? ''), h('span', { class: 'sr-only' }, 'Set, value hidden'));
    } else {
      setChildren(sec.state, h('span', { class: 'missing', 'data-role': 'missing' }, icon('warning'), ' Missing'));
    }
    toggle(sec.editor, !open);
    const wanted = edit?.draft.kind === 'set' ? edit.draft.value : '';
    if (sec.field.value !== wanted) sec.field.value = wanted;
    const shown = this.editor.isShown(s.name);
    sec.field.classList.toggle('masked', !shown);
    sec.show.setAttribute('aria-pressed', String(shown));
    setButton(sec.show, shown ? 'Hide what I typed' : 'Show what I typed', `${shown ? 'Hide' : 'Show'} what I typed for ${s.name}`);
    const icn = sec.show.querySelector('.codicon');
    if (icn) icn.className = `codicon codicon-${shown ? 'eye-closed' : 'eye'}`;
    setButton(sec.cancel, 'Cancel', `Cancel the new value of ${s.name}`);
    sec.field.setAttribute('aria-label', `New value of secret ${s.name} in ${ctx.stageName}`);
    sec.field.placeholder = s.hasValue ? 'type or paste the new value (replaces the current one)' : 'type or paste the value';
    sec.field.classList.toggle('invalid', invalid);
    if (invalid) sec.field.setAttribute('aria-invalid', 'true');
    else sec.field.removeAttribute('aria-invalid');

    setButton(this.setBtn, s.hasValue ? 'Replace' : 'Set', `${s.hasValue ? 'Replace' : 'Set'} ${s.name}`, s.hasValue ? 'replace' : 'set');
    setButton(this.clearBtn, 'Clear', `Clear ${s.name}`);
    this.clearBtn.title = "Remove this stage's value";
    setButton(this.undoBtn, 'Undo', `Undo the edit of ${s.name}`);
    setButton(this.historyBtn, 'History', `History of ${s.name}`);
    toggle(this.setBtn, open);
    toggle(this.clearBtn, !s.hasValue || open || edit?.draft.kind === 'clear');
    toggle(this.undoBtn, edit?.draft.kind !== 'clear');
  }

  /** Focuses the row's main control (the secret field when open, else its first action). */
  focus(): void {
    const s = this.setting;
    if (!s) return;
    if (s.isSecret) {
      if (this.editor.isOpen(s.name)) this.secret?.field.focus();
      else if (!this.setBtn.hidden) this.setBtn.focus();
      else this.undoBtn.focus();
      return;
    }
    const f = this.kind === 'boolean' ? this.select : this.kind === 'date' ? this.dateBox?.input : this.kind === 'multiline' ? this.multiline : this.text;
    f?.focus();
  }
}

/** What a Date/Time/DateTime text holds, in the native picker's format (or '' when it is not one). */
function pickerValue(type: StageViewSetting['type'], text: string): string {
  if (type === 'Date') return /^\d{4}-\d{2}-\d{2}$/.test(text) ? text : '';
  if (type === 'Time') return /^\d{2}:\d{2}(:\d{2})?$/.test(text) ? text : '';
  const m = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2})?)/.exec(text);
  return m ? m[1]! : '';
}

/** The picker's value in the setting's syntax (SPEC §2: seconds always, no offset added). */
function fromPicker(type: StageViewSetting['type'], v: string): string {
  if (type === 'Date') return v;
  if (type === 'Time') return v.length === 5 ? `${v}:00` : v;
  return v.length === 16 ? `${v}:00` : v;
}

export class StageEditor {
  readonly element: HTMLElement;
  readonly ctx: EditorContext;
  private readonly body = h('div', { class: 'rows', role: 'rowgroup' });
  private readonly empty = h('p', { class: 'empty', hidden: true });
  private settings: StageViewSetting[] = [];
  private readonly byName = new Map<string, StageViewSetting>();
  /** The settings shown (the filter applied), in the server's order. */
  private order: string[] = [];
  private readonly positionOf = new Map<string, number>();
  /** tops[i]: the y of row i in the list; tops[order.length]: the list's height. */
  private tops = new Float64Array(1);
  private readonly open = new Set<string>();
  private readonly shown = new Set<string>();
  private readonly bound = new Map<string, RowView>();
  private readonly spare: RowView[] = [];
  private filter: RowFilter = NO_FILTER;
  private metrics = { row: 0, openRow: 0, narrow: false };
  private attached = false;
  private scheduled = false;
  view: StageView | undefined;

  constructor(ctx: EditorContext) {
    this.ctx = ctx;
    const header = h(
      'div',
      { role: 'rowgroup', class: 'head' },
      h('div', { class: 'grid-row head-row', role: 'row', 'aria-rowindex': 1 }, ...['Name', 'Type', 'Value', 'Default', 'Last changed', 'Actions'].map((t) => h('div', { class: 'cell', role: 'columnheader' }, t))),
    );
    this.element = h('div', { class: 'stage-editor', 'data-stage-editor': '', role: 'table', 'aria-label': `Settings in ${ctx.stageName}`, 'aria-rowcount': 1 }, header, this.body, this.empty);
    const onViewport = () => this.schedule();
    // The page scrolls (the toolbar is sticky); rows follow the window's scroll and size.
    window.addEventListener('scroll', () => this.attached && this.update(), { passive: true });
    window.addEventListener('resize', onViewport);
  }

  /** Called when the editor's element is put into (or taken out of) the page. */
  setAttached(attached: boolean): void {
    this.attached = attached;
    if (attached) this.layout();
  }

  setting(name: string): StageViewSetting | undefined {
    return this.byName.get(name);
  }

  render(view: StageView): void {
    this.view = view;
    this.settings = view.settings;
    this.byName.clear();
    for (const s of view.settings) this.byName.set(s.name, s);
    for (const name of [...this.open]) {
      const s = this.byName.get(name);
      if (!s || !s.isSecret) this.open.delete(name);
    }
    this.applyFilter();
  }

  /** Re-renders the rows on screen (after drafts changed outside the rows: Discard, save). */
  refresh(): void {
    for (const v of this.bound.values()) v.render();
  }

  setFilter(f: RowFilter): void {
    this.filter = f;
    this.applyFilter();
  }

  /** How many settings the filter shows, of how many. */
  counts(): { shown: number; total: number; due: boolean } {
    return { shown: this.order.length, total: this.settings.length, due: this.settings.some((s) => s.dueForRotation !== undefined) };
  }

  /** Recomputes which settings show (on a new view or filter; not on every keystroke, so a row being edited does not vanish). */
  applyFilter(): void {
    const f = this.filter;
    const text = f.text.trim().toLowerCase();
    const any = f.missing || f.edited || f.invalid || f.due;
    const drafts = this.ctx.drafts;
    this.order = [];
    for (const s of this.settings) {
      if (f.names && !f.names.includes(s.name)) continue;
      if (text && !s.name.toLowerCase().includes(text) && !s.description.toLowerCase().includes(text)) continue;
      if (any) {
        const hit =
          (f.missing && isMissing(s)) ||
          (f.edited && drafts.get(s.name) !== undefined) ||
          (f.invalid && (drafts.problem(s) !== undefined || (drafts.get(s.name) !== undefined && this.ctx.info(s.name).serverError !== undefined))) ||
          (f.due && s.dueForRotation === true);
        if (!hit) continue;
      }
      this.order.push(s.name);
    }
    this.positionOf.clear();
    this.order.forEach((n, i) => this.positionOf.set(n, i));
    this.element.setAttribute('aria-rowcount', String(this.order.length + 1));
    setChildren(
      this.empty,
      this.settings.length === 0 ? 'This app has no settings yet. Define them in odc-app.json and run "ODC: Publish App".' : 'No setting matches the filter.',
    );
    toggle(this.empty, this.order.length > 0 || !this.view);
    this.layout();
  }

  isOpen(name: string): boolean {
    return this.open.has(name);
  }
  isShown(name: string): boolean {
    return this.shown.has(name);
  }

  // ---- row actions (called by the row views) --------------------------------------------------

  typed(name: string, text: string): void {
    const s = this.byName.get(name);
    if (!s) return;
    this.ctx.drafts.setText(s, text);
    this.changed(name);
  }

  clearValue(name: string, focus: boolean): void {
    const s = this.byName.get(name);
    if (!s) return;
    this.closeSecret(name);
    this.ctx.drafts.clear(s);
    this.changed(name);
    if (focus) this.bound.get(name)?.focus();
  }

  undo(name: string, focus: boolean): void {
    this.ctx.drafts.revert(name);
    this.changed(name);
    if (focus) this.bound.get(name)?.focus();
  }

  openSecret(name: string, focus: boolean): void {
    const s = this.byName.get(name);
    if (!s?.isSecret) return;
    if (this.ctx.drafts.get(name)?.draft.kind === 'clear') this.ctx.drafts.revert(name);
    this.shown.delete(name);
    this.open.add(name);
    this.layout();
    this.changed(name);
    if (focus) this.bound.get(name)?.focus();
  }

  cancelSecret(name: string, focus: boolean): void {
    this.closeSecret(name);
    this.ctx.drafts.revert(name);
    this.changed(name);
    if (focus) this.bound.get(name)?.focus();
  }

  toggleShown(name: string): void {
    if (this.shown.has(name)) this.shown.delete(name);
    else this.shown.add(name);
    this.bound.get(name)?.render();
  }

  /** Closes secret editors and forgets what they held (after a save, Discard, a conflict). */
  closeEditors(names?: Iterable<string>): void {
    for (const n of names ?? [...this.open]) this.closeSecret(n);
    this.layout();
  }

  private closeSecret(name: string): void {
    if (!this.open.delete(name)) return;
    this.shown.delete(name);
    this.layout();
  }

  private changed(name: string): void {
    this.bound.get(name)?.render();
    this.ctx.changed(name);
  }

  // ---- navigation -----------------------------------------------------------------------------

  /** Brings a setting's row into view and focuses it (clearing a filter that hides it); opens a secret's editor when asked. */
  focusRow(name: string, opts: { openSecret?: boolean } = {}): void {
    if (!this.byName.has(name)) return;
    if (!this.positionOf.has(name)) {
      this.filter = NO_FILTER;
      this.applyFilter();
      this.onFilterReset?.();
    }
    if (opts.openSecret && this.byName.get(name)!.isSecret && !this.open.has(name)) {
      if (this.ctx.drafts.get(name)?.draft.kind === 'clear') this.ctx.drafts.revert(name);
      this.open.add(name);
      this.layout();
    }
    this.scrollToRow(name);
    this.update();
    const v = this.bound.get(name);
    v?.render();
    v?.focus();
  }

  /** Set by the app: the filter was cleared by focusRow (the filter bar shows it). */
  onFilterReset?: () => void;

  private scrollToRow(name: string): void {
    const pos = this.positionOf.get(name);
    if (pos === undefined) return;
    const listTop = this.body.getBoundingClientRect().top + window.scrollY;
    const top = listTop + this.tops[pos]!;
    const bottom = listTop + this.tops[pos + 1]!;
    const visibleTop = window.scrollY + this.ctx.stickyHeight();
    const visibleBottom = window.scrollY + window.innerHeight;
    if (top < visibleTop) window.scrollTo(0, top - this.ctx.stickyHeight() - 8);
    else if (bottom > visibleBottom) window.scrollTo(0, bottom - window.innerHeight + 8);
  }

  // ---- the virtual list -----------------------------------------------------------------------

  private readMetrics(): void {
    const cs = getComputedStyle(this.element);
    const px = (v: string, d: number) => {
      const n = parseFloat(v);
      return Number.isFinite(n) && n > 0 ? n : d;
    };
    this.metrics = {
      row: px(cs.getPropertyValue('--row-h'), 72),
      openRow: px(cs.getPropertyValue('--row-open-h'), 180),
      narrow: cs.getPropertyValue('--narrow').trim() === '1',
    };
  }

  /** Recomputes every row's position (heights changed: a secret editor opened or closed, the layout, the filter). */
  private layout(): void {
    if (!this.attached) return;
    this.readMetrics();
    const n = this.order.length;
    const tops = new Float64Array(n + 1);
    const { row, openRow } = this.metrics;
    for (let i = 0; i < n; i++) tops[i + 1] = tops[i]! + (this.open.has(this.order[i]!) ? openRow : row);
    this.tops = tops;
    this.body.style.height = `${tops[n]}px`;
    this.update(true);
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      if (this.attached) this.layout();
    });
  }

  /** First position whose row ends below y. */
  private positionAt(y: number): number {
    let lo = 0;
    let hi = this.order.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.tops[mid + 1]! <= y) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Binds DOM rows to the settings in (or near) the viewport; releases the others. */
  private update(rerender = false): void {
    if (!this.attached) return;
    const listTop = this.body.getBoundingClientRect().top;
    const from = Math.max(0, -listTop - OVERSCAN_PX);
    const to = -listTop + window.innerHeight + OVERSCAN_PX;
    const first = this.positionAt(from);
    let last = first;
    while (last < this.order.length && this.tops[last]! < to) last++;
    const wanted = new Set<string>();
    for (let i = first; i < last; i++) wanted.add(this.order[i]!);
    // The focused row stays (focus, caret and selection survive scrolling it out and back).
    for (const [name, v] of this.bound) if (v.hasFocus() && this.positionOf.has(name)) wanted.add(name);

    for (const [name, v] of this.bound) {
      if (wanted.has(name)) continue;
      v.release();
      this.bound.delete(name);
      this.spare.push(v);
    }
    for (const name of wanted) {
      const pos = this.positionOf.get(name)!;
      let v = this.bound.get(name);
      if (!v) {
        v = this.spare.pop() ?? this.newView();
        this.bound.set(name, v);
        v.bind(name);
      } else if (rerender) v.render();
      v.place(pos, this.tops[pos]!, this.open.has(name));
    }
    this.orderDom();
  }

  /**
   * Keeps the rows' DOM order the visual order (Tab order and screen readers follow the DOM),
   * without moving the row that holds the focus: moving a focused node would blur it.
   */
  private orderDom(): void {
    const views = [...this.bound.values()].sort((a, b) => this.positionOf.get(a.name!)! - this.positionOf.get(b.name!)!);
    let cursor: ChildNode | null = this.body.firstChild;
    for (const v of views) {
      if (v.hasFocus()) {
        cursor = v.tr.nextSibling;
        continue;
      }
      if (cursor === v.tr) cursor = cursor.nextSibling;
      else this.body.insertBefore(v.tr, cursor);
    }
  }

  private newView(): RowView {
    const v = new RowView(this);
    this.body.append(v.tr);
    return v;
  }
}
