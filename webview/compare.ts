// Compare (SPEC §13): two or more stages side by side: each setting's status per stage, the
// value for a non-secret, equal or different (secrets by the portal's keyed fingerprints, which
// never reach here), the warnings, and "Promote QA → Production…": the dry run's preview first,
// then the apply with the versions it was previewed against (all or nothing).
import type { Stage } from '../common/api';
import type { CompareView, PromoteResult, PromoteView } from '../common/protocol';
import { h, icon, setChildren } from './dom';

export interface CompareActions {
  load(stages: string[]): Promise<CompareView>;
  preview(from: string, to: string): Promise<PromoteView>;
  apply(from: string, to: string, baseVersions: Record<string, number>): Promise<PromoteResult>;
  /** After a promote: the target stage's values changed (reload it). */
  promoted(to: string): void;
}

const STATUS: Record<string, string> = { own: 'Set', default: 'Default', missing: 'Missing', unset: 'Unset' };

export class ComparePanel {
  readonly element: HTMLElement;
  private stages: Stage[] = [];
  private readonly chosen = new Set<string>();
  private readonly pickers = h('span', { class: 'compare-stages', role: 'group', 'aria-label': 'Stages to compare' });
  private readonly table = h('div', { class: 'compare-table' });
  private readonly warnings = h('div', { class: 'compare-warnings' });
  private readonly promoteBar = h('div', { class: 'toolbar promote-bar' });
  private readonly preview = h('div', { class: 'promote-preview' });
  private readonly error = h('div', { class: 'banner error', role: 'alert', hidden: true });
  private readonly fromSelect = h('select', { class: 'field', 'aria-label': 'Promote from', 'data-role': 'promote-from' });
  private readonly toSelect = h('select', { class: 'field', 'aria-label': 'Promote to', 'data-role': 'promote-to' });
  private readonly promoteBtn = h('button', { type: 'button', class: 'row-btn', 'data-action': 'promote-preview' });

  constructor(private readonly actions: CompareActions) {
    this.fromSelect.addEventListener('change', () => this.updatePromoteLabel());
    this.toSelect.addEventListener('change', () => this.updatePromoteLabel());
    this.promoteBtn.addEventListener('click', () => void this.showPreview());
    setChildren(
      this.promoteBar,
      h('span', { class: 'label' }, 'Promote'),
      this.fromSelect,
      icon('arrow-right'),
      this.toSelect,
      this.promoteBtn,
    );
    this.element = h(
      'div',
      { class: 'compare', id: 'compare' },
      h('div', { class: 'toolbar' }, h('span', { class: 'label' }, 'Stages'), this.pickers, h('span', { class: 'muted' }, "Secrets are compared inside the portal: equal or different, never their values.")),
      this.error,
      this.warnings,
      this.table,
      this.promoteBar,
      this.preview,
    );
  }

  /** Sets the stages the token may read; the first time, compares the last two (e.g. QA and Production). */
  setStages(stages: Stage[]): void {
    this.stages = stages;
    for (const k of [...this.chosen]) if (!stages.some((s) => s.key === k)) this.chosen.delete(k);
    if (this.chosen.size < 2) for (const s of stages.slice(-2)) this.chosen.add(s.key);
    setChildren(
      this.pickers,
      ...stages.map((s) => {
        const box = h('input', { type: 'checkbox', id: `cmp-${s.key}`, 'data-stage': s.key });
        box.checked = this.chosen.has(s.key);
        box.addEventListener('change', () => {
          if (box.checked) this.chosen.add(s.key);
          else this.chosen.delete(s.key);
          void this.load();
        });
        return h('label', { class: 'compare-stage', for: `cmp-${s.key}` }, box, ` ${s.name}`);
      }),
    );
    const options = (sel: HTMLSelectElement, pick: string | undefined) => {
      setChildren(sel, ...stages.map((s) => h('option', { value: s.key }, s.name)));
      if (pick) sel.value = pick;
    };
    options(this.fromSelect, stages[stages.length - 2]?.key);
    options(this.toSelect, stages[stages.length - 1]?.key);
    this.updatePromoteLabel();
  }

  private name(key: string): string {
    return this.stages.find((s) => s.key === key)?.name ?? key;
  }

  private updatePromoteLabel(): void {
    this.promoteBtn.textContent = `Promote ${this.name(this.fromSelect.value)} → ${this.name(this.toSelect.value)}…`;
    this.promoteBtn.disabled = this.fromSelect.value === this.toSelect.value;
  }

  private showError(text: string | null): void {
    this.error.hidden = text === null;
    setChildren(this.error, ...(text === null ? [] : [icon('error'), ` ${text}`]));
  }

  async load(): Promise<void> {
    const stages = this.stages.filter((s) => this.chosen.has(s.key)).map((s) => s.key);
    if (stages.length < 2) {
      setChildren(this.table, h('p', { class: 'empty' }, 'Choose two or more stages to compare.'));
      setChildren(this.warnings);
      return;
    }
    this.showError(null);
    try {
      this.render(await this.actions.load(stages));
    } catch (e) {
      this.showError(`Could not compare: ${(e as Error).message}`);
    }
  }

  private render(view: CompareView): void {
    const different = view.settings.filter((s) => !s.equal).length;
    const head = h('tr', {}, h('th', { scope: 'col' }, 'Setting'), ...view.stages.map((s) => h('th', { scope: 'col', 'data-stage': s.key }, s.name)), h('th', { scope: 'col' }, 'Across stages'));
    const rows = view.settings.map((s) =>
      h(
        'tr',
        { 'data-setting': s.name, class: s.equal ? 'equal' : 'different' },
        h('th', { scope: 'row' }, s.name, s.isSecret ? h('span', { class: 'badge secret-badge' }, icon('lock'), 'Secret') : null),
        ...view.stages.map((st) => {
          const c = s.cells[st.key];
          if (!c) return h('td', {}, h('span', { class: 'muted' }, 'n/a'));
          return h(
            'td',
            { 'data-stage': st.key, 'data-status': c.status },
            h('span', { class: `cov ${c.status === 'own' ? 'set' : c.status}` }, STATUS[c.status] ?? c.status),
            !s.isSecret && c.value !== undefined && c.value !== null ? h('code', { class: 'compare-value' }, c.value) : null,
            s.isSecret && c.status === 'own' ? h('span', { class: 'masked' }, ' *****') : null,
            c.sameAs ? h('div', { class: 'msg warning', 'data-role': 'same-as' }, icon('warning'), ` same as ${this.name(c.sameAs)}`) : null,
            c.dueForRotation ? h('div', { class: 'msg warning', 'data-role': 'due' }, icon('clock'), ' rotation due') : null,
          );
        }),
        h('td', { 'data-role': 'equal' }, s.equal ? h('span', {}, icon('pass'), ' Equal') : h('span', { class: 'different' }, icon('diff'), ' Different')),
      ),
    );
    setChildren(
      this.table,
      h('p', { class: 'muted' }, `${view.settings.length} settings, ${different} different.`),
      h('table', { class: 'coverage compare-grid', 'aria-label': `Compare ${view.stages.map((s) => s.name).join(', ')}` }, h('thead', {}, head), h('tbody', {}, ...rows)),
    );
    setChildren(
      this.warnings,
      ...(view.warnings.length === 0
        ? []
        : [
            h('h3', {}, `Warnings (${view.warnings.length})`),
            h('ul', { class: 'warnings', 'aria-label': 'Warnings' }, ...view.warnings.map((w) => h('li', { 'data-kind': w.kind, 'data-setting': w.setting }, icon(w.kind === 'rotation-due' ? 'clock' : 'warning'), ` ${w.detail}`))),
          ]),
    );
  }

  private async showPreview(): Promise<void> {
    const from = this.fromSelect.value;
    const to = this.toSelect.value;
    this.showError(null);
    setChildren(this.preview, h('p', { class: 'muted' }, 'Preparing the preview…'));
    let p: PromoteView;
    try {
      p = await this.actions.preview(from, to);
    } catch (e) {
      setChildren(this.preview);
      this.showError(`Could not preview the promote: ${(e as Error).message}`);
      return;
    }
    const shown = (v: string | null | undefined) => (v === null || v === undefined ? h('span', { class: 'muted' }, 'none') : h('code', {}, v));
    const items = p.changes.map((c) =>
      h(
        'li',
        { 'data-setting': c.name, 'data-action': c.action },
        h('strong', {}, c.name),
        c.isSecret ? ' (secret): copied inside the portal' : c.action === 'clear' ? ': back to the default ' : ': ',
        c.isSecret ? null : h('span', {}, shown(c.fromValue), ' → ', shown(c.toValue)),
      ),
    );
    const apply = h('button', { type: 'button', class: 'row-btn primary', 'data-action': 'promote-apply', disabled: p.changes.length === 0 }, icon('check'), ` Apply ${p.changes.length} change(s) to ${this.name(to)}`);
    const cancel = h('button', { type: 'button', class: 'row-btn', 'data-action': 'promote-cancel' }, 'Cancel');
    cancel.addEventListener('click', () => setChildren(this.preview));
    apply.addEventListener('click', () => void this.apply(from, to, p.baseVersions, apply, cancel));
    setChildren(
      this.preview,
      h('h3', {}, `Promote ${this.name(from)} → ${this.name(to)}: preview`),
      p.changes.length === 0 ? h('p', {}, `Nothing to change: ${this.name(to)} already has ${this.name(from)}'s values.`) : h('ul', { class: 'promote-changes' }, ...items),
      p.unchanged.length ? h('p', { class: 'muted' }, `Already equal: ${p.unchanged.join(', ')}.`) : null,
      p.skipped.length ? h('p', { class: 'msg warning' }, icon('warning'), ` Skipped: ${p.skipped.map((s) => `${s.name} (${s.reason})`).join(', ')}.`) : null,
      h('div', { class: 'toolbar' }, apply, cancel),
    );
    apply.focus();
  }

  private async apply(from: string, to: string, baseVersions: Record<string, number>, apply: HTMLButtonElement, cancel: HTMLButtonElement): Promise<void> {
    apply.disabled = true;
    cancel.disabled = true;
    try {
      const result = await this.actions.apply(from, to, baseVersions);
      if (result.outcome === 'promoted') {
        setChildren(this.preview, h('p', { role: 'status', 'data-role': 'promote-done' }, icon('pass'), ` Promoted ${result.result.changes.length} setting(s) from ${this.name(from)} to ${this.name(to)}.`));
        this.actions.promoted(to);
      } else {
        setChildren(this.preview, h('p', { class: 'msg warning', role: 'alert' }, icon('warning'), ` Nothing was promoted: ${result.message} Preview again.`));
      }
    } catch (e) {
      setChildren(this.preview);
      this.showError(`Nothing was promoted: ${(e as Error).message}`);
    }
    await this.load();
  }
}
