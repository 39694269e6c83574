// Where the web UI's sessions live, behind an interface of their own (the store is moving to
// services over a storage interface; a PostgreSQL adapter implements this one too). Only a hash
// of each session id is kept, so a copy of the store does not let anyone ride a session.
import type Database from 'better-sqlite3';
import type { Role, Scope } from '../../common/api';
import type { TokenRecord } from '../store/store';

export interface SessionRow {
  /** sha256 of the session id (see sessions.ts), hex. */
  idHash: string;
  tokenId: string;
  /** Epoch milliseconds. */
  createdAt: number;
  lastSeenAt: number;
}

export interface SessionStorage {
  create(row: SessionRow): void;
  get(idHash: string): SessionRow | null;
  /** Records activity (the idle clock restarts). */
  touch(idHash: string, at: number): void;
  delete(idHash: string): void;
  /** Deletes the sessions idle since before `idleBefore` or created before `createdBefore`. */
  deleteExpired(idleBefore: number, createdBefore: number): number;
  /**
   * The token with this id if it is still active (not revoked), read from the shared store on
   * every request, so a revocation ends its sessions in every instance at once.
   */
  activeToken(tokenId: string): TokenRecord | null;
}

/** The embedded (SQLite) implementation, on the store's own database connection. */
export class SqliteSessionStorage implements SessionStorage {
  private readonly insert: Database.Statement;
  private readonly select: Database.Statement;
  private readonly update: Database.Statement;
  private readonly remove: Database.Statement;
  private readonly expire: Database.Statement;
  private readonly token: Database.Statement;

  constructor(db: Database.Database) {
    // Its own table, created here rather than in the store's migrations: sessions are the web
    // UI's and nothing else reads them. WITHOUT ROWID: the hash is the key.
    db.exec(`CREATE TABLE IF NOT EXISTS web_sessions (
      id_hash TEXT PRIMARY KEY,
      token_id TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      last_seen_at INTEGER NOT NULL
    ) STRICT, WITHOUT ROWID`);
    this.insert = db.prepare('INSERT INTO web_sessions (id_hash, token_id, created_at, last_seen_at) VALUES (?, ?, ?, ?)');
    this.select = db.prepare('SELECT id_hash, token_id, created_at, last_seen_at FROM web_sessions WHERE id_hash = ?');
    this.update = db.prepare('UPDATE web_sessions SET last_seen_at = ? WHERE id_hash = ?');
    this.remove = db.prepare('DELETE FROM web_sessions WHERE id_hash = ?');
    this.expire = db.prepare('DELETE FROM web_sessions WHERE last_seen_at < ? OR created_at < ?');
    this.token = db.prepare('SELECT id, name, role, apps, stages FROM tokens WHERE id = ? AND revoked_at IS NULL');
  }

  create(row: SessionRow): void {
    this.insert.run(row.idHash, row.tokenId, row.createdAt, row.lastSeenAt);
  }

  get(idHash: string): SessionRow | null {
    const r = this.select.get(idHash) as { id_hash: string; token_id: string; created_at: number; last_seen_at: number } | undefined;
    return r ? { idHash: r.id_hash, tokenId: r.token_id, createdAt: r.created_at, lastSeenAt: r.last_seen_at } : null;
  }

  touch(idHash: string, at: number): void {
    this.update.run(at, idHash);
  }

  delete(idHash: string): void {
    this.remove.run(idHash);
  }

  deleteExpired(idleBefore: number, createdBefore: number): number {
    return this.expire.run(idleBefore, createdBefore).changes;
  }

  activeToken(tokenId: string): TokenRecord | null {
    const r = this.token.get(tokenId) as { id: string; name: string; role: Role; apps: string; stages: string } | undefined;
    if (!r) return null;
    return Object.freeze({ id: r.id, name: r.name, role: r.role, apps: JSON.parse(r.apps) as Scope, stages: JSON.parse(r.stages) as Scope });
  }
}
