// The PostgreSQL store's schema, applied in order at start under the schema lock; the
// schema_version table records how far. The tables live in their own PostgreSQL schema
// (PG_SCHEMA, every connection's search_path), so the portal can share a database with others,
// under the names the embedded store uses. No clear-text value or definitions document is ever
// stored here (SPEC §11): `sealed` and `definitions` hold ciphertexts only.
export const PG_SCHEMA = 'odc_portal';

export const PG_MIGRATIONS: string[] = [
  `
  CREATE TABLE schema_version (version integer NOT NULL);
  INSERT INTO schema_version (version) VALUES (0);
  CREATE TABLE meta (key text PRIMARY KEY, value text NOT NULL);
  -- Data keys and the audit key, each wrapped by the master key.
  CREATE TABLE wrapped_keys (
    id serial PRIMARY KEY,
    purpose text NOT NULL CHECK (purpose IN ('data', 'audit')),
    wrapped bytea NOT NULL,
    created_at text NOT NULL
  );
  CREATE TABLE apps (
    key text PRIMARY KEY,
    name text NOT NULL,
    revision integer NOT NULL,
    published_at text NOT NULL,
    published_by text
  );
  -- Every published revision's normalized definitions, sealed (defaults are values).
  CREATE TABLE revisions (
    app_key text NOT NULL,
    revision integer NOT NULL,
    definitions bytea NOT NULL,
    published_at text NOT NULL,
    published_by text,
    PRIMARY KEY (app_key, revision)
  );
  -- One row per (app, stage, setting) that has ever been written; kept after a value is
  -- deleted so its version never goes back. Every value is sealed, secret or not.
  CREATE TABLE stage_values (
    app_key text NOT NULL,
    stage text NOT NULL,
    name text NOT NULL,
    version integer NOT NULL,
    sealed bytea,
    updated_at text NOT NULL,
    updated_by text,
    PRIMARY KEY (app_key, stage, name)
  );
  CREATE TABLE tokens (
    id text PRIMARY KEY,
    name text NOT NULL,
    role text NOT NULL CHECK (role IN ('admin', 'developer', 'operator', 'runtime')),
    apps text NOT NULL,
    stages text NOT NULL,
    hash text NOT NULL UNIQUE,
    created_at text NOT NULL,
    revoked_at text
  );
  CREATE TABLE audit (
    id bigint PRIMARY KEY,
    at text NOT NULL,
    token_id text,
    token_name text,
    client text,
    action text NOT NULL,
    outcome text NOT NULL,
    app text,
    stage text,
    setting text,
    revision integer,
    version integer,
    detail text,
    mac text NOT NULL
  );
  CREATE INDEX audit_app ON audit (app, id);
  -- The change counter: every committed change moves it on and announces it (NOTIFY), so an
  -- instance that missed a notification notices that the counter moved.
  CREATE TABLE changes (id integer PRIMARY KEY CHECK (id = 1), counter bigint NOT NULL);
  INSERT INTO changes (id, counter) VALUES (1, 0);
  `,
  // History and restore (SPEC §12), secrets' fingerprints and their key (§13).
  `
  ALTER TABLE wrapped_keys DROP CONSTRAINT wrapped_keys_purpose_check;
  ALTER TABLE wrapped_keys ADD CONSTRAINT wrapped_keys_purpose_check CHECK (purpose IN ('data', 'audit', 'compare'));
  ALTER TABLE stage_values ADD COLUMN fingerprint bytea;
  -- The last writes of each (app, stage, setting), sealed like stage_values; a clear has none.
  CREATE TABLE value_history (
    app_key text NOT NULL,
    stage text NOT NULL,
    name text NOT NULL,
    version integer NOT NULL,
    action text NOT NULL CHECK (action IN ('set', 'clear', 'restore')),
    is_secret boolean NOT NULL,
    sealed bytea,
    fingerprint bytea,
    updated_at text NOT NULL,
    updated_by text,
    PRIMARY KEY (app_key, stage, name, version)
  );
  `,
];

/** Every table of the portal, in an order that copies and drops cleanly. */
export const PG_TABLES = ['schema_version', 'meta', 'wrapped_keys', 'apps', 'revisions', 'stage_values', 'value_history', 'tokens', 'audit', 'changes'];
