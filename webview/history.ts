// A value's history (SPEC §12) as a modal dialog: who, when, which action, the value for a
// non-secret and ***** for a secret (the host never has a secret's old value to give), and
// "Restore" with a confirmation, which writes the old version back as a new, version-checked
// write inside the portal.
import type { HistoryView, SaveResult } from '../common/protocol';
import { formatWhen, h, icon, setChildren } from './dom';

export interface HistoryActions {
  load(): Promise<HistoryView>;
  restore(version: number, baseVersion: number): Promise<SaveResult>;
  /** After a restore was saved: the stage view to show. */
  restored(result: Extract<SaveResult, { outcome: 'saved' }>, version: number): void;
}

const ACTIONS: Record<string, string> = { set: 'Set', clear: 'Cleared', restore: 'Restored' };

export class HistoryDialog {
  readonly element: HTMLDialogElement;
  private readonly body = h('div', { class: 'history-body' });
  private readonly message = h('div', { class: 'history-message', role: 'status', 'aria-live': 'polite' });
  private view: HistoryView | undefined;

  constructor(
    private readonly title: { name: string; stageName: string },
    private readonly actions: HistoryActions,
  ) {
    const heading = h('h2', { id: 'history-title' }, `History of ${title.name} in ${title.stageName}`);
    const close = h('button', { type: 'button', class: 'row-btn', 'data-action': 'close-history' }, icon('close'), ' Close');
    close.addEventListener('click', () => this.close());
    this.element = h(
      'dialog',
      { class: 'history-dialog', 'aria-labelledby': 'history-title', 'data-history': title.name },
      h('div', { class: 'history-head' }, heading, h('span', { class: 'spacer' }), close),
      this.message,
      this.body,
    );
    this.element.addEventListener('close', () => this.element.remove());
  }

  async open(): Promise<void> {
    document.body.append(this.element);
    this.element.showModal();
    await this.reload();
  }

  close(): void {
    if (this.element.open) this.element.close();
  }

  private async reload(): Promise<void> {
    setChildren(this.body, h('p', { class: 'muted' }, 'Loading…'));
    try {
      this.view = await this.actions.load();
      this.render();
    } catch (e) {
      setChildren(this.body, h('p', { class: 'msg error', role: 'alert' }, icon('error'), ` Could not load the history: ${(e as Error).message}`));
    }
  }

  private render(): void {
    const v = this.view!;
    if (v.entries.length === 0) {
      setChildren(this.body, h('p', { class: 'empty' }, `${v.name} has no kept writes in this stage yet.`));
      return;
    }
    const rows = v.entries.map((e) => {
      const value = !e.hasValue
        ? h('span', { class: 'muted' }, e.action === 'clear' ? (v.isSecret ? 'no value' : 'no value (default applies)') : 'no value')
        : v.isSecret
          ? h('span', { class: 'masked', title: "A secret's old values are never shown" }, '*****')
          : h('code', {}, e.value ?? '');
      const actionCell = h('td', { class: 'history-actions' });
      if (e.current) actionCell.append(h('span', { class: 'badge' }, 'Current'));
      else {
        const restore = h('button', { type: 'button', class: 'row-btn', 'data-action': 'restore', 'data-version': e.version, 'aria-label': `Restore version ${e.version}` }, icon('history'), ' Restore…');
        restore.addEventListener('click', () => this.confirm(actionCell, e.version));
        actionCell.append(restore);
      }
      return h(
        'tr',
        { 'data-version': e.version },
        h('td', {}, String(e.version)),
        h('td', {}, ACTIONS[e.action] ?? e.action),
        h('td', {}, e.by ?? 'unknown'),
        h('td', {}, h('time', { datetime: e.at, title: e.at }, formatWhen(e.at))),
        h('td', { class: 'history-value' }, value),
        actionCell,
      );
    });
    setChildren(
      this.body,
      h(
        'table',
        { class: 'history', 'aria-label': `History of ${v.name}` },
        h('thead', {}, h('tr', {}, ...['Version', 'Action', 'Who', 'When', 'Value', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, ...rows),
      ),
      v.isSecret ? h('p', { class: 'muted' }, "A secret's old values are never shown; restoring one copies it inside the portal.") : null,
    );
  }

  /** The confirmation, in place of the row's button: restoring is a write. */
  private confirm(cell: HTMLElement, version: number): void {
    const v = this.view!;
    const yes = h('button', { type: 'button', class: 'row-btn primary', 'data-action': 'confirm-restore' }, icon('check'), ' Restore');
    const no = h('button', { type: 'button', class: 'row-btn', 'data-action': 'cancel-restore' }, 'Cancel');
    const question = h('span', { class: 'confirm-question' }, `Restore version ${version} of ${v.name} to ${this.title.stageName}? This is a new change, saved now. `);
    no.addEventListener('click', () => this.render());
    yes.addEventListener('click', () => void this.restore(version, yes, no));
    setChildren(cell, question, yes, no);
    yes.focus();
  }

  private async restore(version: number, yes: HTMLButtonElement, no: HTMLButtonElement): Promise<void> {
    yes.disabled = true;
    no.disabled = true;
    try {
      const result = await this.actions.restore(version, this.view!.version);
      if (result.outcome === 'saved') {
        this.actions.restored(result, version);
        this.message.textContent = `Restored version ${version}.`;
      } else if (result.outcome === 'conflict') {
        this.message.textContent = `Not restored: ${result.message} The history is reloaded.`;
      } else {
        this.message.textContent = `Not restored: ${result.errors.map((e) => e.detail).join('; ') || result.message}`;
      }
    } catch (e) {
      this.message.textContent = `Not restored: ${(e as Error).message}`;
    }
    await this.reload();
  }
}
