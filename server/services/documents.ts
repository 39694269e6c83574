// Stored definitions documents and values as the services see them: a store that seals
// everything at rest (PostgreSQL, SPEC §11) gets sealed JSON and sealed non-secret values;
// SQLite keeps them in clear (it scrubs deleted content itself). The rest of the services
// never look at how a document or value is stored.
import type { NormalizedDefinitions } from '../../common/definitions';
import type { AppHeadRow, Storage, StoredDocument, ValueRow } from '../store/storage';
import type { KeyRing } from './keys';

export class Documents {
  constructor(
    private readonly storage: Storage,
    private readonly keys: KeyRing,
  ) {}

  /** The document as stored for (app, revision). */
  store(app: string, revision: number, json: string): StoredDocument {
    return this.storage.sealsEverything ? this.keys.sealDefinitions(app, revision, json) : json;
  }

  /** The JSON text of a head's definitions. */
  json(head: AppHeadRow): string {
    return typeof head.definitions === 'string' ? head.definitions : this.keys.openDefinitions(head.key, head.revision, head.definitions);
  }

  parse(head: AppHeadRow): NormalizedDefinitions {
    return JSON.parse(this.json(head)) as NormalizedDefinitions;
  }

  /** How a value is stored: sealed when secret (or when the store seals everything), else in clear. */
  storeValue(
    app: string,
    stage: string,
    name: string,
    version: number,
    value: string | null,
    isSecret: boolean,
  ): { plain: string | null; sealed: Buffer | null; fingerprint: Buffer | null } {
    if (value === null) return { plain: null, sealed: null, fingerprint: null };
    // A secret's fingerprint is computed now, at write time, so comparing decrypts nothing (SPEC §13).
    const fingerprint = isSecret ? this.keys.fingerprint(app, name, value) : null;
    if (isSecret || this.storage.sealsEverything) return { plain: null, sealed: this.keys.sealValue(app, stage, name, version, value), fingerprint };
    return { plain: value, sealed: null, fingerprint };
  }

  /**
   * How a kept (history) copy is stored: always sealed, a non-secret's too, also on SQLite. §12
   * keeps old values for restore while §5 wants a replaced or cleared value to leave no readable
   * copy: both hold when the only copy that outlives the write is ciphertext.
   */
  storeKept(app: string, stage: string, name: string, version: number, stored: { plain: string | null; sealed: Buffer | null; fingerprint: Buffer | null }) {
    if (stored.plain === null) return stored;
    return { plain: null, sealed: this.keys.sealValue(app, stage, name, version, stored.plain), fingerprint: stored.fingerprint };
  }

  /** A secret's fingerprint from its stored row (back-fill of values written before fingerprints). */
  fingerprintOf(app: string, row: ValueRow): Buffer | null {
    const value = this.value(app, row);
    return value === null ? null : this.keys.fingerprint(app, row.name, value);
  }

  hasValue(row: ValueRow | undefined): boolean {
    return !!row && (row.plain !== null || row.sealed !== null);
  }

  /** A row's value in clear (decrypting a sealed one), or null. */
  value(app: string, row: ValueRow): string | null {
    if (row.sealed) return this.keys.openValue(app, row.stage, row.name, row.version, row.sealed);
    return row.plain;
  }
}
