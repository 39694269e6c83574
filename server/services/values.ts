// Per-stage values (SPEC §4): the stage view, batches of version-checked writes (all or
// nothing), and the run-time read of decrypted effective settings.
import { createHash } from 'node:crypto';
import type { Stage, StageSetting, StageSettingsResponse, ValueChange } from '../../common/api';
import type { NormalizedSetting } from '../../common/definitions';
import { checkValue, SECRET_MASK } from '../../common/values';
import type { AuditActor } from '../audit/chain';
import type { AppHeadRow, Storage, ValueRow } from '../store/storage';
import type { AuditService } from './audit';
import { Memo } from './cache';
import type { Documents } from './documents';
import { ConflictError, InvalidError, NotFoundError } from './errors';

/** An app's effective settings in one stage, as the run-time read answers them. */
export interface RuntimeSettings {
  revision: number;
  settings: Record<string, string | null>;
  etag: string;
}

export class ValuesService {
  /** Decrypted run-time answers, frozen, kept while the cache epoch stays (see cache.ts). */
  private readonly runtimeMemo: Memo<RuntimeSettings>;

  constructor(
    private readonly storage: Storage,
    private readonly documents: Documents,
    private readonly audit: AuditService,
    private readonly stages: Stage[],
    private readonly now: () => string,
  ) {
    this.runtimeMemo = new Memo(() => storage.cacheEpoch());
  }

  private requireStage(stage: string) {
    if (!this.stages.some((s) => s.key === stage)) {
      throw new NotFoundError(`stage "${stage}" does not exist; the stages are ${this.stages.map((s) => s.key).join(', ')}`);
    }
  }

  private settingsOf(app: string, head: AppHeadRow | null): NormalizedSetting[] {
    if (!head) throw new NotFoundError(`app "${app}" has not been published; publish it from VS Code first`);
    return this.documents.parse(head).settings;
  }

  private view(app: string, stage: string, head: AppHeadRow, settings: NormalizedSetting[], rows: ValueRow[]): StageSettingsResponse {
    const values = new Map(rows.map((r) => [r.name, r]));
    const out: StageSetting[] = settings.map((s) => {
      const row = values.get(s.name);
      const hasValue = this.documents.hasValue(row);
      return {
        name: s.name,
        type: s.type,
        description: s.description,
        isSecret: s.isSecret,
        hasValue,
        // A secret is never opened here: the mask is all anyone but the runtime identity sees.
        value: hasValue ? (s.isSecret ? SECRET_MASK : this.documents.value(app, row!)) : null,
        defaultValue: s.isSecret ? null : s.defaultValue,
        missing: s.isSecret && !hasValue,
        version: row?.version ?? 0,
        updatedAt: row?.updatedAt ?? null,
        updatedBy: row?.updatedBy ?? null,
      };
    });
    return { app, stage, revision: head.revision, settings: out };
  }

  async readStage(app: string, stage: string): Promise<StageSettingsResponse> {
    this.requireStage(stage);
    const { head, values } = await this.storage.stageSnapshot(app, stage);
    const settings = this.settingsOf(app, head);
    return this.view(app, stage, head!, settings, values);
  }

  /** Applies a batch all or nothing: unknown setting 404, stale version 409, invalid value 422. */
  async patchStage(app: string, stage: string, changes: ValueChange[], actor: AuditActor): Promise<StageSettingsResponse> {
    this.requireStage(stage);
    let scrub = false;
    await this.storage.transaction(
      async (tx) => {
        const head = await tx.lockApp(app, 'shared');
        const defs = new Map(this.settingsOf(app, head).map((s) => [s.name, s]));
        const unknown = changes.filter((c) => !defs.has(c.name)).map((c) => c.name);
        if (unknown.length > 0) throw new NotFoundError(`no setting named ${unknown.map((n) => `"${n}"`).join(', ')} in app "${app}" (names match exactly, case included)`);
        const values = new Map((await tx.stageValues(app, stage)).map((r) => [r.name, r]));
        const stale = (names: string[]) =>
          new ConflictError(`someone else changed ${names.join(', ')} in ${stage} since you loaded it; reload and apply your edit again`, { conflicts: names });
        const conflicts = changes.filter((c) => (values.get(c.name)?.version ?? 0) !== c.baseVersion).map((c) => c.name);
        if (conflicts.length > 0) throw stale(conflicts);
        const errors: Array<{ name: string; detail: string }> = [];
        for (const c of changes) {
          const def = defs.get(c.name)!;
          const problem = c.value === null ? undefined : checkValue(def.type, c.value, def.isSecret);
          if (problem) errors.push({ name: c.name, detail: `${c.name} ${problem}` });
        }
        if (errors.length > 0) throw new InvalidError(`${errors.length} value(s) are not valid for their type; nothing was saved`, { errors });

        const at = this.now();
        const by = actor.tokenName;
        for (const c of changes) {
          const def = defs.get(c.name)!;
          const before = values.get(c.name);
          const hadValue = this.documents.hasValue(before);
          const version = c.baseVersion + 1;
          const stored = this.documents.storeValue(app, stage, c.name, version, c.value, def.isSecret);
          // Checked again by the write itself: another instance may have written since the read.
          if (!(await tx.writeValue({ app, stage, name: c.name, baseVersion: c.baseVersion, version, ...stored, at, by }))) throw stale([c.name]);
          // Only a clear-text value needs scrubbing; an old ciphertext is no readable copy.
          if (hadValue && before!.plain !== null) scrub = true;
          const action = c.value === null ? 'value.clear' : hadValue ? 'value.replace' : 'value.set';
          await this.audit.append(tx, actor, { action, outcome: 'ok', app, stage, setting: c.name, revision: head!.revision, version, detail: { isSecret: def.isSecret } });
        }
      },
      { changes: true },
    );
    if (scrub) this.storage.scrubDeleted();
    return this.readStage(app, stage);
  }

  /** The decrypted effective settings, for the runtime identity only; frozen. */
  async runtimeSettings(app: string, stage: string): Promise<RuntimeSettings> {
    this.requireStage(stage);
    const answer = await this.runtimeMemo.through(`${app}\u0000${stage}`, async () => {
      const { head, values } = await this.storage.stageSnapshot(app, stage);
      const defs = this.settingsOf(app, head);
      const rows = new Map(values.map((r) => [r.name, r]));
      const settings: Record<string, string | null> = Object.create(null);
      const versions = createHash('sha256').update(`${app}\n${stage}\n${head!.revision}`);
      for (const s of defs) {
        const row = rows.get(s.name);
        versions.update(`\n${s.name}:${row?.version ?? 0}`);
        const value = row ? this.documents.value(app, row) : null;
        settings[s.name] = value ?? (s.isSecret ? null : s.defaultValue);
      }
      // Derived from the revision and the value versions, never from the values.
      const etag = `"r${head!.revision}-${versions.digest('base64url').slice(0, 22)}"`;
      return Object.freeze({ revision: head!.revision, settings: Object.freeze({ ...settings }), etag });
    });
    return answer!;
  }
}
