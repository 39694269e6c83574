// Across stages (SPEC §13): compare, the warnings, promote. Secrets are compared by the keyed
// fingerprints stored with them at write time, so comparing decrypts no secret; a promote opens
// a secret only to seal it again for the target stage, inside the server.
import type { CompareCell, CompareResponse, CompareStatus, PromoteChange, PromoteRequest, PromoteResponse, Stage, StageWarning } from '../../common/api';
import { isDueForRotation, type NormalizedSetting } from '../../common/definitions';
import type { AuditActor } from '../audit/chain';
import type { Storage, ValueRow } from '../store/storage';
import type { Documents } from './documents';
import { ConflictError, InvalidError, NotFoundError } from './errors';
import type { ValuesService } from './values';

/** A setting's effective state in one stage. */
interface Effective {
  status: CompareStatus;
  row: ValueRow | undefined;
  /** Non-secrets: the effective value (the stage's, else the default, else null). */
  value: string | null;
}

export class AcrossStagesService {
  constructor(
    private readonly storage: Storage,
    private readonly documents: Documents,
    private readonly values: ValuesService,
    private readonly stages: Stage[],
    private readonly now: () => string,
  ) {}

  private rank(stage: string): number {
    return this.stages.findIndex((s) => s.key === stage);
  }

  private stageName(stage: string): string {
    return this.stages.find((s) => s.key === stage)?.name ?? stage;
  }

  /** The production stage: the last configured one (the "Production" of §13's warnings). */
  private get topStage(): string {
    return this.stages[this.stages.length - 1]!.key;
  }

  /** Known, distinct stages in configured order (404 for an unknown one, 422 for fewer than one). */
  orderStages(stages: string[]): string[] {
    for (const s of stages) this.values.requireStage(s);
    const unique = [...new Set(stages)];
    if (unique.length === 0) throw new InvalidError('name at least one stage to compare, e.g. ?stages=qa,production');
    return unique.sort((a, b) => this.rank(a) - this.rank(b));
  }

  private effective(app: string, def: NormalizedSetting, row: ValueRow | undefined, open: boolean): Effective {
    if (this.documents.hasValue(row)) {
      // A secret's value is never opened to compare: its fingerprint is.
      return { status: 'own', row, value: def.isSecret || !open ? null : this.documents.value(app, row!) };
    }
    if (def.isSecret) return { status: 'missing', row, value: null };
    return def.defaultValue !== null ? { status: 'default', row, value: def.defaultValue } : { status: 'unset', row, value: null };
  }

  /** Whether two stages' effective values are equal (secrets by fingerprint; an unknown one is different). */
  private same(def: NormalizedSetting, a: Effective, b: Effective): boolean {
    if (!def.isSecret) return a.value === b.value;
    if (a.status !== 'own' || b.status !== 'own') return a.status === b.status;
    const fa = a.row!.fingerprint;
    const fb = b.row!.fingerprint;
    return fa !== null && fb !== null && fa.equals(fb);
  }

  async compare(app: string, requested: string[]): Promise<CompareResponse> {
    const stages = this.orderStages(requested);
    const { head, values } = await this.storage.stagesSnapshot(app, stages, { sealedBlobs: false });
    const defs = this.values.settingsOf(app, head);
    // Per stage, name -> row: no key strings built per row.
    const byStage = new Map(stages.map((s) => [s, new Map<string, ValueRow>()]));
    for (const r of values) byStage.get(r.stage)?.set(r.name, r);
    const rowMaps = stages.map((s) => byStage.get(s)!);
    const now = Date.parse(this.now());
    const warnings: StageWarning[] = [];
    const settings = defs.map((def) => {
      const eff = rowMaps.map((rows) => this.effective(app, def, rows.get(def.name), true));
      const cells: Record<string, CompareCell> = {};
      stages.forEach((stage, i) => {
        const e = eff[i]!;
        const cell: CompareCell = { status: e.status, version: e.row?.version ?? 0, updatedAt: e.row?.updatedAt ?? null };
        if (!def.isSecret) cell.value = e.value;
        if (def.isSecret && def.rotationDays !== undefined) cell.dueForRotation = e.status === 'own' && isDueForRotation(def, e.row!.updatedAt, now);
        if (def.isSecret && e.status === 'own') {
          const lower = stages.findIndex((_, j) => j < i && eff[j]!.status === 'own' && this.same(def, eff[j]!, e));
          if (lower >= 0) cell.sameAs = stages[lower]!;
        }
        cells[stage] = cell;
        if (!def.isSecret) return;
        if (e.status === 'missing') {
          warnings.push({ setting: def.name, stage, kind: 'missing', detail: `${def.name} has no value in ${this.stageName(stage)}: set it before you deploy` });
        }
        if (stage === this.topStage && cell.sameAs !== undefined) {
          warnings.push({
            setting: def.name,
            stage,
            kind: 'same-as-lower-stage',
            lowerStage: cell.sameAs,
            detail: `${def.name} in ${this.stageName(stage)} is the same secret as in ${this.stageName(cell.sameAs)}: give ${this.stageName(stage)} its own`,
          });
        }
        if (cell.dueForRotation) {
          warnings.push({ setting: def.name, stage, kind: 'rotation-due', detail: `${def.name} in ${this.stageName(stage)} is older than ${def.rotationDays} days: rotate it` });
        }
      });
      const equal = eff.every((e) => this.same(def, eff[0]!, e));
      return { name: def.name, type: def.type, isSecret: def.isSecret, stages: cells, equal };
    });
    return { app, revision: head!.revision, stages, settings, warnings };
  }

  /**
   * Copies effective values from one stage to another as one all-or-nothing write (SPEC §13).
   * A value of its own is set in the target; a default or unset source clears the target (back
   * to the default); a secret missing in the source is skipped (promote never deletes a secret).
   * The dry run answers the target's versions; an apply that carries them is refused (409) if
   * any moved.
   */
  async promote(app: string, req: PromoteRequest, actor: AuditActor): Promise<PromoteResponse> {
    const { from, to } = req;
    this.values.requireStage(from);
    this.values.requireStage(to);
    if (from === to) throw new InvalidError(`promote copies from one stage to another: "from" and "to" are both ${from}`);
    let scrub = false;
    const result = await this.storage.transaction(
      async (tx): Promise<PromoteResponse> => {
        const head = await tx.lockApp(app, 'shared');
        const defs = this.values.settingsOf(app, head);
        const byName = new Map(defs.map((d) => [d.name, d]));
        const unknown = (req.settings ?? []).filter((n) => !byName.has(n));
        if (unknown.length > 0) throw new NotFoundError(`no setting named ${unknown.map((n) => `"${n}"`).join(', ')} in app "${app}" (names match exactly, case included)`);
        const chosen = req.settings ? defs.filter((d) => req.settings!.includes(d.name)) : defs;
        // The source is read, not locked (two promotes in opposite directions never wait on each other).
        const source = new Map((await tx.stagesSnapshot(app, [from])).values.map((r) => [r.name, r]));
        const target = new Map((await tx.stageValues(app, to)).map((r) => [r.name, r]));

        const changes: Array<PromoteChange & { def: NormalizedSetting }> = [];
        const unchanged: string[] = [];
        const skipped: Array<{ name: string; reason: string }> = [];
        for (const def of chosen) {
          const src = this.effective(app, def, source.get(def.name), true);
          const dst = this.effective(app, def, target.get(def.name), true);
          if (src.status === 'missing') {
            skipped.push({ name: def.name, reason: `a secret with no value in ${this.stageName(from)}` });
            continue;
          }
          if (this.same(def, src, dst)) {
            unchanged.push(def.name);
            continue;
          }
          const change: PromoteChange & { def: NormalizedSetting } = {
            def,
            name: def.name,
            isSecret: def.isSecret,
            action: src.status === 'own' ? 'set' : 'clear',
            fromStatus: src.status,
            toStatus: dst.status,
          };
          if (!def.isSecret) {
            change.fromValue = dst.value;
            change.toValue = src.value;
          }
          changes.push(change);
        }
        const versionOf = (name: string) => target.get(name)?.version ?? 0;
        const baseVersions = Object.fromEntries(changes.map((c) => [c.name, versionOf(c.name)]));
        const answer = (dryRun: boolean, versions: Record<string, number>): PromoteResponse => ({
          app,
          from,
          to,
          dryRun,
          changes: changes.map(({ def: _def, ...c }) => c),
          unchanged,
          skipped,
          baseVersions: versions,
        });
        if (req.dryRun) return answer(true, baseVersions);
        if (req.baseVersions) {
          const moved = changes.filter((c) => req.baseVersions![c.name] !== versionOf(c.name)).map((c) => c.name);
          if (moved.length > 0) {
            throw new ConflictError(`${moved.join(', ')} changed in ${this.stageName(to)} since the preview; preview the promote again`, { conflicts: moved });
          }
        }
        const at = this.now();
        const { versions, scrub: scrubbed } = await this.values.writeMany(
          tx,
          actor,
          changes.map((c) => {
            const row = source.get(c.name);
            // The value travels from one row to the other inside this process only.
            const value = c.action === 'set' ? this.documents.value(app, row!) : null;
            return {
              app,
              stage: to,
              def: c.def,
              before: target.get(c.name),
              baseVersion: versionOf(c.name),
              value,
              history: c.action,
              audit: { action: 'value.promote', detail: { from, to } },
              revision: head!.revision,
              at,
            };
          }),
        );
        if (scrubbed) scrub = true;
        const written: Record<string, number> = Object.fromEntries(changes.map((c, i) => [c.name, versions[i]!]));
        return answer(false, written);
      },
      { changes: !req.dryRun },
    );
    if (scrub) this.storage.scrubDeleted();
    return result;
  }
}
