// Apps and publish (SPEC §3): the plan against the published revision, applied atomically as a
// new revision under the app's lock, so a publish planned against an older revision is refused.
import type { AppResponse, AppSummary, PublishResponse, Stage } from '../../common/api';
import type { NormalizedDefinitions, NormalizedSetting } from '../../common/definitions';
import type { AuditActor } from '../audit/chain';
import type { Storage, StorageTx } from '../store/storage';
import type { AuditService } from './audit';
import type { Documents } from './documents';
import { ConflictError, NotFoundError } from './errors';
import { computePlan, type StoredValueRef } from './publishPlan';

export class PublishService {
  constructor(
    private readonly storage: Storage,
    private readonly documents: Documents,
    private readonly audit: AuditService,
    private readonly stages: Stage[],
    private readonly now: () => string,
  ) {}

  async listApps(): Promise<AppSummary[]> {
    return (await this.storage.listApps()).map((r) => ({ key: r.key, name: r.name, revision: r.revision, publishedAt: r.publishedAt }));
  }

  async getApp(app: string): Promise<AppResponse> {
    const head = await this.storage.appHead(app);
    if (!head) throw new NotFoundError(`app "${app}" has not been published; publish it from VS Code first`);
    return {
      key: app,
      name: head.name,
      revision: head.revision,
      publishedAt: head.publishedAt,
      publishedBy: head.publishedBy,
      settings: this.documents.parse(head).settings,
    };
  }

  async publish(next: NormalizedDefinitions, opts: { baseRevision?: number; dryRun?: boolean }, actor: AuditActor): Promise<PublishResponse> {
    const app = next.app.key;
    const nextJson = JSON.stringify(next);
    let scrub = false;
    const result = await this.storage.transaction(
      async (tx): Promise<PublishResponse> => {
        const head = await tx.lockApp(app, 'exclusive');
        const revision = head?.revision ?? 0;
        if (opts.baseRevision !== undefined && opts.baseRevision !== revision) {
          throw new ConflictError(
            `app "${app}" is at revision ${revision}, not ${opts.baseRevision}: someone else published meanwhile; plan again and review the changes`,
            { currentRevision: revision },
          );
        }
        const headJson = head ? this.documents.json(head) : null;
        // The very document of the published revision: nothing changes and there is no plan to compute.
        if (headJson === nextJson) return { revision, changed: false, dryRun: !!opts.dryRun, plan: { added: [], removed: [], changed: [], deletions: [] } };
        const current = headJson === null ? null : (JSON.parse(headJson) as NormalizedDefinitions);
        // Only a setting that is removed, changes type or flips isSecret can lose values (SPEC §3):
        // read those settings' values, not every value of the app. A removed setting or an isSecret
        // flip loses every value: only which (stage, name) pairs hold one matters. A type change
        // keeps the values valid for the new type: those are read.
        const nextByName = new Map(next.settings.map((s) => [s.name, s]));
        const affected: string[] = [];
        for (const s of current?.settings ?? []) {
          const n = nextByName.get(s.name);
          if (!n || n.isSecret !== s.isSecret || n.type !== s.type) affected.push(s.name);
        }
        // Every stage that holds values, also one no longer configured (SPEC §3).
        const held = await tx.heldValues(app, affected, null);
        const refs: StoredValueRef[] = held.map((row) => ({
          stage: row.stage,
          name: row.name,
          read: () => {
            const value = this.documents.value(app, row);
            if (value === null) throw new Error(`publish: the value of ${row.name} in ${row.stage} is gone`);
            return value;
          },
        }));
        const { plan, changed } = computePlan(current && { name: head!.name, settings: current.settings }, next, refs, this.stages.map((s) => s.key));
        if (opts.dryRun || !changed) return { revision, changed, dryRun: !!opts.dryRun, plan };

        const at = this.now();
        const newRevision = revision + 1;
        const by = actor.tokenName;
        await tx.upsertApp({ key: app, name: next.app.name, revision: newRevision, publishedAt: at, publishedBy: by });
        await tx.insertRevision({ app, revision: newRevision, definitions: this.documents.store(app, newRevision, nextJson), publishedAt: at, publishedBy: by });
        if (await this.dropSecretDefaultsFromHistory(tx, app, newRevision, current?.settings ?? [], next.settings)) scrub = true;
        // A deletion is a write: the pair's version moves on and its value is gone.
        if (plan.deletions.length > 0) {
          const deleted = await tx.deleteValues(app, plan.deletions.map((d) => ({ stage: d.stage, name: d.setting })), at, by);
          if (deleted !== plan.deletions.length) throw new Error(`publish: ${deleted} values deleted, the plan has ${plan.deletions.length}`);
          scrub = true;
        }
        // The seed's deletions win over history (SPEC §12): a removed setting or an isSecret flip
        // takes every kept write of the setting with it, in every stage (also of pairs that hold
        // no value now); the deleted pairs' history went with their values above.
        const forgotten = (current?.settings ?? []).filter((s) => !nextByName.has(s.name) || nextByName.get(s.name)!.isSecret !== s.isSecret).map((s) => s.name);
        if ((await tx.deleteSettingHistory(app, forgotten)) > 0) scrub = true;
        await this.audit.append(tx, actor, {
          action: 'app.publish',
          outcome: 'ok',
          app,
          revision: newRevision,
          detail: {
            added: plan.added,
            removed: plan.removed,
            changed: plan.changed.map((c) => `${c.name}:${c.changes.join('+')}`),
            deletions: plan.deletions.map((d) => `${d.setting}@${d.stage}:${d.reason}`),
          },
        });
        return { revision: newRevision, changed: true, dryRun: false, plan };
      },
      { changes: true },
    );
    if (scrub) this.storage.scrubDeleted();
    return result;
  }

  /**
   * SPEC §5: when a setting is secret now, no earlier revision keeps its default in clear. For
   * the settings that are secret now and were not secret (or not there) in the published
   * revision; those secret already were dealt with when they became secret. A store that seals
   * every document (PostgreSQL) keeps no default in clear: nothing to do there. Returns whether
   * a revision changed (then the old copies must be scrubbed like deleted values).
   */
  private async dropSecretDefaultsFromHistory(tx: StorageTx, app: string, newRevision: number, before: NormalizedSetting[], after: NormalizedSetting[]): Promise<boolean> {
    if (this.storage.sealsEverything) return false;
    const wasSecret = new Set(before.filter((s) => s.isSecret).map((s) => s.name));
    const becameSecret = new Set(after.filter((s) => s.isSecret && !wasSecret.has(s.name)).map((s) => s.name));
    if (becameSecret.size === 0) return false;
    let changed = false;
    for (const row of await tx.revisionsBefore(app, newRevision)) {
      if (typeof row.definitions !== 'string') continue; // sealed: no default in clear
      const defs = JSON.parse(row.definitions) as NormalizedDefinitions;
      let edited = false;
      for (const s of defs.settings) {
        if (becameSecret.has(s.name) && s.defaultValue !== null) {
          s.defaultValue = null;
          edited = true;
        }
      }
      if (edited) {
        await tx.updateRevision(app, row.revision, JSON.stringify(defs));
        changed = true;
      }
    }
    return changed;
  }
}
