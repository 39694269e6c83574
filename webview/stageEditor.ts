// The table of one stage's settings. Rows are kept per setting name and patched in place, so a
// reload or a save never takes an input (or the keyboard focus) away from the user.
//
// Secrets: the row shows `*****` when the stage has a value and a "Missing" marker when not; Set
// and Replace open an empty password field (never prefilled: the webview has no value to put
// there); what is typed lives in that field and in the stage's drafts until it is saved,
// discarded or the panel closes, and is wiped from both as soon as the save succeeds.
import type { VscodeTextfield } from '@vscode-elements/elements/dist/vscode-textfield/vscode-textfield.js';
import type { StageSetting } from '../common/api';
import type { StageView } from '../common/protocol';
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
}

/**
 * A row action: a native <button> styled like a secondary vscode-button (styles.css). With
 * thousands of rows, one web component per action made the first render take seconds.
 */
function button(label: string, action: string, opts: { icon?: string; title?: string } = {}): HTMLButtonElement {
  return h('button', { type: 'button', class: 'row-btn', 'data-action': action, title: opts.title }, opts.icon ? icon(opts.icon) : null, h('span', { class: 'row-btn-label' }, label));
}

function setLabel(b: HTMLButtonElement, label: string): void {
  const l = b.querySelector('.row-btn-label');
  if (l && l.textContent !== label) l.textContent = label;
}

function onActivate(b: HTMLButtonElement, fn: () => void): void {
  b.addEventListener('click', () => {
    if (!b.disabled) fn();
  });
}

const capitalize = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

abstract class Row {
  readonly tr: HTMLTableRowElement;
  protected readonly valueCell = h('td', { class: 'value', role: 'cell' });
  protected readonly actionsCell = h('td', { class: 'actions', role: 'cell' });
  protected readonly msg = h('div', { class: 'msg', 'data-role': 'message', 'aria-live': 'polite' });
  private readonly nameCell = h('th', { scope: 'row', class: 'name', role: 'rowheader' });
  private readonly typeCell = h('td', { class: 'type', role: 'cell' });
  private readonly defaultCell = h('td', { class: 'default', 'data-role': 'default', role: 'cell' });
  private readonly changedCell = h('td', { class: 'changed', 'data-role': 'changed', role: 'cell' });

  constructor(
    protected setting: StageSetting,
    protected readonly ctx: EditorContext,
  ) {
    this.tr = h('tr', { 'data-setting': setting.name, role: 'row' }, this.nameCell, this.typeCell, this.valueCell, this.defaultCell, this.changedCell, this.actionsCell);
  }

  get isSecret(): boolean {
    return this.setting.isSecret;
  }

  setSetting(s: StageSetting): void {
    this.setting = s;
    this.render();
  }

  render(): void {
    const s = this.setting;
    this.tr.title = '';
    setChildren(
      this.nameCell,
      h('span', { class: 'setting-name', title: s.description || undefined }, s.name),
      s.isSecret ? h('span', { class: 'badge secret-badge', title: 'Is Secret: write-only, encrypted at rest' }, icon('lock'), 'Secret') : null,
      s.description ? h('span', { class: 'description-hint', title: s.description }, icon('info')) : null,
      s.description ? h('span', { class: 'sr-only' }, `. ${s.description}`) : null,
    );
    setChildren(this.typeCell, h('span', { title: `Expects ${describeType(s.type)}` }, s.type));
    if (s.isSecret) setChildren(this.defaultCell, h('span', { class: 'muted', title: 'A secret has no default value' }, 'n/a'));
    else if (s.defaultValue === null) setChildren(this.defaultCell, h('span', { class: 'muted' }, '—'), h('span', { class: 'sr-only' }, 'no default'));
    else setChildren(this.defaultCell, h('code', {}, s.defaultValue));
    setChildren(
      this.changedCell,
      s.updatedAt ? h('span', {}, s.updatedBy ?? 'unknown', h('br'), h('time', { datetime: s.updatedAt, title: s.updatedAt, class: 'muted' }, formatWhen(s.updatedAt))) : h('span', { class: 'muted' }, 'never'),
    );
    const edit = this.ctx.drafts.get(s.name);
    const info = this.ctx.info(s.name);
    this.tr.classList.toggle('dirty', !!edit);
    this.tr.classList.toggle('conflict', !!info.conflict);
    this.renderValue();
  }

  protected setMessage(kind: 'error' | 'warning' | 'info' | 'none', text = ''): void {
    this.msg.className = `msg ${kind}`;
    this.tr.classList.toggle('invalid', kind === 'error');
    setChildren(this.msg, kind === 'none' ? null : icon(kind === 'error' ? 'error' : kind === 'warning' ? 'warning' : 'info'), kind === 'none' ? null : ` ${text}`);
  }

  /** Focuses the row's main input (or first action). */
  abstract focus(): void;
  protected abstract renderValue(): void;
  abstract dispose(): void;
}

/**
 * A non-secret row. Its value field starts as a plain <input> (cheap: thousands of rows render
 * at once); it becomes a vscode-textfield when the row nears the viewport (`upgrade`, called by
 * the editor's IntersectionObserver) or when it gets the focus. What is typed lives in the
 * stage's drafts, so the swap loses nothing.
 */
class PlainRow extends Row {
  private field: HTMLInputElement | VscodeTextfield;
  private readonly resetBtn = button('Reset to default', 'reset', { icon: 'discard', title: "Remove this stage's value: the default applies" });
  private readonly undoBtn = button('Undo', 'undo', { icon: 'reply', title: 'Undo this edit' });

  constructor(setting: StageSetting, ctx: EditorContext) {
    super(setting, ctx);
    const plain = h('input', { type: 'text', class: 'plain-field', 'data-role': 'value', autocomplete: 'off', spellcheck: 'false' });
    plain.value = setting.value ?? '';
    plain.addEventListener('focus', () => this.upgrade(true));
    this.field = plain;
    this.listen(plain);
    onActivate(this.resetBtn, () => {
      this.ctx.drafts.clear(this.setting);
      this.ctx.changed(this.setting.name);
      this.render();
      this.focus();
    });
    onActivate(this.undoBtn, () => {
      this.undo();
      this.focus();
    });
    this.valueCell.append(this.field, this.msg);
    this.actionsCell.append(this.resetBtn, this.undoBtn);
    this.render();
  }

  private listen(f: HTMLElement & { value: string }): void {
    f.addEventListener('input', () => {
      this.ctx.drafts.setText(this.setting, f.value);
      this.ctx.changed(this.setting.name);
      this.render();
    });
    f.addEventListener('keydown', (e) => {
      if (e.key === 'Escape' && this.ctx.drafts.get(this.setting.name)) {
        e.stopPropagation();
        this.undo();
      }
    });
  }

  /** Replaces the plain input by a vscode-textfield (once), keeping its value and the focus. */
  upgrade(focus = false): void {
    const plain = this.field;
    if (!(plain instanceof HTMLInputElement)) return;
    const hadFocus = focus || document.activeElement === plain;
    const f = h('vscode-textfield', { 'data-role': 'value', autocomplete: 'off', spellcheck: 'false' });
    f.value = plain.value;
    this.listen(f);
    this.field = f;
    this.renderValue();
    plain.replaceWith(f);
    if (hadFocus) void f.updateComplete.then(() => f.focus());
  }

  private undo(): void {
    this.ctx.drafts.revert(this.setting.name);
    this.ctx.changed(this.setting.name);
    this.render();
  }

  protected renderValue(): void {
    const s = this.setting;
    const edit = this.ctx.drafts.get(s.name);
    const info = this.ctx.info(s.name);
    const wanted = !edit ? (s.value ?? '') : edit.draft.kind === 'clear' ? '' : null;
    if (wanted !== null && this.field.value !== wanted) this.field.value = wanted;
    const label = `Value of ${s.name} in ${this.ctx.stageName}`;
    const placeholder = s.defaultValue !== null ? `${s.defaultValue} (default)` : 'no value';
    const problem = this.ctx.drafts.problem(s);
    const invalid = !!(problem ?? (!edit ? undefined : info.serverError));
    if (this.field instanceof HTMLInputElement) {
      this.field.setAttribute('aria-label', label);
      this.field.placeholder = placeholder;
      this.field.classList.toggle('invalid', invalid);
      if (invalid) this.field.setAttribute('aria-invalid', 'true');
      else this.field.removeAttribute('aria-invalid');
    } else {
      this.field.label = label;
      this.field.placeholder = placeholder;
      this.field.invalid = invalid;
    }
    if (problem) this.setMessage('error', capitalize(problem));
    else if (info.serverError) this.setMessage('error', info.serverError);
    else if (info.conflict) this.setMessage('warning', 'Someone else changed this meanwhile, so your edit was not saved. Their value is shown.');
    else if (edit?.draft.kind === 'clear') this.setMessage('info', s.defaultValue !== null ? 'Resets to the default on save.' : 'Removes the value on save (no default: reads as null).');
    else if (edit && edit.baseVersion !== s.version) this.setMessage('warning', 'Changed by someone else since you started editing; saving will be refused for this setting.');
    else if (!edit && !s.hasValue) this.setMessage('info', s.defaultValue !== null ? 'No value in this stage: the default applies.' : 'No value in this stage and no default: reads as null.');
    else this.setMessage('none');
    this.resetBtn.disabled = (!s.hasValue && !edit) || edit?.draft.kind === 'clear';
    toggle(this.undoBtn, !edit);
  }

  focus(): void {
    this.field.focus();
  }

  dispose(): void {
    this.tr.remove();
  }
}

class SecretRow extends Row {
  private readonly state = h('div', { class: 'secret-state', 'data-role': 'secret-state' });
  private readonly editor = h('div', { class: 'secret-editor', hidden: true });
  private field: VscodeTextfield | undefined;
  private readonly setBtn = button('Set', 'set', { icon: 'key' });
  private readonly clearBtn = button('Clear', 'clear', { icon: 'trash', title: "Remove this stage's value" });
  private readonly undoBtn = button('Undo', 'undo', { icon: 'reply', title: 'Undo this edit' });
  private readonly cancelBtn = button('Cancel', 'cancel', { icon: 'close', title: 'Close without setting a value' });

  constructor(setting: StageSetting, ctx: EditorContext) {
    super(setting, ctx);
    onActivate(this.setBtn, () => this.open());
    onActivate(this.cancelBtn, () => {
      this.close();
      this.ctx.drafts.revert(this.setting.name);
      this.ctx.changed(this.setting.name);
      this.render();
      this.setBtn.focus();
    });
    onActivate(this.clearBtn, () => {
      this.close();
      this.ctx.drafts.clear(this.setting);
      this.ctx.changed(this.setting.name);
      this.render();
      this.undoBtn.focus();
    });
    onActivate(this.undoBtn, () => {
      this.ctx.drafts.revert(this.setting.name);
      this.ctx.changed(this.setting.name);
      this.render();
      this.setBtn.focus();
    });
    this.editor.append(this.cancelBtn);
    this.valueCell.append(this.state, this.editor, this.msg);
    this.actionsCell.append(this.setBtn, this.clearBtn, this.undoBtn);
    this.render();
  }

  /** Opens an empty password field. It is never prefilled: there is no value here to prefill. */
  private open(): void {
    if (this.ctx.drafts.get(this.setting.name)?.draft.kind === 'clear') this.ctx.drafts.revert(this.setting.name);
    if (!this.field) {
      const f = h('vscode-textfield', { type: 'password', 'data-role': 'secret-input', autocomplete: 'new-password', spellcheck: 'false' });
      f.value = '';
      f.addEventListener('input', () => {
        this.ctx.drafts.setText(this.setting, f.value);
        this.ctx.changed(this.setting.name);
        this.render();
      });
      f.addEventListener('keydown', (e) => {
        if (e.key === 'Escape') {
          e.stopPropagation();
          this.cancelBtn.click();
        }
      });
      this.editor.prepend(f);
      this.field = f;
    }
    toggle(this.editor, false);
    this.ctx.changed(this.setting.name);
    this.render();
    const f = this.field;
    void f.updateComplete.then(() => f.focus());
  }

  /** Removes the password field and what was typed in it. */
  private close(): void {
    if (this.field) {
      this.field.value = '';
      this.field.remove();
      this.field = undefined;
    }
    toggle(this.editor, true);
  }

  protected renderValue(): void {
    const s = this.setting;
    const edit = this.ctx.drafts.get(s.name);
    const info = this.ctx.info(s.name);
    // The draft went away without the user touching this field (saved, discarded, conflict): wipe it.
    if (this.field && !edit && this.field.value !== '') this.close();
    if (this.field) this.field.label = `New value of secret ${s.name} in ${this.ctx.stageName}`;
    if (this.field) this.field.placeholder = s.hasValue ? 'type the new value (replaces the current one)' : 'type the value';

    if (edit?.draft.kind === 'set') {
      setChildren(this.state, h('span', { class: 'pending' }, icon('edit'), s.hasValue ? ' Replaced on save' : ' Set on save'));
    } else if (edit?.draft.kind === 'clear') {
      setChildren(this.state, h('span', { class: 'pending' }, icon('trash'), ' Cleared on save'));
    } else if (s.hasValue) {
      setChildren(this.state, h('span', { class: 'mask', 'aria-label': 'set, value hidden', title: 'Set (the value is never shown)' }, s.value ?? ''));
    } else {
      setChildren(this.state, h('span', { class: 'missing', 'data-role': 'missing' }, icon('warning'), ' Missing'));
    }

    const problem = this.ctx.drafts.problem(s);
    if (this.field) this.field.invalid = !!(problem ?? (edit ? info.serverError : undefined));
    if (problem) this.setMessage('error', capitalize(problem));
    else if (info.serverError && edit) this.setMessage('error', info.serverError);
    else if (info.conflict) this.setMessage('warning', 'Someone else changed this secret meanwhile, so what you typed was not saved. Set it again if needed.');
    else if (edit?.draft.kind === 'clear') this.setMessage('info', 'The app will read null in this stage.');
    else if (edit && edit.baseVersion !== s.version) this.setMessage('warning', 'Changed by someone else since you started editing; saving will be refused for this setting.');
    else if (!edit && !s.hasValue && !this.field) this.setMessage('warning', 'No value in this stage: set it before the app runs here.');
    else this.setMessage('none');

    setLabel(this.setBtn, s.hasValue ? 'Replace' : 'Set');
    this.setBtn.dataset.action = s.hasValue ? 'replace' : 'set';
    toggle(this.setBtn, !!this.field);
    toggle(this.clearBtn, !s.hasValue || !!this.field || edit?.draft.kind === 'clear');
    toggle(this.undoBtn, edit?.draft.kind !== 'clear');
  }

  focus(): void {
    if (this.field) this.field.focus();
    else this.setBtn.focus();
  }

  dispose(): void {
    this.close();
    this.tr.remove();
  }
}

export class StageEditor {
  readonly element: HTMLElement;
  private readonly tbody = h('tbody', { role: 'rowgroup' });
  private readonly empty = h('p', { class: 'empty', hidden: true }, 'This app has no settings yet. Define them in odc-app.json and run "ODC: Publish App".');
  private readonly rows = new Map<string, Row>();
  private readonly byTr = new WeakMap<Element, PlainRow>();
  /** Upgrades the value fields of the rows near the viewport (see PlainRow). */
  private readonly observer =
    typeof IntersectionObserver === 'function'
      ? new IntersectionObserver(
          (entries) => {
            for (const e of entries) {
              if (!e.isIntersecting) continue;
              this.byTr.get(e.target)?.upgrade();
              this.observer?.unobserve(e.target);
            }
          },
          { rootMargin: '400px 0px' },
        )
      : undefined;
  view: StageView | undefined;

  constructor(private readonly ctx: EditorContext) {
    const table = h(
      'table',
      // Roles spelled out: styles.css lays the rows out as grids (see there), not as a CSS table.
      { class: 'settings', role: 'table', 'aria-label': `Settings in ${ctx.stageName}` },
      h(
        'thead',
        { role: 'rowgroup' },
        h('tr', { role: 'row' }, ...['Name', 'Type', 'Value', 'Default', 'Last changed', 'Actions'].map((t) => h('th', { scope: 'col', role: 'columnheader' }, t))),
      ),
      this.tbody,
    );
    this.element = h('div', { class: 'stage-editor', 'data-stage-editor': '' }, table, this.empty);
  }

  render(view: StageView): void {
    this.view = view;
    const seen = new Set<string>();
    // The row now at the position being filled. (Not tbody.children[i]: after each insertion that
    // walks the list from the start again, quadratic with thousands of rows.)
    let cursor: Element | null = this.tbody.firstElementChild;
    view.settings.forEach((s) => {
      seen.add(s.name);
      let row = this.rows.get(s.name);
      if (row && row.isSecret !== s.isSecret) {
        if (cursor === row.tr) cursor = cursor.nextElementSibling;
        this.observer?.unobserve(row.tr);
        row.dispose();
        row = undefined;
      }
      if (!row) {
        if (s.isSecret) row = new SecretRow(s, this.ctx);
        else {
          const plain = new PlainRow(s, this.ctx);
          if (this.observer) {
            this.byTr.set(plain.tr, plain);
            this.observer.observe(plain.tr);
          } else plain.upgrade();
          row = plain;
        }
        this.rows.set(s.name, row);
      } else {
        row.setSetting(s);
      }
      // Move only when out of place: moving a node would take the focus from its input.
      if (cursor === row.tr) cursor = cursor.nextElementSibling;
      else this.tbody.insertBefore(row.tr, cursor);
    });
    for (const [name, row] of this.rows) {
      if (!seen.has(name)) {
        this.observer?.unobserve(row.tr);
        row.dispose();
        this.rows.delete(name);
      }
    }
    toggle(this.empty, view.settings.length > 0);
  }

  /** Re-renders every row (after drafts changed outside the rows: Discard, save). */
  refresh(): void {
    for (const row of this.rows.values()) row.render();
  }

  focusRow(name: string): void {
    this.rows.get(name)?.focus();
  }
}
