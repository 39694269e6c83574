// The embedded store on SQLite (better-sqlite3), one process. Two connections to one WAL-mode
// file: the writer runs transactions, one at a time (an in-process queue: a transaction's
// callback is async, and no other request may write on the connection while it is open); the
// reader answers every read outside a transaction, so it sees committed data only.
import Database from 'better-sqlite3';
import { SEALED_NOT_READ } from '../storage';
import type {
  AppHeadRow,
  AppSummaryRow,
  AuditFilter,
  AuditRow,
  HistoryRow,
  KeyPurpose,
  Storage,
  StorageReads,
  StorageTx,
  TokenRow,
  ValueRow,
  ValueWrite,
  WrappedKeyRow,
} from '../storage';
import { MIGRATIONS } from './schema';

export interface StorageLog {
  info(msg: string): void;
  warn(msg: string): void;
}

interface RawValue {
  stage: string;
  name: string;
  version: number;
  plain: string | null;
  secret: Buffer | null;
  fingerprint: Buffer | null;
  updated_at: string;
  updated_by: string | null;
}

interface RawHistory extends RawValue {
  action: HistoryRow['action'];
  is_secret: number;
}

interface RawAudit {
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

const toValue = (r: RawValue): ValueRow => ({
  stage: r.stage,
  name: r.name,
  version: r.version,
  plain: r.plain,
  sealed: r.secret,
  fingerprint: r.fingerprint ?? null,
  updatedAt: r.updated_at,
  updatedBy: r.updated_by,
});

const toHistory = (r: RawHistory): HistoryRow => ({
  stage: r.stage,
  name: r.name,
  version: r.version,
  action: r.action,
  isSecret: r.is_secret === 1,
  plain: r.plain,
  sealed: r.secret,
  fingerprint: r.fingerprint,
  at: r.updated_at,
  by: r.updated_by,
});

const toAudit = (r: RawAudit): AuditRow => ({
  id: r.id,
  at: r.at,
  tokenId: r.token_id,
  tokenName: r.token_name,
  client: r.client,
  action: r.action,
  outcome: r.outcome,
  app: r.app,
  stage: r.stage,
  setting: r.setting,
  revision: r.revision,
  version: r.version,
  detail: r.detail,
  mac: r.mac,
});

const TOKEN_COLUMNS = 'id, name, role, apps, stages, created_at AS createdAt, revoked_at AS revokedAt';
const HEAD_SQL = `SELECT a.key, a.name, a.revision, a.published_at AS publishedAt, a.published_by AS publishedBy, r.definitions
  FROM apps a JOIN revisions r ON r.app_key = a.key AND r.revision = a.revision WHERE a.key = ?`;

function configure(db: Database.Database) {
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  // Deleted content is overwritten, not left in free pages (SPEC §5).
  db.pragma('secure_delete = ON');
}

/** Reads over one connection; prepared statements compiled once. */
class SqliteReads implements StorageReads {
  private readonly statements = new Map<string, Database.Statement>();
  constructor(protected readonly db: Database.Database) {}

  protected stmt(sql: string): Database.Statement {
    let statement = this.statements.get(sql);
    if (!statement) {
      statement = this.db.prepare(sql);
      this.statements.set(sql, statement);
    }
    return statement;
  }

  async meta(key: string) {
    return this.metaSync(key);
  }
  metaSync(key: string): string | null {
    const row = this.stmt('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value ?? null;
  }
  async wrappedKeys() {
    return this.stmt('SELECT id, purpose, wrapped FROM wrapped_keys ORDER BY id').all() as WrappedKeyRow[];
  }
  async listApps() {
    return this.stmt('SELECT key, name, revision, published_at AS publishedAt FROM apps ORDER BY key').all() as AppSummaryRow[];
  }
  async appHead(app: string) {
    return this.headSync(app);
  }
  protected headSync(app: string): AppHeadRow | null {
    return (this.stmt(HEAD_SQL).get(app) as AppHeadRow | undefined) ?? null;
  }
  protected valuesSync(app: string, stage: string): ValueRow[] {
    return (this.stmt('SELECT * FROM stage_values WHERE app_key = ? AND stage = ?').all(app, stage) as RawValue[]).map(toValue);
  }
  async stageSnapshot(app: string, stage: string) {
    // One read transaction: the head and the values of one commit.
    return this.db.transaction(() => ({ head: this.headSync(app), values: this.valuesSync(app, stage) }))();
  }
  async stagesSnapshot(app: string, stages: string[], opts: { sealedBlobs?: boolean } = {}) {
    // One read transaction; one primary-key range scan per stage, which beats an IN over
    // json_each for the few stages a compare names. Without sealed blobs (compare) the secrets'
    // ciphertexts are not even copied out of SQLite.
    const read = opts.sealedBlobs === false ? (stage: string) => this.valuesWithoutSealed(app, stage) : (stage: string) => this.valuesSync(app, stage);
    return this.db.transaction(() => ({ head: this.headSync(app), values: stages.flatMap(read) }))();
  }
  private valuesWithoutSealed(app: string, stage: string): ValueRow[] {
    const rows = this.stmt(
      'SELECT stage, name, version, plain, secret IS NOT NULL AS sealed, fingerprint, updated_at, updated_by FROM stage_values WHERE app_key = ? AND stage = ?',
    ).all(app, stage) as Array<Omit<RawValue, 'secret'> & { sealed: number }>;
    return rows.map((r) => ({ stage: r.stage, name: r.name, version: r.version, plain: r.plain, sealed: r.sealed ? SEALED_NOT_READ : null, fingerprint: r.fingerprint ?? null, updatedAt: r.updated_at, updatedBy: r.updated_by }));
  }
  async history(app: string, stage: string, name: string) {
    return (this.stmt('SELECT * FROM value_history WHERE app_key = ? AND stage = ? AND name = ? ORDER BY version DESC').all(app, stage, name) as RawHistory[]).map(toHistory);
  }
  async tokenByHash(hash: string) {
    return (this.stmt(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE hash = ? AND revoked_at IS NULL`).get(hash) as TokenRow | undefined) ?? null;
  }
  async listTokens() {
    return this.stmt(`SELECT ${TOKEN_COLUMNS} FROM tokens ORDER BY created_at, id`).all() as TokenRow[];
  }
  async countTokens() {
    return (this.stmt('SELECT count(*) AS n FROM tokens').get() as { n: number }).n;
  }
  async listAudit(opts: AuditFilter) {
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
    return (this.db.prepare(sql).all(...args, opts.limit) as RawAudit[]).map(toAudit);
  }
  /**
   * A skip-scan over the primary key (app_key, stage, name): one index seek per (app, stage)
   * pair, not a scan of every value; then whether the pair holds a value at all.
   */
  async storedStages() {
    const nextPair = this.stmt('SELECT app_key, stage FROM stage_values WHERE (app_key, stage) > (?, ?) ORDER BY app_key, stage LIMIT 1');
    const holds = this.stmt('SELECT 1 FROM stage_values WHERE app_key = ? AND stage = ? AND (plain IS NOT NULL OR secret IS NOT NULL) LIMIT 1');
    const found: Array<{ app: string; stage: string }> = [];
    let at = { app_key: '', stage: '' };
    for (;;) {
      const row = nextPair.get(at.app_key, at.stage) as { app_key: string; stage: string } | undefined;
      if (!row) break;
      if (holds.get(row.app_key, row.stage) !== undefined) found.push({ app: row.app_key, stage: row.stage });
      at = row;
    }
    return found;
  }
  /** The stages that hold rows of this app: one index seek per stage (skip-scan). */
  protected stagesOf(app: string): string[] {
    const next = this.stmt('SELECT stage FROM stage_values WHERE app_key = ? AND stage > ? ORDER BY stage LIMIT 1').pluck();
    const stages: string[] = [];
    for (let s = next.get(app, '') as string | undefined; s !== undefined; s = next.get(app, s) as string | undefined) stages.push(s);
    return stages;
  }
  async *auditRows(): AsyncIterable<AuditRow> {
    // In pages, not one open iterator: the connection serves other reads between pages.
    let after = 0;
    for (;;) {
      const page = this.stmt('SELECT * FROM audit WHERE id > ? ORDER BY id LIMIT 1000').all(after) as RawAudit[];
      for (const row of page) yield toAudit(row);
      if (page.length < 1000) return;
      after = page[page.length - 1]!.id;
    }
  }
}

/** The writer connection inside a transaction (BEGIN IMMEDIATE: the store's one writer). */
class SqliteTx extends SqliteReads implements StorageTx {
  async setMeta(key: string, value: string) {
    this.stmt('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value').run(key, value);
  }
  async lockKeys() {
    // The IMMEDIATE transaction already excludes every other writer.
  }
  async insertWrappedKey(purpose: KeyPurpose, at: string, wrap: (id: number) => Buffer) {
    const info = this.stmt('INSERT INTO wrapped_keys (purpose, wrapped, created_at) VALUES (?, ?, ?)').run(purpose, Buffer.alloc(0), at);
    const id = Number(info.lastInsertRowid);
    await this.updateWrappedKey(id, wrap(id));
    return id;
  }
  async updateWrappedKey(id: number, wrapped: Buffer) {
    this.stmt('UPDATE wrapped_keys SET wrapped = ? WHERE id = ?').run(wrapped, id);
  }
  async lockApp(app: string) {
    return this.headSync(app);
  }
  async upsertApp(row: { key: string; name: string; revision: number; publishedAt: string; publishedBy: string | null }) {
    this.stmt(
      `INSERT INTO apps (key, name, revision, published_at, published_by) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (key) DO UPDATE SET name = excluded.name, revision = excluded.revision,
         published_at = excluded.published_at, published_by = excluded.published_by`,
    ).run(row.key, row.name, row.revision, row.publishedAt, row.publishedBy);
  }
  async insertRevision(row: { app: string; revision: number; definitions: string | Buffer; publishedAt: string; publishedBy: string | null }) {
    this.stmt('INSERT INTO revisions (app_key, revision, definitions, published_at, published_by) VALUES (?, ?, ?, ?, ?)').run(
      row.app,
      row.revision,
      row.definitions,
      row.publishedAt,
      row.publishedBy,
    );
  }
  async heldValues(app: string, names: string[], stages: string[] | null) {
    if (names.length === 0) return [];
    // Each lookup uses the whole primary key (app, stage, name); all stages: the ones that hold
    // rows of the app, found by a skip-scan rather than by scanning every value of the app.
    const rows = this.stmt(
      `SELECT * FROM stage_values WHERE app_key = ? AND stage IN (SELECT value FROM json_each(?)) AND name IN (SELECT value FROM json_each(?))
       AND (plain IS NOT NULL OR secret IS NOT NULL)`,
    ).all(app, JSON.stringify(stages ?? this.stagesOf(app)), JSON.stringify(names)) as RawValue[];
    return rows.map(toValue);
  }
  async stageValues(app: string, stage: string) {
    return this.valuesSync(app, stage);
  }
  async revisionsBefore(app: string, revision: number) {
    return this.stmt('SELECT revision, definitions FROM revisions WHERE app_key = ? AND revision < ? ORDER BY revision').all(app, revision) as Array<{ revision: number; definitions: string | Buffer }>;
  }
  async updateRevision(app: string, revision: number, definitions: string | Buffer) {
    this.stmt('UPDATE revisions SET definitions = ? WHERE app_key = ? AND revision = ?').run(definitions, app, revision);
  }
  // Batches run their statement per row: in-process statements cost microseconds, not round trips.
  async writeValues(writes: ValueWrite[]) {
    const insert = this.stmt(
      `INSERT INTO stage_values (app_key, stage, name, version, plain, secret, fingerprint, updated_at, updated_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (app_key, stage, name) DO NOTHING`,
    );
    const update = this.stmt(
      `UPDATE stage_values SET version = ?, plain = ?, secret = ?, fingerprint = ?, updated_at = ?, updated_by = ?
       WHERE app_key = ? AND stage = ? AND name = ? AND version = ?`,
    );
    return writes
      .filter((w) =>
        w.baseVersion === 0
          ? insert.run(w.app, w.stage, w.name, w.version, w.plain, w.sealed, w.fingerprint, w.at, w.by).changes !== 1
          : update.run(w.version, w.plain, w.sealed, w.fingerprint, w.at, w.by, w.app, w.stage, w.name, w.baseVersion).changes !== 1,
      )
      .map((w) => w.name);
  }
  async deleteValues(app: string, pairs: Array<{ stage: string; name: string }>, at: string, by: string | null) {
    if (pairs.length === 0) return 0;
    // One set-based statement for all of them (each pair found by primary key).
    const list = JSON.stringify(pairs.map((p) => [p.stage, p.name]));
    this.stmt(`DELETE FROM value_history WHERE app_key = ? AND (stage, name) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?))`).run(app, list);
    return this.stmt(
      `UPDATE stage_values SET plain = NULL, secret = NULL, fingerprint = NULL, version = version + 1, updated_at = ?, updated_by = ?
       WHERE app_key = ? AND (stage, name) IN (SELECT value ->> 0, value ->> 1 FROM json_each(?))`,
    ).run(at, by, app, list).changes;
  }
  async setFingerprint(app: string, stage: string, name: string, version: number, fingerprint: Buffer) {
    this.stmt('UPDATE stage_values SET fingerprint = ? WHERE app_key = ? AND stage = ? AND name = ? AND version = ?').run(fingerprint, app, stage, name, version);
  }
  async insertHistories(app: string, rows: HistoryRow[]) {
    const insert = this.stmt(
      `INSERT INTO value_history (app_key, stage, name, version, action, is_secret, plain, secret, fingerprint, updated_at, updated_by)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const h of rows) insert.run(app, h.stage, h.name, h.version, h.action, h.isSecret ? 1 : 0, h.plain, h.sealed, h.fingerprint, h.at, h.by);
  }
  async pruneHistories(app: string, pairs: Array<{ stage: string; name: string; upTo: number }>) {
    const held = this.stmt('SELECT count(*) AS n FROM value_history WHERE app_key = ? AND stage = ? AND name = ? AND version <= ? AND (plain IS NOT NULL OR secret IS NOT NULL)');
    const drop = this.stmt('DELETE FROM value_history WHERE app_key = ? AND stage = ? AND name = ? AND version <= ?');
    let withValue = 0;
    for (const p of pairs) {
      withValue += (held.get(app, p.stage, p.name, p.upTo) as { n: number }).n;
      drop.run(app, p.stage, p.name, p.upTo);
    }
    return withValue;
  }
  async deleteSettingHistory(app: string, names: string[]) {
    if (names.length === 0) return 0;
    return this.stmt('DELETE FROM value_history WHERE app_key = ? AND name IN (SELECT value FROM json_each(?))').run(app, JSON.stringify(names)).changes;
  }
  async insertToken(row: TokenRow & { hash: string }) {
    this.stmt('INSERT INTO tokens (id, name, role, apps, stages, hash, created_at, revoked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)').run(
      row.id,
      row.name,
      row.role,
      row.apps,
      row.stages,
      row.hash,
      row.createdAt,
      row.revokedAt,
    );
  }
  async tokenForUpdate(id: string) {
    return (this.stmt(`SELECT ${TOKEN_COLUMNS} FROM tokens WHERE id = ?`).get(id) as TokenRow | undefined) ?? null;
  }
  async lockActiveAdmins() {
    return (this.stmt("SELECT count(*) AS n FROM tokens WHERE role = 'admin' AND revoked_at IS NULL").get() as { n: number }).n;
  }
  async revokeToken(id: string, at: string) {
    this.stmt('UPDATE tokens SET revoked_at = ? WHERE id = ?').run(at, id);
  }
  async lockAuditHead() {
    return (this.stmt('SELECT id, mac FROM audit ORDER BY id DESC LIMIT 1').get() as { id: number; mac: string } | undefined) ?? null;
  }
  async insertAudits(rows: AuditRow[]) {
    const insert = this.stmt(
      `INSERT INTO audit (id, at, token_id, token_name, client, action, outcome, app, stage, setting, revision, version, detail, mac)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    for (const r of rows) insert.run(r.id, r.at, r.tokenId, r.tokenName, r.client, r.action, r.outcome, r.app, r.stage, r.setting, r.revision, r.version, r.detail, r.mac);
  }
}

export class SqliteStorage extends SqliteReads implements Storage {
  readonly kind = 'sqlite' as const;
  readonly sealsEverything = false;
  private readonly writer: Database.Database;
  private readonly tx: SqliteTx;
  /** The tail of the queue of transactions (one at a time on the writer). */
  private queue: Promise<unknown> = Promise.resolve();
  private readonly created: boolean;
  private commits = 0;
  private dataVersion = 0;
  private dataVersionChecked = false;

  /** A WAL scrub that could not finish and is retried off the request path (see scrubDeleted). */
  private scrubRetry: NodeJS.Timeout | undefined;

  /** `log`: where the store tells the operator what they must know (never a value). */
  constructor(
    readonly file: string,
    private readonly log: StorageLog = { info: () => {}, warn: (msg) => process.stderr.write(`${msg}\n`) },
  ) {
    const writer = new Database(file);
    configure(writer);
    const version = writer.pragma('user_version', { simple: true }) as number;
    for (let v = version; v < MIGRATIONS.length; v++) {
      writer.transaction(() => {
        writer.exec(MIGRATIONS[v]!);
        writer.pragma(`user_version = ${v + 1}`);
      })();
    }
    const reader = new Database(file);
    configure(reader);
    super(reader);
    this.writer = writer;
    this.tx = new SqliteTx(writer);
    this.created = version === 0;
  }

  async transaction<T>(fn: (tx: StorageTx) => Promise<T>): Promise<T> {
    const run = async () => {
      // IMMEDIATE: this runs beside other processes (the odc-portal CLI); a deferred transaction
      // that read first could not upgrade to a write after their next commit (SQLITE_BUSY at
      // once, no busy wait); taking the write lock first waits for it instead.
      this.writer.exec('BEGIN IMMEDIATE');
      try {
        const result = await fn(this.tx);
        this.writer.exec('COMMIT');
        this.commits++;
        return result;
      } catch (err) {
        if (this.writer.inTransaction) this.writer.exec('ROLLBACK');
        throw err;
      }
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  async startup<T>(fn: (created: boolean) => Promise<T>): Promise<T> {
    return fn(this.created);
  }

  /**
   * This process's commits are seen at once; other processes' (the odc-portal CLI) through
   * PRAGMA data_version, which opens a read transaction (file locks), so it is read once per
   * turn of the event loop: once per request, not once per lookup.
   */
  cacheEpoch(): string {
    if (!this.dataVersionChecked) {
      this.dataVersion = this.stmt('PRAGMA data_version').pluck().get() as number;
      this.dataVersionChecked = true;
      process.nextTick(() => {
        this.dataVersionChecked = false;
      });
    }
    return `${this.dataVersion}:${this.commits}`;
  }

  /**
   * Moves the WAL's content into the database and empties the WAL, so a deleted value's old
   * page images do not linger there (secure_delete handles free pages). SPEC §5: when another
   * process holds a read transaction (a backup tool, the sqlite shell) the checkpoint cannot
   * finish; then it warns (naming no value) and retries on a timer, off the request path, until
   * it succeeds. No attempt waits: busy_timeout is 0 while it runs, so no request stalls behind
   * a reader (the default 5 s wait froze the server).
   */
  scrubDeleted(): void {
    if (this.scrubRetry) return; // a retry is due and covers this change too (it empties the whole WAL)
    if (this.checkpointed()) return;
    this.log.warn(
      'could not scrub the write-ahead log after a value was deleted: another process holds a read transaction on the store (a backup tool or the sqlite shell?); retrying in the background until it succeeds',
    );
    this.retryScrub(250);
  }

  /** One non-blocking TRUNCATE checkpoint; true when the WAL was fully checkpointed and emptied. */
  private checkpointed(): boolean {
    if (this.writer.inTransaction) return false; // a transaction of the queue is open: try later
    this.writer.pragma('busy_timeout = 0');
    try {
      const [result] = this.writer.pragma('wal_checkpoint(TRUNCATE)') as Array<{ busy: number; log: number; checkpointed: number }>;
      return !!result && result.busy === 0 && result.log === result.checkpointed;
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) return false;
      throw err;
    } finally {
      this.writer.pragma('busy_timeout = 5000');
    }
  }

  private retryScrub(delayMs: number) {
    this.scrubRetry = setTimeout(() => {
      this.scrubRetry = undefined;
      if (!this.writer.open) return;
      if (!this.checkpointed()) return this.retryScrub(Math.min(delayMs * 2, 5_000));
      this.log.info('finished the WAL scrub that was waiting for another process to end its read transaction');
    }, delayMs);
    // Never keeps a process alive on its own; closing the store checkpoints what it can.
    this.scrubRetry.unref();
  }

  async ping(): Promise<void> {}

  async close(): Promise<void> {
    clearTimeout(this.scrubRetry);
    this.scrubRetry = undefined;
    await this.queue;
    this.db.close();
    this.writer.close();
  }
}
