// The embedded store's schema, applied in order; `user_version` records how far.
export const MIGRATIONS: string[] = [
  `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
  -- Data keys and the audit key, each wrapped by the master key.
  CREATE TABLE wrapped_keys (
    id INTEGER PRIMARY KEY,
    purpose TEXT NOT NULL CHECK (purpose IN ('data', 'audit')),
    wrapped BLOB NOT NULL,
    created_at TEXT NOT NULL
  ) STRICT;
  CREATE TABLE apps (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    revision INTEGER NOT NULL,
    published_at TEXT NOT NULL,
    published_by TEXT
  ) STRICT;
  -- Every published revision's normalized definitions, as JSON (history and diff base).
  CREATE TABLE revisions (
    app_key TEXT NOT NULL,
    revision INTEGER NOT NULL,
    definitions TEXT NOT NULL,
    published_at TEXT NOT NULL,
    published_by TEXT,
    PRIMARY KEY (app_key, revision)
  ) STRICT;
  -- One row per (app, stage, setting) that has ever been written; kept after a value is
  -- deleted so its version never goes back. A secret lives only in \`secret\` (ciphertext).
  CREATE TABLE stage_values (
    app_key TEXT NOT NULL,
    stage TEXT NOT NULL,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    plain TEXT,
    secret BLOB,
    updated_at TEXT NOT NULL,
    updated_by TEXT,
    PRIMARY KEY (app_key, stage, name),
    CHECK (plain IS NULL OR secret IS NULL)
  ) STRICT, WITHOUT ROWID;
  CREATE TABLE tokens (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'developer', 'operator', 'runtime')),
    apps TEXT NOT NULL,
    stages TEXT NOT NULL,
    hash TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL,
    revoked_at TEXT
  ) STRICT;
  CREATE TABLE audit (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    token_id TEXT,
    token_name TEXT,
    client TEXT,
    action TEXT NOT NULL,
    outcome TEXT NOT NULL,
    app TEXT,
    stage TEXT,
    setting TEXT,
    revision INTEGER,
    version INTEGER,
    detail TEXT,
    mac TEXT NOT NULL
  ) STRICT;
  CREATE INDEX audit_app ON audit (app, id);
  `,
  // History and restore (SPEC §12), secrets' fingerprints and their key (§13). The key's table
  // is rebuilt for its wider CHECK (SQLite cannot alter one).
  `
  CREATE TABLE wrapped_keys_v2 (
    id INTEGER PRIMARY KEY,
    purpose TEXT NOT NULL CHECK (purpose IN ('data', 'audit', 'compare')),
    wrapped BLOB NOT NULL,
    created_at TEXT NOT NULL
  ) STRICT;
  INSERT INTO wrapped_keys_v2 (id, purpose, wrapped, created_at) SELECT id, purpose, wrapped, created_at FROM wrapped_keys;
  DROP TABLE wrapped_keys;
  ALTER TABLE wrapped_keys_v2 RENAME TO wrapped_keys;
  ALTER TABLE stage_values ADD COLUMN fingerprint BLOB;
  -- The last writes of each (app, stage, setting), stored like stage_values (a secret only as
  -- ciphertext bound to its version); a clear has no value.
  CREATE TABLE value_history (
    app_key TEXT NOT NULL,
    stage TEXT NOT NULL,
    name TEXT NOT NULL,
    version INTEGER NOT NULL,
    action TEXT NOT NULL CHECK (action IN ('set', 'clear', 'restore')),
    is_secret INTEGER NOT NULL,
    plain TEXT,
    secret BLOB,
    fingerprint BLOB,
    updated_at TEXT NOT NULL,
    updated_by TEXT,
    PRIMARY KEY (app_key, stage, name, version),
    CHECK (plain IS NULL OR secret IS NULL)
  ) STRICT, WITHOUT ROWID;
  `,
];
