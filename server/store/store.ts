// The portal store on SQLite (better-sqlite3). Every change and its audit record are
// written in one transaction: if the record cannot be written, the change does not happen.
import Database from 'better-sqlite3';
import { createHash, randomBytes } from 'node:crypto';
import type { NormalizedDefinitions, NormalizedSetting } from '../../common/definitions';
import type {
  AppResponse,
  AppSummary,
  PublishResponse,
  Role,
  Scope,
  Stage,
  StageSetting,
  StageSettingsResponse,
  TokenInfo,
  ValueChange,
} from '../../common/api';
import { checkValue, SECRET_MASK } from '../../common/values';
import { GENESIS_MAC, headMac, recordMac, type AuditActor, type AuditEntry, type AuditRecord } from '../audit/chain';
import { DecryptionError, masterKeyId, newKey, open, seal, unwrapKey, valueAad, wrapKey, blobKeyId } from '../crypto/envelope';
import { conflict, notFound, unprocessable } from '../errors';
import { computePlan, type StoredValueRef } from '../services/publishPlan';
import { MIGRATIONS } from './schema';

export interface StoreOptions {
  file: string;
  masterKey: Buffer;
  /** A key to try when masterKey does not match: the pending key of an interrupted rotation. */
  alternateMasterKey?: Buffer;
  stages: Stage[];
  clock?: () => Date;
  /** Where the store reports what an operator must know (a scrub that must wait). Never a value. */
  log?: StoreLog;
}

export interface StoreLog {
  info(msg: string): void;
  warn(msg: string): void;
}

export interface TokenRecord {
  id: string;
  name: string;
  role: Role;
  apps: Scope;
  stages: Scope;
}

interface ValueRow {
  app_key: string;
  stage: string;
  name: string;
  version: number;
  plain: string | null;
  secret: Buffer | null;
  updated_at: string;
  updated_by: string | null;
}

interface AuditRow {
  id: number;
  at: string;
  token_id: string | null;
  token_name: string | null;
  client: string | null;
  action: string;
  outcome: string;
  app: string | null;
  stage: string | null;
  setting: string | null;
  revision: number | null;
  version: number | null;
  detail: string | null;
  mac: string;
}

export class MasterKeyMismatchError extends Error {}

/** An app's effective settings in one stage, as the run-time read answers them. */
export interface RuntimeSettings {
  revision: number;
  settings: Record<string, string | null>;
  etag: string;
}

export const TOKEN_PREFIX = 'odcp_';
export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export class Store {
  readonly db: Database.Database;
  readonly stages: Stage[];
  private readonly clock: () => Date;
  private readonly dataKeys = new Map<number, Buffer>();
  private activeDataKeyId = 0;
  private auditKey: Buffer = Buffer.alloc(0);
  /** true when this open created the store (first start). */
  readonly created: boolean;
  /** true when the store was opened with alternateMasterKey. */
  usedAlternateKey = false;
  /** Prepared statements of the hot paths (token lookup, run-time read, publish), compiled once. */
  private readonly statements = new Map<string, Database.Statement>();
  /**
   * Answers of the hot read paths, valid until anything is written to the store: by this
   * connection (total_changes()) or by another process such as the odc-portal CLI (PRAGMA
   * data_version). On the first read after a write they are dropped, not just bypassed, so a
   * replaced or deleted secret does not stay in memory. See freshMemos().
   */
  private memoStamp = '';
  private dataVersion = 0;
  private dataVersionChecked = false;
  private readonly tokenMemo = new Map<string, TokenRecord>();
  private readonly runtimeMemo = new Map<string, RuntimeSettings>();
  private readonly log: StoreLog;
  /** A WAL scrub that could not finish and is retried off the request path (see scrubWal). */
  private scrubRetry: NodeJS.Timeout | undefined;

  constructor(opts: StoreOptions) {
    this.stages = opts.stages;
    this.log = opts.log ?? { info: () => {}, warn: (msg) => process.stderr.write(`${msg}\n`) };
    this.clock = opts.clock ?? (() => new Date());
    this.db = new Database(opts.file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = FULL');
    this.db.pragma('busy_timeout = 5000');
    this.db.pragma('foreign_keys = ON');
    // Deleted content is overwritten, not left in free pages (SPEC §5).
    this.db.pragma('secure_delete = ON');
    const version = this.db.pragma('user_version', { simple: true }) as number;
    this.created = version === 0;
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]!);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
    const stored = this.meta('master_key_id');
    if (stored !== null && opts.alternateMasterKey && stored !== masterKeyId(opts.masterKey) && stored === masterKeyId(opts.alternateMasterKey)) {
      this.usedAlternateKey = true;
      this.loadKeys(opts.alternateMasterKey);
    } else {
      this.loadKeys(opts.masterKey);
    }
  }

  private now(): string {
    return this.clock().toISOString();
  }

  private stmt(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  /**
   * Whether the memos may be used: false inside a transaction (it could still roll back);
   * otherwise drops them if anything was committed since they were filled. This connection's
   * own writes are seen at once (total_changes() is cheap); other processes' commits through
   * PRAGMA data_version, which opens a read transaction (file locks), so it is read once per
   * turn of the event loop: once per request, not once per lookup.
   */
  private freshMemos(): boolean {
    if (this.db.inTransaction) return false;
    if (!this.dataVersionChecked) {
      this.dataVersion = this.stmt('PRAGMA data_version').pluck().get() as number;
      this.dataVersionChecked = true;
      process.nextTick(() => {
        this.dataVersionChecked = false;
      });
    }
    const stamp = `${this.dataVersion}:${this.stmt('SELECT total_changes()').pluck().get() as number}`;
    if (stamp !== this.memoStamp) {
      this.memoStamp = stamp;
      this.tokenMemo.clear();
      this.runtimeMemo.clear();
    }
    return true;
  }

  // ---- keys -------------------------------------------------------------------

  private loadKeys(masterKey: Buffer) {
    const id = masterKeyId(masterKey);
    const stored = this.meta('master_key_id');
    if (stored === null) {
      this.db.transaction(() => {
        this.setMeta('master_key_id', id);
        const at = this.now();
        for (const purpose of ['data', 'audit'] as const) {
          const info = this.db.prepare('INSERT INTO wrapped_keys (purpose, wrapped, created_at) VALUES (?, ?, ?)').run(purpose, Buffer.alloc(0), at);
          const keyId = Number(info.lastInsertRowid);
          this.db.prepare('UPDATE wrapped_keys SET wrapped = ? WHERE id = ?').run(wrapKey(masterKey, keyId, newKey()), keyId);
        }
      })();
    } else if (stored !== id) {
      throw new MasterKeyMismatchError('the master key does not match this store (wrong PORTAL_MASTER_KEY, keychain entry or key file?)');
    }
    const rows = this.db.prepare('SELECT id, purpose, wrapped FROM wrapped_keys ORDER BY id').all() as Array<{ id: number; purpose: string; wrapped: Buffer }>;
    for (const row of rows) {
      const key = unwrapKey(masterKey, row.id, row.wrapped);
      if (row.purpose === 'audit') this.auditKey = key;
      else {
        this.dataKeys.set(row.id, key);
        this.activeDataKeyId = row.id;
      }
    }
  }

  /**
   * Re-wraps every key under `newMasterKey` in one transaction; values are untouched.
   *
   * Two rotations must never interleave (SPEC §5): the transaction is opened IMMEDIATE (the
   * store's write lock) *before* `stage` stores the new key as pending, and held until the
   * commit. A second rotation therefore waits for the first (busy_timeout) and then finds the
   * master key changed (MasterKeyMismatchError: it is refused, nothing staged), or gives up
   * with SQLITE_BUSY. A process killed at any point releases the lock and leaves either the
   * old key id committed (its pending key is never promoted: pending keys are named by id) or
   * the new one (the pending key with that id is promoted at the next open).
   * IMMEDIATE also because the command runs beside a serving server: a deferred transaction
   * that read first could not upgrade to a write after the server's next commit.
   * `stage` is async (the keychain), so the transaction is driven by hand rather than with
   * db.transaction(); nothing else uses this connection meanwhile (the CLI owns it).
   */
  async rotateMasterKey(oldMasterKey: Buffer, newMasterKey: Buffer, actor: AuditActor, stage: () => Promise<void> = async () => {}): Promise<number> {
    this.db.exec('BEGIN IMMEDIATE');
    try {
      if (this.meta('master_key_id') !== masterKeyId(oldMasterKey)) {
        throw new MasterKeyMismatchError('another key rotation changed the master key while this one waited; nothing was changed by this run (run rotate-key again to rotate once more)');
      }
      await stage();
      const rows = this.db.prepare('SELECT id, wrapped FROM wrapped_keys').all() as Array<{ id: number; wrapped: Buffer }>;
      const update = this.db.prepare('UPDATE wrapped_keys SET wrapped = ? WHERE id = ?');
      for (const row of rows) update.run(wrapKey(newMasterKey, row.id, unwrapKey(oldMasterKey, row.id, row.wrapped)), row.id);
      this.setMeta('master_key_id', masterKeyId(newMasterKey));
      this.appendAudit(actor, { action: 'key.rotate', outcome: 'ok', detail: { keysRewrapped: rows.length } });
      this.db.exec('COMMIT');
      return rows.length;
    } catch (err) {
      if (this.db.inTransaction) this.db.exec('ROLLBACK');
      throw err;
    }
  }

  /** The master key id a store file was committed under (null: no store or a new one), read without opening it for writing. */
  static committedMasterKeyId(file: string): string | null {
    let db: Database.Database | undefined;
    try {
      db = new Database(file, { readonly: true, fileMustExist: true });
      db.pragma('busy_timeout = 5000');
      const row = db.prepare("SELECT value FROM meta WHERE key = 'master_key_id'").get() as { value: string } | undefined;
      return row?.value ?? null;
    } catch {
      return null; // no store yet, or no meta table: nothing committed
    } finally {
      db?.close();
    }
  }

  /** Whether a key is the one this store's keys are wrapped under. */
  matchesMasterKey(key: Buffer): boolean {
    return this.meta('master_key_id') === masterKeyId(key);
  }

  private meta(key: string): string | null {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value ?? null;
  }

  private setMeta(key: string, value: string) {
    this.stmt('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }

  private sealValue(app: string, stage: string, name: string, version: number, value: string): Buffer {
    const key = this.dataKeys.get(this.activeDataKeyId)!;
    return seal(this.activeDataKeyId, key, value, valueAad(app, stage, name, version));
  }

  /**
   * Decrypts a stored secret. Every failure to open it (a malformed or tampered header, an
   * unknown data key, a wrong tag or binding, text that is not UTF-8) is a DecryptionError
   * naming the app, stage and setting (a domain error: the caller reports it loudly as a 500);
   * never garbage, never the value.
   */
  openValue(row: Pick<ValueRow, 'app_key' | 'stage' | 'name' | 'version' | 'secret'>): string {
    const where = { app: row.app_key, stage: row.stage, setting: row.name };
    try {
      const blob = row.secret!;
      const key = this.dataKeys.get(blobKeyId(blob));
      if (!key) throw new DecryptionError('the ciphertext names an unknown data key');
      return open(key, blob, valueAad(row.app_key, row.stage, row.name, row.version));
    } catch (err) {
      throw DecryptionError.at(err, where);
    }
  }

  /**
   * Moves the WAL's content into the database and empties the WAL, so a deleted value's old
   * page images do not linger there (secure_delete handles free pages). SPEC §5: when another
   * process holds a read transaction (a backup tool, the sqlite shell) the checkpoint cannot
   * finish; then the store warns (naming no value) and retries on a timer, off the request
   * path, until it succeeds. No attempt waits: busy_timeout is 0 while it runs, so a request
   * never stalls behind a reader (the default 5 s wait would freeze the server).
   * (Storage-specific: a PostgreSQL store has no WAL file to scrub; keep the contract "a
   * deleted value leaves no readable copy, or the operator is told".)
   */
  private scrubWal() {
    if (this.scrubRetry) return; // a retry is due and covers this change too (it empties the whole WAL)
    if (this.checkpointed()) return;
    this.log.warn(
      'could not scrub the write-ahead log after a value was deleted: another process holds a read transaction on the store (a backup tool or the sqlite shell?); retrying in the background until it succeeds',
    );
    this.retryScrub(250);
  }

  /** One non-blocking TRUNCATE checkpoint; true when the WAL was fully checkpointed and emptied. */
  private checkpointed(): boolean {
    this.db.pragma('busy_timeout = 0');
    try {
      const [result] = this.db.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number; log: number; checkpointed: number }>;
      return !!result && result.busy === 0 && result.log === result.checkpointed;
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return false;
      throw err;
    } finally {
      this.db.pragma('busy_timeout = 5000');
    }
  }

  private retryScrub(delayMs: number) {
    this.scrubRetry = setTimeout(() => {
      this.scrubRetry = undefined;
      if (!this.db.open) return;
      if (this.db.inTransaction || !this.checkpointed()) return this.retryScrub(Math.min(delayMs * 2, 5_000));
      this.log.info('finished the WAL scrub that was waiting for another process to end its read transaction');
    }, delayMs);
    // Never keeps a process alive on its own; closing the store checkpoints what it can.
    this.scrubRetry.unref();
  }

  close() {
    clearTimeout(this.scrubRetry);
    this.scrubRetry = undefined;
    this.db.close();
  }

  /**
   * The stages that hold rows of this app, configured or not (SPEC §3: deletions apply to every
   * stage that holds values). A skip-scan over the primary key (app_key, stage, name): one index
   * seek per stage, not a scan of the app's values.
   */
  private storedStages(app: string): string[] {
    const next = this.stmt('SELECT stage FROM stage_values WHERE app_key = ? AND stage > ? ORDER BY stage LIMIT 1').pluck();
    const stages: string[] = [];
    for (let s = next.get(app, '') as string | undefined; s !== undefined; s = next.get(app, s) as string | undefined) stages.push(s);
    return stages;
  }

  /** Stages that hold values but are not configured: "app/stage" pairs, for the warning at start. */
  unconfiguredStoredStages(): string[] {
    const nextPair = this.db.prepare('SELECT app_key, stage FROM stage_values WHERE (app_key, stage) > (?, ?) ORDER BY app_key, stage LIMIT 1');
    const holds = this.db.prepare('SELECT 1 FROM stage_values WHERE app_key = ? AND stage = ? AND (plain IS NOT NULL OR secret IS NOT NULL) LIMIT 1').pluck();
    const found: string[] = [];
    let at = { app_key: '', stage: '' };
    for (;;) {
      const row = nextPair.get(at.app_key, at.stage) as { app_key: string; stage: string } | undefined;
      if (!row) break;
      if (!this.hasStage(row.stage) && holds.get(row.app_key, row.stage) !== undefined) found.push(`${row.app_key}/${row.stage}`);
      at = row;
    }
    return found;
  }

  // ---- apps and publish --------------------------------------------------------

  stageKeys(): string[] {
    return this.stages.map((s) => s.key);
  }

  hasStage(stage: string): boolean {
    return this.stages.some((s) => s.key === stage);
  }

  listApps(): AppSummary[] {
    const rows = this.db.prepare('SELECT key, name, revision, published_at FROM apps ORDER BY key').all() as Array<{
      key: string;
      name: string;
      revision: number;
      published_at: string;
    }>;
    return rows.map((r) => ({ key: r.key, name: r.name, revision: r.revision, publishedAt: r.published_at }));
  }

  private currentRow(app: string): { name: string; revision: number; published_at: string; published_by: string | null; definitions: string } | undefined {
    return this.stmt(
      `SELECT a.name, a.revision, a.published_at, a.published_by, r.definitions FROM apps a
       JOIN revisions r ON r.app_key = a.key AND r.revision = a.revision WHERE a.key = ?`,
    ).get(app) as { name: string; revision: number; published_at: string; published_by: string | null; definitions: string } | undefined;
  }

  private currentDefinitions(
    app: string,
    row = this.currentRow(app),
  ): { name: string; revision: number; publishedAt: string; publishedBy: string | null; settings: NormalizedSetting[] } | null {
    if (!row) return null;
    const defs = JSON.parse(row.definitions) as NormalizedDefinitions;
    return { name: row.name, revision: row.revision, publishedAt: row.published_at, publishedBy: row.published_by, settings: defs.settings };
  }

  getApp(app: string): AppResponse {
    const current = this.currentDefinitions(app);
    if (!current) throw notFound(`app "${app}" has not been published; publish it from VS Code first`);
    return {
      key: app,
      name: current.name,
      revision: current.revision,
      publishedAt: current.publishedAt,
      publishedBy: current.publishedBy,
      settings: current.settings,
    };
  }

  /** One stored value's plaintext (decrypting a secret); inside publish's transaction. */
  private readStoredValue(app: string, stage: string, name: string): string {
    const row = this.stmt('SELECT * FROM stage_values WHERE app_key = ? AND stage = ? AND name = ?').get(app, stage, name) as ValueRow | undefined;
    if (!row || (row.plain === null && row.secret === null)) throw new Error(`publish: the value of ${name} in ${stage} is gone`);
    return row.secret ? this.openValue(row) : row.plain!;
  }

  publish(next: NormalizedDefinitions, opts: { baseRevision?: number; dryRun?: boolean }, actor: AuditActor): PublishResponse {
    const app = next.app.key;
    const nextJson = JSON.stringify(next);
    const run = () => {
      const head = this.currentRow(app);
      const revision = head?.revision ?? 0;
      if (opts.baseRevision !== undefined && opts.baseRevision !== revision) {
        throw conflict(
          `app "${app}" is at revision ${revision}, not ${opts.baseRevision}: someone else published meanwhile; plan again and review the changes`,
          { currentRevision: revision },
        );
      }
      // The very document of the published revision: nothing changes and there is no plan to compute.
      if (head && head.definitions === nextJson) {
        return { revision, changed: false, dryRun: !!opts.dryRun, plan: { added: [], removed: [], changed: [], deletions: [] } };
      }
      const current = this.currentDefinitions(app, head);
      // Only a setting that is removed, changes type or flips isSecret can lose values (SPEC §3):
      // read those settings' values, not every value of the app.
      const nextByName = new Map(next.settings.map((s) => [s.name, s]));
      // A removed setting or an isSecret flip loses every value: only which (stage, name) pairs
      // hold one matters. A type change keeps the values valid for the new type: those are read.
      const dropped: string[] = [];
      const retyped: string[] = [];
      for (const s of current?.settings ?? []) {
        const n = nextByName.get(s.name);
        if (!n || n.isSecret !== s.isSecret) dropped.push(s.name);
        else if (n.type !== s.type) retyped.push(s.name);
      }
      // Every stage that holds rows of the app, configured or not (SPEC §3: a stage dropped from
      // the configuration keeps its values, and a later publish must delete them there too).
      // Each lookup then uses the whole primary key (app, stage, name) instead of scanning every
      // value of the app.
      const stagesJson = JSON.stringify(this.storedStages(app));
      const refs: StoredValueRef[] = [];
      if (dropped.length > 0) {
        const pairs = this.stmt(
          'SELECT stage, name FROM stage_values WHERE app_key = ? AND stage IN (SELECT value FROM json_each(?)) AND name IN (SELECT value FROM json_each(?)) AND (plain IS NOT NULL OR secret IS NOT NULL)',
        ).all(app, stagesJson, JSON.stringify(dropped)) as Array<{ stage: string; name: string }>;
        for (const { stage, name } of pairs) refs.push({ stage, name, read: () => this.readStoredValue(app, stage, name) });
      }
      if (retyped.length > 0) {
        const rows = this.stmt(
          'SELECT * FROM stage_values WHERE app_key = ? AND stage IN (SELECT value FROM json_each(?)) AND name IN (SELECT value FROM json_each(?)) AND (plain IS NOT NULL OR secret IS NOT NULL)',
        ).all(app, stagesJson, JSON.stringify(retyped)) as ValueRow[];
        for (const row of rows) refs.push({ stage: row.stage, name: row.name, read: () => (row.secret ? this.openValue(row) : row.plain!) });
      }
      const { plan, changed } = computePlan(current && { name: current.name, settings: current.settings }, next, refs, this.stageKeys());
      if (opts.dryRun || !changed) return { revision, changed, dryRun: !!opts.dryRun, plan };

      const at = this.now();
      const newRevision = revision + 1;
      const by = actor.tokenName;
      this.stmt(
        `INSERT INTO apps (key, name, revision, published_at, published_by) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (key) DO UPDATE SET name = excluded.name, revision = excluded.revision,
           published_at = excluded.published_at, published_by = excluded.published_by`,
      ).run(app, next.app.name, newRevision, at, by);
      this.stmt('INSERT INTO revisions (app_key, revision, definitions, published_at, published_by) VALUES (?, ?, ?, ?, ?)').run(app, newRevision, nextJson, at, by);
      scrubRevisions = this.dropSecretDefaultsFromHistory(app, newRevision, current?.settings ?? [], next.settings);
      // A deletion is a write: the pair's version moves on and its value is gone. One set-based
      // statement for all of them (each pair found by primary key), not one statement per value.
      if (plan.deletions.length > 0) {
        const deleted = this.stmt(
          `UPDATE stage_values SET plain = NULL, secret = NULL, version = version + 1, updated_at = ?, updated_by = ?
           WHERE app_key = ? AND (stage, name) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?))`,
        ).run(at, by, app, JSON.stringify(plan.deletions.map((d) => [d.stage, d.setting])));
        if (deleted.changes !== plan.deletions.length) throw new Error(`publish: ${deleted.changes} values deleted, the plan has ${plan.deletions.length}`);
      }
      this.appendAudit(actor, {
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
    };
    let scrubRevisions = false;
    const result = this.db.transaction(run).immediate();
    if (!result.dryRun && (result.plan.deletions.length > 0 || scrubRevisions)) this.scrubWal();
    return result;
  }

  /**
   * SPEC §5: when a setting is secret now, no earlier revision keeps a default for it in clear.
   * Runs in publish's transaction for the settings that are secret now and were not secret (or
   * not there) in the published revision; settings that were secret already were scrubbed when
   * they became secret. Returns whether any revision changed (then the WAL needs a scrub).
   */
  private dropSecretDefaultsFromHistory(app: string, newRevision: number, before: NormalizedSetting[], after: NormalizedSetting[]): boolean {
    const wasSecret = new Set(before.filter((s) => s.isSecret).map((s) => s.name));
    const becameSecret = new Set(after.filter((s) => s.isSecret && !wasSecret.has(s.name)).map((s) => s.name));
    if (becameSecret.size === 0) return false;
    const rows = this.stmt('SELECT revision, definitions FROM revisions WHERE app_key = ? AND revision < ?').all(app, newRevision) as Array<{ revision: number; definitions: string }>;
    const update = this.stmt('UPDATE revisions SET definitions = ? WHERE app_key = ? AND revision = ?');
    let changed = false;
    for (const row of rows) {
      const defs = JSON.parse(row.definitions) as NormalizedDefinitions;
      let edited = false;
      for (const s of defs.settings) {
        if (becameSecret.has(s.name) && s.defaultValue !== null) {
          s.defaultValue = null;
          edited = true;
        }
      }
      if (edited) {
        update.run(JSON.stringify(defs), app, row.revision);
        changed = true;
      }
    }
    return changed;
  }

  // ---- stage values --------------------------------------------------------------

  private valueRows(app: string, stage: string): Map<string, ValueRow> {
    const rows = this.stmt('SELECT * FROM stage_values WHERE app_key = ? AND stage = ?').all(app, stage) as ValueRow[];
    return new Map(rows.map((r) => [r.name, r]));
  }

  private requireStage(stage: string) {
    if (!this.hasStage(stage)) throw notFound(`stage "${stage}" does not exist; the stages are ${this.stageKeys().join(', ')}`);
  }

  readStage(app: string, stage: string): StageSettingsResponse {
    this.requireStage(stage);
    const current = this.getApp(app);
    const values = this.valueRows(app, stage);
    const settings: StageSetting[] = current.settings.map((s) => {
      const row = values.get(s.name);
      const hasValue = !!row && (row.plain !== null || row.secret !== null);
      return {
        name: s.name,
        type: s.type,
        description: s.description,
        isSecret: s.isSecret,
        hasValue,
        value: hasValue ? (s.isSecret ? SECRET_MASK : row!.plain) : null,
        defaultValue: s.isSecret ? null : s.defaultValue,
        missing: s.isSecret && !hasValue,
        version: row?.version ?? 0,
        updatedAt: row?.updated_at ?? null,
        updatedBy: row?.updated_by ?? null,
      };
    });
    return { app, stage, revision: current.revision, settings };
  }

  /** Applies a batch all or nothing: unknown setting 404, stale version 409, invalid value 422. */
  patchStage(app: string, stage: string, changes: ValueChange[], actor: AuditActor): StageSettingsResponse {
    this.requireStage(stage);
    let scrub = false;
    this.db
      .transaction(() => {
        const current = this.getApp(app);
        const defs = new Map(current.settings.map((s) => [s.name, s]));
        const unknown = changes.filter((c) => !defs.has(c.name)).map((c) => c.name);
        if (unknown.length > 0) throw notFound(`no setting named ${unknown.map((n) => `"${n}"`).join(', ')} in app "${app}" (names match exactly, case included)`);
        const values = this.valueRows(app, stage);
        const conflicts = changes.filter((c) => (values.get(c.name)?.version ?? 0) !== c.baseVersion).map((c) => c.name);
        if (conflicts.length > 0) {
          throw conflict(`someone else changed ${conflicts.join(', ')} in ${stage} since you loaded it; reload and apply your edit again`, { conflicts });
        }
        const errors: Array<{ name: string; detail: string }> = [];
        for (const c of changes) {
          const def = defs.get(c.name)!;
          const problem = c.value === null ? undefined : checkValue(def.type, c.value, def.isSecret);
          if (problem) errors.push({ name: c.name, detail: `${c.name} ${problem}` });
        }
        if (errors.length > 0) throw unprocessable(`${errors.length} value(s) are not valid for their type; nothing was saved`, { errors });

        const at = this.now();
        const by = actor.tokenName;
        const upsert = this.db.prepare(
          `INSERT INTO stage_values (app_key, stage, name, version, plain, secret, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT (app_key, stage, name) DO UPDATE SET version = excluded.version, plain = excluded.plain,
             secret = excluded.secret, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
        );
        for (const c of changes) {
          const def = defs.get(c.name)!;
          const before = values.get(c.name);
          const hadValue = !!before && (before.plain !== null || before.secret !== null);
          const version = c.baseVersion + 1;
          const secret = def.isSecret && c.value !== null ? this.sealValue(app, stage, c.name, version, c.value) : null;
          const plain = !def.isSecret ? c.value : null;
          upsert.run(app, stage, c.name, version, plain, secret, at, by);
          // Only a plaintext value needs scrubbing from the WAL; a secret's old copy there is ciphertext.
          if (hadValue && before!.plain !== null) scrub = true;
          const action = c.value === null ? 'value.clear' : hadValue ? 'value.replace' : 'value.set';
          this.appendAudit(actor, { action, outcome: 'ok', app, stage, setting: c.name, revision: current.revision, version, detail: { isSecret: def.isSecret } });
        }
      })
      .immediate();
    if (scrub) this.scrubWal();
    return this.readStage(app, stage);
  }

  /**
   * The decrypted effective settings, for the runtime identity only. The answer is memoized
   * (decrypted, in memory) until the next write to the store; the returned object is frozen.
   */
  runtimeSettings(app: string, stage: string): RuntimeSettings {
    this.requireStage(stage);
    const memoKey = `${app}\u0000${stage}`;
    const memoize = this.freshMemos();
    const memo = memoize ? this.runtimeMemo.get(memoKey) : undefined;
    if (memo) return memo;
    const current = this.getApp(app);
    const values = this.valueRows(app, stage);
    const settings: Record<string, string | null> = Object.create(null);
    const versions = createHash('sha256').update(`${app}\n${stage}\n${current.revision}`);
    for (const s of current.settings) {
      const row = values.get(s.name);
      versions.update(`\n${s.name}:${row?.version ?? 0}`);
      let value: string | null = null;
      if (row?.secret) value = this.openValue(row);
      else if (row?.plain != null) value = row.plain;
      else if (!s.isSecret) value = s.defaultValue;
      settings[s.name] = value;
    }
    // Derived from the revision and the value versions, never from the values.
    const etag = `"r${current.revision}-${versions.digest('base64url').slice(0, 22)}"`;
    const result: RuntimeSettings = Object.freeze({ revision: current.revision, settings: Object.freeze({ ...settings }), etag });
    if (memoize) this.runtimeMemo.set(memoKey, result);
    return result;
  }

  // ---- tokens ------------------------------------------------------------------------

  createToken(input: { name: string; role: Role; apps: Scope; stages: Scope }, actor: AuditActor): { id: string; token: string } {
    const id = `tok_${randomBytes(8).toString('hex')}`;
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    this.db.transaction(() => {
      this.db
        .prepare('INSERT INTO tokens (id, name, role, apps, stages, hash, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)')
        .run(id, input.name, input.role, JSON.stringify(input.apps), JSON.stringify(input.stages), hashToken(token), this.now());
      this.appendAudit(actor, { action: 'token.create', outcome: 'ok', detail: { id, name: input.name, role: input.role } });
    }).immediate();
    return { id, token };
  }

  /** The active token with this secret, or null. Memoized until the next write (a revocation is one); frozen. */
  findToken(token: string): TokenRecord | null {
    const hash = hashToken(token);
    const memoize = this.freshMemos();
    const memo = memoize ? this.tokenMemo.get(hash) : undefined;
    if (memo) return memo;
    const row = this.stmt('SELECT id, name, role, apps, stages FROM tokens WHERE hash = ? AND revoked_at IS NULL').get(hash) as
      | { id: string; name: string; role: Role; apps: string; stages: string }
      | undefined;
    if (!row) return null;
    const freezeScope = (s: Scope): Scope => (Array.isArray(s) ? (Object.freeze([...s]) as string[]) : s);
    const found: TokenRecord = Object.freeze({
      id: row.id,
      name: row.name,
      role: row.role,
      apps: freezeScope(JSON.parse(row.apps) as Scope),
      stages: freezeScope(JSON.parse(row.stages) as Scope),
    });
    // Only active tokens are kept (at most one entry per row of the tokens table).
    if (memoize) this.tokenMemo.set(hash, found);
    return found;
  }

  listTokens(): TokenInfo[] {
    const rows = this.db.prepare('SELECT id, name, role, apps, stages, created_at, revoked_at FROM tokens ORDER BY created_at, id').all() as Array<{
      id: string;
      name: string;
      role: Role;
      apps: string;
      stages: string;
      created_at: string;
      revoked_at: string | null;
    }>;
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      role: r.role,
      apps: JSON.parse(r.apps) as Scope,
      stages: JSON.parse(r.stages) as Scope,
      createdAt: r.created_at,
      revokedAt: r.revoked_at,
    }));
  }

  countTokens(): number {
    return (this.db.prepare('SELECT count(*) AS n FROM tokens').get() as { n: number }).n;
  }

  revokeToken(id: string, actor: AuditActor): void {
    this.db
      .transaction(() => {
        const row = this.db.prepare('SELECT role, revoked_at FROM tokens WHERE id = ?').get(id) as { role: Role; revoked_at: string | null } | undefined;
        if (!row || row.revoked_at) throw notFound(`no active token with id "${id}"; list them with GET /api/v1/tokens`);
        if (row.role === 'admin') {
          const admins = (this.db.prepare("SELECT count(*) AS n FROM tokens WHERE role = 'admin' AND revoked_at IS NULL").get() as { n: number }).n;
          if (admins <= 1) throw conflict('this is the last admin token; create another admin token before revoking it');
        }
        this.db.prepare('UPDATE tokens SET revoked_at = ? WHERE id = ?').run(this.now(), id);
        this.appendAudit(actor, { action: 'token.revoke', outcome: 'ok', detail: { id } });
      })
      .immediate();
  }

  // ---- audit -------------------------------------------------------------------------

  /** Appends one record to the chain; call inside the transaction of the change it records. */
  appendAudit(actor: AuditActor, entry: AuditEntry): AuditRecord {
    const last = this.stmt('SELECT id, mac FROM audit ORDER BY id DESC LIMIT 1').get() as { id: number; mac: string } | undefined;
    const record: AuditRecord = {
      id: (last?.id ?? 0) + 1,
      at: this.now(),
      tokenId: actor.tokenId,
      tokenName: actor.tokenName,
      client: actor.client ?? null,
      action: entry.action,
      outcome: entry.outcome,
      app: entry.app ?? null,
      stage: entry.stage ?? null,
      setting: entry.setting ?? null,
      revision: entry.revision ?? null,
      version: entry.version ?? null,
      detail: entry.detail ?? null,
    };
    const mac = recordMac(this.auditKey, last?.mac ?? GENESIS_MAC, record);
    // The head names the newest record under the key, so cutting records off the end shows too.
    this.setMeta('audit_head', `${record.id}:${headMac(this.auditKey, record.id, mac)}`);
    this.stmt(
      `INSERT INTO audit (id, at, token_id, token_name, client, action, outcome, app, stage, setting, revision, version, detail, mac)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      record.id,
      record.at,
      record.tokenId,
      record.tokenName,
      record.client,
      record.action,
      record.outcome,
      record.app,
      record.stage,
      record.setting,
      record.revision,
      record.version,
      record.detail === null ? null : JSON.stringify(record.detail),
      mac,
    );
    return record;
  }

  /** Records a refusal in its own transaction. */
  recordRefusal(actor: AuditActor, entry: AuditEntry): void {
    this.db.transaction(() => this.appendAudit(actor, entry)).immediate();
  }

  private toRecord(r: AuditRow): AuditRecord {
    return {
      id: r.id,
      at: r.at,
      tokenId: r.token_id,
      tokenName: r.token_name,
      client: r.client,
      action: r.action,
      outcome: r.outcome as AuditRecord['outcome'],
      app: r.app,
      stage: r.stage,
      setting: r.setting,
      revision: r.revision,
      version: r.version,
      detail: r.detail === null ? null : (JSON.parse(r.detail) as Record<string, unknown>),
    };
  }

  listAudit(opts: { app?: string; stages?: string[]; limit: number; before?: number }): AuditRecord[] {
    const where: string[] = [];
    const args: Array<string | number> = [];
    if (opts.stages !== undefined) {
      // A stage-scoped reader sees the app's events of its stages and those of no stage (publishes).
      where.push(`(stage IS NULL OR stage IN (${opts.stages.map(() => '?').join(',') || 'NULL'}))`);
      args.push(...opts.stages);
    }
    if (opts.app !== undefined) {
      where.push('app = ?');
      args.push(opts.app);
    }
    if (opts.before !== undefined) {
      where.push('id < ?');
      args.push(opts.before);
    }
    const sql = `SELECT * FROM audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY id DESC LIMIT ?`;
    const rows = this.db.prepare(sql).all(...args, opts.limit) as AuditRow[];
    return rows.map((r) => this.toRecord(r));
  }

  /** Walks the chain; the first record whose MAC or position does not match is reported. */
  verifyAudit(): { ok: boolean; events: number; firstBadEvent?: number } {
    let prev = GENESIS_MAC;
    let expectedId = 1;
    let events = 0;
    for (const row of this.db.prepare('SELECT * FROM audit ORDER BY id').iterate() as IterableIterator<AuditRow>) {
      events++;
      const record = this.toRecord(row);
      if (row.id !== expectedId || recordMac(this.auditKey, prev, record) !== row.mac) return { ok: false, events, firstBadEvent: row.id };
      prev = row.mac;
      expectedId++;
    }
    // A store always holds at least the record of its first admin token (SPEC §7): an empty
    // audit, or records without their signed head, means records were cut off or emptied.
    const head = this.meta('audit_head');
    if (events === 0 || head !== `${events}:${headMac(this.auditKey, events, prev)}`) return { ok: false, events, firstBadEvent: events + 1 };
    return { ok: true, events };
  }
}
