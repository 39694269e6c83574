// The storage interface (SPEC §11): what the services (server/services) need from a store,
// and nothing of the rules. Two adapters implement it: SQLite (sqlite/, the embedded default)
// and PostgreSQL (postgres/, several instances on one database). Publish planning, versioning,
// validation, encryption and the audit chain live above it, written once.
//
// Locks are part of the contract, so the rules hold however requests are spread over
// instances: every change runs in `transaction`, takes the app lock (lockApp) before it reads
// what it checks, writes versions conditionally (writeValues), and appends its audit record
// last (lockAuditHead serialises appends: one chain).
import type { HistoryAction, Role } from '../../common/api';

export type StoreKind = 'sqlite' | 'postgres';

/**
 * A stored definitions document: its JSON text, or (a store that encrypts everything at rest)
 * the sealed JSON. The services decide which; the adapter stores what it is given.
 */
export type StoredDocument = string | Buffer;

export interface AppHeadRow {
  key: string;
  name: string;
  revision: number;
  publishedAt: string;
  publishedBy: string | null;
  definitions: StoredDocument;
}

export interface AppSummaryRow {
  key: string;
  name: string;
  revision: number;
  publishedAt: string;
}

/** One (app, stage, setting) pair that has ever been written; kept after its value is deleted. */
/** Stands for sealed bytes a snapshot did not read (see stagesSnapshot); not a valid envelope. */
export const SEALED_NOT_READ: Buffer = Buffer.alloc(0);

export interface ValueRow {
  stage: string;
  name: string;
  version: number;
  /** A non-secret's value in a store that keeps non-secrets in clear (SQLite). */
  plain: string | null;
  /** A sealed value (always a secret's; every value's in a store that encrypts everything). */
  sealed: Buffer | null;
  /** A secret's keyed fingerprint (SPEC §13), computed when it was written; null otherwise. */
  fingerprint: Buffer | null;
  updatedAt: string;
  updatedBy: string | null;
}

/**
 * One write of a (setting, stage) pair kept for history and restore (SPEC §12): stored exactly
 * like the value it wrote (`sealed` bound to its version), with no value for a clear.
 */
export interface HistoryRow {
  stage: string;
  name: string;
  version: number;
  action: HistoryAction;
  /** Whether the setting was a secret when written (a restore across a flip is refused). */
  isSecret: boolean;
  plain: string | null;
  sealed: Buffer | null;
  fingerprint: Buffer | null;
  at: string;
  by: string | null;
}

export interface ValueWrite {
  app: string;
  stage: string;
  name: string;
  /** The version the write was based on (0: the pair was never written). */
  baseVersion: number;
  version: number;
  plain: string | null;
  sealed: Buffer | null;
  fingerprint: Buffer | null;
  at: string;
  by: string | null;
}

export interface TokenRow {
  id: string;
  name: string;
  role: Role;
  /** JSON: a Scope. */
  apps: string;
  stages: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface AuditRow {
  id: number;
  at: string;
  tokenId: string | null;
  tokenName: string | null;
  client: string | null;
  action: string;
  outcome: string;
  app: string | null;
  stage: string | null;
  setting: string | null;
  revision: number | null;
  version: number | null;
  /** JSON, or null. */
  detail: string | null;
  mac: string;
}

export interface AuditFilter {
  app?: string;
  /** Only events of these stages and of no stage. */
  stages?: string[];
  before?: number;
  limit: number;
}

/** `compare`: the key of secrets' fingerprints (SPEC §13), rotated with the others. */
export type KeyPurpose = 'data' | 'audit' | 'compare';

export interface WrappedKeyRow {
  id: number;
  purpose: KeyPurpose;
  wrapped: Buffer;
}

/** Reads, outside or inside a transaction. Outside one they see only committed data. */
export interface StorageReads {
  meta(key: string): Promise<string | null>;
  wrappedKeys(): Promise<WrappedKeyRow[]>;
  listApps(): Promise<AppSummaryRow[]>;
  appHead(app: string): Promise<AppHeadRow | null>;
  /** The app's head and its values in one stage, from one consistent snapshot. */
  stageSnapshot(app: string, stage: string): Promise<{ head: AppHeadRow | null; values: ValueRow[] }>;
  /**
   * The app's head and its values in these stages, from one consistent snapshot (compare).
   * `sealedBlobs: false` (compare, which opens no sealed value): a store may leave the sealed
   * bytes unread and put SEALED_NOT_READ in `sealed` instead; opening it fails loudly.
   */
  stagesSnapshot(app: string, stages: string[], opts?: { sealedBlobs?: boolean }): Promise<{ head: AppHeadRow | null; values: ValueRow[] }>;
  /** A pair's kept writes, newest first. */
  history(app: string, stage: string, name: string): Promise<HistoryRow[]>;
  tokenByHash(hash: string): Promise<TokenRow | null>;
  listTokens(): Promise<TokenRow[]>;
  countTokens(): Promise<number>;
  listAudit(filter: AuditFilter): Promise<AuditRow[]>;
  /** Every audit record in id order, in pages. */
  auditRows(): AsyncIterable<AuditRow>;
  /** The (app, stage) pairs that hold at least one value, configured stages or not (the warning at start, SPEC §3). */
  storedStages(): Promise<Array<{ app: string; stage: string }>>;
}

export interface StorageTx extends StorageReads {
  setMeta(key: string, value: string): Promise<void>;
  /** Serialises key rotations (one at a time, across instances). */
  lockKeys(): Promise<void>;
  /** A new wrapped-key row; its id is assigned here and bound into the wrapping by `wrap`. */
  insertWrappedKey(purpose: KeyPurpose, at: string, wrap: (id: number) => Buffer): Promise<number>;
  updateWrappedKey(id: number, wrapped: Buffer): Promise<void>;

  /**
   * Locks the app (also one never published) for the rest of the transaction and returns its
   * head: `exclusive` for a publish (baseRevision is checked under it), `shared` for value writes
   * (they exclude a publish, not each other: their versions are checked by writeValues).
   */
  lockApp(app: string, mode: 'exclusive' | 'shared'): Promise<AppHeadRow | null>;
  upsertApp(row: { key: string; name: string; revision: number; publishedAt: string; publishedBy: string | null }): Promise<void>;
  insertRevision(row: { app: string; revision: number; definitions: StoredDocument; publishedAt: string; publishedBy: string | null }): Promise<void>;
  /** The app's revisions before `revision`, with their documents (to drop a default that became secret, SPEC §5). */
  revisionsBefore(app: string, revision: number): Promise<Array<{ revision: number; definitions: StoredDocument }>>;
  updateRevision(app: string, revision: number, definitions: StoredDocument): Promise<void>;
  /**
   * The rows of these settings that hold a value, in these stages (all stages when null: a
   * publish passes null, since a stage dropped from the configuration keeps its values, SPEC §3).
   */
  heldValues(app: string, names: string[], stages: string[] | null): Promise<ValueRow[]>;
  /** The app's rows in one stage, locked against other writers until the transaction ends. */
  stageValues(app: string, stage: string): Promise<ValueRow[]>;
  /** Writes each value if its version is still its `baseVersion`; returns the names another write won. */
  writeValues(writes: ValueWrite[]): Promise<string[]>;
  /**
   * Deletes these pairs' values and their whole history (each pair's version moves on);
   * returns how many values were deleted.
   */
  deleteValues(app: string, pairs: Array<{ stage: string; name: string }>, at: string, by: string | null): Promise<number>;

  /** Sets a held secret's fingerprint if the pair is still at `version` (back-fill of older stores). */
  setFingerprint(app: string, stage: string, name: string, version: number, fingerprint: Buffer): Promise<void>;
  /** Keeps each write in its pair's history. */
  insertHistories(app: string, rows: HistoryRow[]): Promise<void>;
  /** Drops each pair's history entries with a version up to its `upTo`; returns how many held a value that must be scrubbed (0 in a store that never holds clear text). */
  pruneHistories(app: string, pairs: Array<{ stage: string; name: string; upTo: number }>): Promise<number>;
  /** Deletes the whole history of these settings in every stage; returns how many entries were deleted. */
  deleteSettingHistory(app: string, names: string[]): Promise<number>;

  insertToken(row: TokenRow & { hash: string }): Promise<void>;
  /** The token, locked until the transaction ends. */
  tokenForUpdate(id: string): Promise<TokenRow | null>;
  /** Locks the active admin tokens and counts them (two revocations cannot both pass the last-admin rule). */
  lockActiveAdmins(): Promise<number>;
  revokeToken(id: string, at: string): Promise<void>;

  /** Serialises audit appends until the transaction ends and returns the chain's last record. */
  lockAuditHead(): Promise<{ id: number; mac: string } | null>;
  insertAudits(rows: AuditRow[]): Promise<void>;
}

export interface Storage extends StorageReads {
  readonly kind: StoreKind;
  /** Every value and every definitions document sealed at rest (PostgreSQL, SPEC §11). */
  readonly sealsEverything: boolean;
  /**
   * Runs `fn` in one transaction: all of it commits, or none of it (a thrown error rolls back).
   * `changes`: the transaction changes data that the caches hold (the change feed tells the
   * other instances when it commits).
   */
  transaction<T>(fn: (tx: StorageTx) => Promise<T>, opts?: { changes?: boolean }): Promise<T>;
  /**
   * Runs the start-up work (schema, keys, the first admin token) under a lock, so instances
   * started together do not race. Returns whether the schema was created by this call.
   */
  startup<T>(fn: (created: boolean) => Promise<T>): Promise<T>;
  /**
   * The cache epoch: cached answers stay valid while it is the same string; null means no
   * caching now (the change feed is down). Cheap and synchronous.
   */
  cacheEpoch(): string | null;
  /**
   * After a change that deleted or replaced a clear-text value: leave no readable copy (SQLite's
   * WAL). Never blocks: if it cannot finish now, it says so in the log and finishes later.
   */
  scrubDeleted(): void;
  /** Resolves when the store answers; rejects with StoreUnavailableError otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
