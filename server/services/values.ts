// Per-stage values (SPEC §4): the stage view, batches of version-checked writes (all or
// nothing), and the run-time read of decrypted effective settings.
import { createHash } from 'node:crypto';
import type { HistoryAction, HistoryResponse, Stage, StageSetting, StageSettingsResponse, ValueChange } from '../../common/api';
import { isDueForRotation, type NormalizedSetting } from '../../common/definitions';
import { checkValue, SECRET_MASK } from '../../common/values';
import type { AuditActor } from '../audit/chain';
import type { AppHeadRow, Storage, StorageTx, ValueRow } from '../store/storage';
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

/** One version-checked write of one pair, with its history entry (see ValuesService.write). */
export interface PairWrite {
  app: string;
  stage: string;
  def: NormalizedSetting;
  /** The pair's row as read under the transaction's locks. */
  before: ValueRow | undefined;
  baseVersion: number;
  value: string | null;
  history: HistoryAction;
  /** The audit record's action and extra detail (never a value). */
  audit: { action: string; detail?: Record<string, unknown> };
  revision: number;
  at: string;
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
    /** How many writes each pair keeps (PORTAL_HISTORY_VERSIONS, SPEC §12). */
    private readonly historyVersions = 20,
  ) {
    this.runtimeMemo = new Memo(() => storage.cacheEpoch());
  }

  requireStage(stage: string) {
    if (!this.stages.some((s) => s.key === stage)) {
      throw new NotFoundError(`stage "${stage}" does not exist; the stages are ${this.stages.map((s) => s.key).join(', ')}`);
    }
  }

  settingsOf(app: string, head: AppHeadRow | null): NormalizedSetting[] {
    if (!head) throw new NotFoundError(`app "${app}" has not been published; publish it from VS Code first`);
    return this.documents.parse(head).settings;
  }

  private view(app: string, stage: string, head: AppHeadRow, settings: NormalizedSetting[], rows: ValueRow[]): StageSettingsResponse {
    const values = new Map(rows.map((r) => [r.name, r]));
    const now = Date.parse(this.now());
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
        ...(s.isSecret && s.rotationDays !== undefined ? { dueForRotation: hasValue && isDueForRotation(s, row!.updatedAt, now) } : {}),
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
        const written = await this.writeMany(
          tx,
          actor,
          changes.map((c) => {
            const before = values.get(c.name);
            return {
              app,
              stage,
              def: defs.get(c.name)!,
              before,
              baseVersion: c.baseVersion,
              value: c.value,
              history: c.value === null ? ('clear' as const) : ('set' as const),
              audit: { action: c.value === null ? 'value.clear' : this.documents.hasValue(before) ? 'value.replace' : 'value.set' },
              revision: head!.revision,
              at,
            };
          }),
        );
        if (written.scrub) scrub = true;
      },
      { changes: true },
    );
    if (scrub) this.storage.scrubDeleted();
    return this.readStage(app, stage);
  }

  /** Writes one pair: see writeMany. */
  async write(tx: StorageTx, actor: AuditActor, w: PairWrite): Promise<{ version: number; scrub: boolean }> {
    const { versions, scrub } = await this.writeMany(tx, actor, [w]);
    return { version: versions[0]!, scrub };
  }

  /**
   * Writes pairs of one app, each if it is still at its `baseVersion` (409 naming those that are
   * not), keeps each write in the pair's history and drops what falls out of the last
   * `historyVersions`, and audits each, in order. A batch costs the store a few statements, not
   * a few per pair. Returns the new versions and whether a clear-text value was deleted (the
   * caller scrubs after commit).
   */
  async writeMany(tx: StorageTx, actor: AuditActor, writes: PairWrite[]): Promise<{ versions: number[]; scrub: boolean }> {
    if (writes.length === 0) return { versions: [], scrub: false };
    const app = writes[0]!.app;
    if (writes.some((w) => w.app !== app)) throw new Error('writeMany: one app per batch');
    const by = actor.tokenName;
    const planned = writes.map((w) => {
      const version = w.baseVersion + 1;
      return { w, version, stored: this.documents.storeValue(app, w.stage, w.def.name, version, w.value, w.def.isSecret) };
    });
    // Checked again by the write itself: another instance may have written since the read.
    const lost = await tx.writeValues(planned.map(({ w, version, stored }) => ({ app, stage: w.stage, name: w.def.name, baseVersion: w.baseVersion, version, ...stored, at: w.at, by })));
    if (lost.length > 0) {
      const stages = [...new Set(writes.filter((w) => lost.includes(w.def.name)).map((w) => w.stage))].join(', ');
      throw new ConflictError(`someone else changed ${lost.join(', ')} in ${stages} since you loaded it; reload and apply your edit again`, { conflicts: lost });
    }
    await tx.insertHistories(
      app,
      planned.map(({ w, version, stored }) => ({ stage: w.stage, name: w.def.name, version, action: w.history, isSecret: w.def.isSecret, ...this.documents.storeKept(app, w.stage, w.def.name, version, stored), at: w.at, by })),
    );
    const pruned = await tx.pruneHistories(app, planned.map(({ w, version }) => ({ stage: w.stage, name: w.def.name, upTo: version - this.historyVersions })));
    // Only clear text needs scrubbing (an old ciphertext is no readable copy): a pruned entry, or
    // a replaced value (one written before history existed has no entry that keeps it).
    const scrub = pruned > 0 || writes.some((w) => this.documents.hasValue(w.before) && w.before!.plain !== null);
    await this.audit.appendMany(
      tx,
      actor,
      planned.map(({ w, version }) => ({
        action: w.audit.action,
        outcome: 'ok' as const,
        app,
        stage: w.stage,
        setting: w.def.name,
        revision: w.revision,
        version,
        detail: { isSecret: w.def.isSecret, ...w.audit.detail },
      })),
    );
    return { versions: planned.map((p) => p.version), scrub };
  }

  /** A pair's kept writes, newest first: non-secret values shown, a secret's only as the mask (SPEC §12). */
  async history(app: string, stage: string, name: string): Promise<HistoryResponse> {
    this.requireStage(stage);
    const head = await this.storage.appHead(app);
    const def = this.settingsOf(app, head).find((s) => s.name === name);
    if (!def) throw new NotFoundError(`no setting named "${name}" in app "${app}" (names match exactly, case included)`);
    const [rows, current] = await Promise.all([this.storage.history(app, stage, name), this.storage.stageSnapshot(app, stage)]);
    const version = current.values.find((v) => v.name === name)?.version ?? 0;
    return {
      app,
      stage,
      name,
      isSecret: def.isSecret,
      version,
      entries: rows.map((h) => {
        const hasValue = h.plain !== null || h.sealed !== null;
        // A secret's old value is never opened here, whoever asks (admins included).
        const secret = h.isSecret || def.isSecret;
        return {
          version: h.version,
          action: h.action,
          at: h.at,
          by: h.by,
          hasValue,
          value: !hasValue ? null : secret ? SECRET_MASK : this.documents.value(app, { ...h, updatedAt: h.at, updatedBy: h.by }),
          current: h.version === version,
        };
      }),
    };
  }

  /**
   * Writes a kept version's content back as a new write (SPEC §12): version-checked, audited as
   * a restore; a secret is opened and sealed again inside the server, never sent anywhere.
   */
  async restore(app: string, stage: string, name: string, req: { version: number; baseVersion: number }, actor: AuditActor): Promise<StageSettingsResponse> {
    this.requireStage(stage);
    let scrub = false;
    await this.storage.transaction(
      async (tx) => {
        const head = await tx.lockApp(app, 'shared');
        const def = this.settingsOf(app, head).find((s) => s.name === name);
        if (!def) throw new NotFoundError(`no setting named "${name}" in app "${app}" (names match exactly, case included)`);
        const before = (await tx.stageValues(app, stage)).find((v) => v.name === name);
        if ((before?.version ?? 0) !== req.baseVersion) {
          throw new ConflictError(`someone else changed ${name} in ${stage} since you loaded it; reload the history and restore again`, { conflicts: [name] });
        }
        const entry = (await tx.history(app, stage, name)).find((h) => h.version === req.version);
        if (!entry) throw new NotFoundError(`${name} in ${stage} has no kept version ${req.version}; only the last ${this.historyVersions} writes are kept`);
        if (entry.isSecret !== def.isSecret) throw new InvalidError(`version ${req.version} of ${name} was written when the setting was ${entry.isSecret ? '' : 'not '}secret; it cannot be restored`);
        const value = entry.plain !== null || entry.sealed !== null ? this.documents.value(app, { ...entry, updatedAt: entry.at, updatedBy: entry.by }) : null;
        const problem = value === null ? undefined : checkValue(def.type, value, def.isSecret);
        if (problem) throw new InvalidError(`version ${req.version} of ${name} is not valid for its type now (${def.type}); nothing was restored`, { errors: [{ name, detail: `${name} ${problem}` }] });
        const written = await this.write(
          tx,
          actor,
          {
            app,
            stage,
            def,
            before,
            baseVersion: req.baseVersion,
            value,
            history: 'restore',
            audit: { action: 'value.restore', detail: { restoredVersion: req.version } },
            revision: head!.revision,
            at: this.now(),
          },
        );
        scrub = written.scrub;
      },
      { changes: true },
    );
    if (scrub) this.storage.scrubDeleted();
    return this.readStage(app, stage);
  }

  /**
   * Gives every held secret written before fingerprints existed its fingerprint, once (a store
   * upgraded from before SPEC §13); values written since carry one from their write.
   */
  async backfillFingerprints(): Promise<number> {
    if ((await this.storage.meta('fingerprints')) === 'v1') return 0;
    return this.storage.transaction(async (tx) => {
      if ((await tx.meta('fingerprints')) === 'v1') return 0;
      let n = 0;
      for (const app of await tx.listApps()) {
        const head = await tx.lockApp(app.key, 'exclusive');
        const secrets = this.settingsOf(app.key, head).filter((s) => s.isSecret).map((s) => s.name);
        for (const row of await tx.heldValues(app.key, secrets, null)) {
          if (row.fingerprint !== null) continue;
          await tx.setFingerprint(app.key, row.stage, row.name, row.version, this.documents.fingerprintOf(app.key, row)!);
          n++;
        }
      }
      await tx.setMeta('fingerprints', 'v1');
      return n;
    });
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
