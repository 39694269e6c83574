// Where the web UI's sessions live, behind an interface of their own (beside the store's Storage
// interface, which it does not widen): SQLite for the embedded store, PostgreSQL when several
// instances share a database, so a session and its token's revocation are seen by all of them.
// Only a hash of each session id is kept, so a copy of the store does not let anyone ride a session.
import Database from 'better-sqlite3';
import type { Pool } from 'pg';
import type { Role, Scope } from '../../common/api';
import type { TokenRecord } from '../services/tokens';
import type { Storage } from '../store/storage';

export interface SessionRow {
  /** sha256 of the session id (see sessions.ts), hex. */
  idHash: string;
  tokenId: string;
  /** Epoch milliseconds. */
  createdAt: number;
  lastSeenAt: number;
}

export interface SessionStorage {
  create(row: SessionRow): Promise<void>;
  get(idHash: string): Promise<SessionRow | null>;
  /** Records activity (the idle clock restarts). */
  touch(idHash: string, at: number): Promise<void>;
  delete(idHash: string): Promise<void>;
  /** Deletes the sessions idle since before `idleBefore` or created before `createdBefore`. */
  deleteExpired(idleBefore: number, createdBefore: number): Promise<number>;
  /**
   * The token with this id if it is still active (not revoked), read from the shared store on
   * every request (no cache), so a revocation ends its sessions in every instance at once.
   */
  activeToken(tokenId: string): Promise<TokenRecord | null>;
  close(): Promise<void>;
}

interface TokenFields {
  id: string;
  name: string;
  role: Role;
  apps: string;
  stages: string;
}

function tokenRecord(r: TokenFields): TokenRecord {
  const scope = (s: string): Scope => {
    const v = JSON.parse(s) as Scope;
    return Array.isArray(v) ? (Object.freeze([...v]) as string[]) : v;
  };
  return Object.freeze({ id: r.id, name: r.name, role: r.role, apps: scope(r.apps), stages: scope(r.stages) });
}

/**
 * The embedded store's sessions: a table of their own in the store's file, on a connection of
 * their own (WAL: it waits briefly for the store's writer instead of failing).
 */
export class SqliteSessionStorage implements SessionStorage {
  private readonly db: Database.Database;
  private readonly stmts: Record<'insert' | 'select' | 'update' | 'remove' | 'expire' | 'token', Database.Statement>;

  constructor(file: string) {
    this.db = new Database(file);
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(`CREATE TABLE IF NOT EXISTS web_sessions (
      id_hash TEXT PRIMARY KEY,
      token_id TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      last_seen_at INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID`);
    this.stmts = {
      insert: this.db.prepare('INSERT INTO web_sessions (id_hash, token_id, created_at, last_seen_at) VALUES (?, ?, ?, ?)'),
      select: this.db.prepare('SELECT id_hash, token_id, created_at, last_seen_at FROM web_sessions WHERE id_hash = ?'),
      update: this.db.prepare('UPDATE web_sessions SET last_seen_at = ? WHERE id_hash = ?'),
      remove: this.db.prepare('DELETE FROM web_sessions WHERE id_hash = ?'),
      expire: this.db.prepare('DELETE FROM web_sessions WHERE last_seen_at < ? OR created_at < ?'),
      token: this.db.prepare('SELECT id, name, role, apps, stages FROM tokens WHERE id = ? AND revoked_at IS NULL'),
    };
  }

  async create(row: SessionRow): Promise<void> {
    this.stmts.insert.run(row.idHash, row.tokenId, row.createdAt, row.lastSeenAt);
  }

  async get(idHash: string): Promise<SessionRow | null> {
    const r = this.stmts.select.get(idHash) as { id_hash: string; token_id: string; created_at: number; last_seen_at: number } | undefined;
    return r ? { idHash: r.id_hash, tokenId: r.token_id, createdAt: r.created_at, lastSeenAt: r.last_seen_at } : null;
  }

  async touch(idHash: string, at: number): Promise<void> {
    this.stmts.update.run(at, idHash);
  }

  async delete(idHash: string): Promise<void> {
    this.stmts.remove.run(idHash);
  }

  async deleteExpired(idleBefore: number, createdBefore: number): Promise<number> {
    return this.stmts.expire.run(idleBefore, createdBefore).changes;
  }

  async activeToken(tokenId: string): Promise<TokenRecord | null> {
    const r = this.stmts.token.get(tokenId) as TokenFields | undefined;
    return r ? tokenRecord(r) : null;
  }

  async close(): Promise<void> {
    this.db.close();
  }
}

/** Several instances on one PostgreSQL database: the sessions table there, through the store's pool. */
export class PgSessionStorage implements SessionStorage {
  private ready: Promise<void> | undefined;

  constructor(private readonly pool: Pool) {}

  private init(): Promise<void> {
    this.ready ??= this.pool
      .query('CREATE TABLE IF NOT EXISTS web_sessions (id_hash text PRIMARY KEY, token_id text NOT NULL, created_at bigint NOT NULL, last_seen_at bigint NOT NULL)')
      .then(
        () => undefined,
        (err: unknown) => {
          this.ready = undefined; // another instance created it at the same moment, or the database is away: try again next time
          throw err;
        },
      );
    return this.ready;
  }

  private async q<R extends object>(sql: string, params: unknown[]): Promise<{ rows: R[]; rowCount: number | null }> {
    await this.init();
    return this.pool.query<R>(sql, params);
  }

  async create(row: SessionRow): Promise<void> {
    await this.q('INSERT INTO web_sessions (id_hash, token_id, created_at, last_seen_at) VALUES ($1, $2, $3, $4)', [row.idHash, row.tokenId, row.createdAt, row.lastSeenAt]);
  }

  async get(idHash: string): Promise<SessionRow | null> {
    const { rows } = await this.q<{ id_hash: string; token_id: string; created_at: string; last_seen_at: string }>('SELECT id_hash, token_id, created_at, last_seen_at FROM web_sessions WHERE id_hash = $1', [idHash]);
    const r = rows[0];
    return r ? { idHash: r.id_hash, tokenId: r.token_id, createdAt: Number(r.created_at), lastSeenAt: Number(r.last_seen_at) } : null;
  }

  async touch(idHash: string, at: number): Promise<void> {
    await this.q('UPDATE web_sessions SET last_seen_at = $1 WHERE id_hash = $2', [at, idHash]);
  }

  async delete(idHash: string): Promise<void> {
    await this.q('DELETE FROM web_sessions WHERE id_hash = $1', [idHash]);
  }

  async deleteExpired(idleBefore: number, createdBefore: number): Promise<number> {
    return (await this.q('DELETE FROM web_sessions WHERE last_seen_at < $1 OR created_at < $2', [idleBefore, createdBefore])).rowCount ?? 0;
  }

  async activeToken(tokenId: string): Promise<TokenRecord | null> {
    const { rows } = await this.q<TokenFields>('SELECT id, name, role, apps, stages FROM tokens WHERE id = $1 AND revoked_at IS NULL', [tokenId]);
    return rows[0] ? tokenRecord(rows[0]) : null;
  }

  async close(): Promise<void> {
    // The pool is the store's; it closes it.
  }
}

/** The session storage for a store: beside it, in the same database. */
export function sessionStorageFor(storage: Storage): SessionStorage {
  if (storage.kind === 'sqlite') return new SqliteSessionStorage((storage as Storage & { file: string }).file);
  return new PgSessionStorage((storage as Storage & { pool: Pool }).pool);
}
