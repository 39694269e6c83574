// Unsaved edits of one stage: what the user changed, on which version it was based, whether it
// is valid. Pure (no DOM), so the rules are easy to follow: an edit that brings a value back to
// what the server has is no edit; a save sends every edit at once; nothing is dropped except
// by a successful save, Discard, or a conflict on that very setting.
import type { StageSetting } from '../common/api';
import type { StageView, ValueEdit } from '../common/protocol';
import { checkValue } from '../common/values';

export type Draft = { kind: 'set'; value: string } | { kind: 'clear' };
export interface Edit {
  draft: Draft;
  /** The setting's version when the user started this edit. */
  baseVersion: number;
  /** Whether the setting was secret when edited (a publish can change it). */
  isSecret: boolean;
}

export class StageDrafts {
  private readonly edits = new Map<string, Edit>();

  get size(): number {
    return this.edits.size;
  }

  get(name: string): Edit | undefined {
    return this.edits.get(name);
  }

  names(): string[] {
    return [...this.edits.keys()];
  }

  /** The user's text for a setting (the value field of a non-secret, the password field of a secret). */
  setText(setting: StageSetting, text: string): void {
    const unchanged = setting.isSecret ? text === '' : setting.hasValue ? text === setting.value : text === '';
    if (unchanged) {
      this.edits.delete(setting.name);
      return;
    }
    this.put(setting, { kind: 'set', value: text });
  }

  /** "Reset to default" for a non-secret, "Clear" for a secret: no value in this stage. */
  clear(setting: StageSetting): void {
    if (!setting.hasValue) this.edits.delete(setting.name);
    else this.put(setting, { kind: 'clear' });
  }

  revert(name: string): void {
    this.edits.delete(name);
  }

  discardAll(): void {
    this.edits.clear();
  }

  /** Why an edit cannot be saved (type rules from common/values.ts), or undefined. Never quotes the value. */
  problem(setting: StageSetting): string | undefined {
    const edit = this.edits.get(setting.name);
    if (!edit || edit.draft.kind === 'clear') return undefined;
    return checkValue(setting.type, edit.draft.value, setting.isSecret);
  }

  invalidNames(settings: readonly StageSetting[]): string[] {
    if (this.edits.size === 0) return [];
    return settings.filter((s) => this.problem(s) !== undefined).map((s) => s.name);
  }

  /** Every edit, for one save. */
  changes(): ValueEdit[] {
    return [...this.edits].map(([name, e]) => ({ name, value: e.draft.kind === 'set' ? e.draft.value : null, baseVersion: e.baseVersion }));
  }

  /**
   * After the stage was reloaded: drops the edits of `conflicts` (someone else changed them; the
   * reloaded value is shown instead) and of settings that no longer exist or changed type or
   * secrecy (a publish). Returns the names dropped for another reason than a conflict.
   */
  rebase(view: StageView, conflicts: readonly string[] = []): string[] {
    const byName = new Map(view.settings.map((s) => [s.name, s]));
    for (const name of conflicts) this.edits.delete(name);
    const dropped: string[] = [];
    for (const [name, edit] of this.edits) {
      const s = byName.get(name);
      const stale = !s || s.isSecret !== edit.isSecret || (edit.draft.kind === 'clear' && !s.hasValue);
      if (stale) {
        this.edits.delete(name);
        dropped.push(name);
      }
    }
    return dropped;
  }

  private put(setting: StageSetting, draft: Draft): void {
    const baseVersion = this.edits.get(setting.name)?.baseVersion ?? setting.version;
    this.edits.set(setting.name, { draft, baseVersion, isSecret: setting.isSecret });
  }
}
