// The keys of a store (SPEC §5): data keys and the audit key, each wrapped by the master key,
// loaded once at start; sealing and opening of values and definitions documents; rotation.
import type { AuditActor } from '../audit/chain';
import { blobKeyId, DecryptionError, definitionsAad, fingerprint, masterKeyId, newKey, open, seal, unwrapKey, valueAad, wrapKey } from '../crypto/envelope';
import type { Storage } from '../store/storage';
import type { AuditService } from './audit';
import { MasterKeyMismatchError } from './errors';

export class KeyRing {
  private readonly dataKeys = new Map<number, Buffer>();
  private activeDataKeyId = 0;
  private auditKeyValue: Buffer | null = null;
  private compareKeyValue: Buffer | null = null;

  get auditKey(): Buffer {
    if (!this.auditKeyValue) throw new Error('the store has no audit key');
    return this.auditKeyValue;
  }

  /**
   * Loads the keys under `masterKey`, creating them in an empty store. A store whose keys are
   * wrapped under another master key is refused (MasterKeyMismatchError): the instance must not start.
   */
  static async load(storage: Storage, masterKey: Buffer, at: string): Promise<KeyRing> {
    const id = masterKeyId(masterKey);
    let stored = await storage.meta('master_key_id');
    if (stored === null) {
      await storage.transaction(async (tx) => {
        await tx.lockKeys();
        // Another instance may have created them meanwhile (PostgreSQL): then they are used.
        if ((await tx.meta('master_key_id')) !== null) return;
        await tx.setMeta('master_key_id', id);
        for (const purpose of ['data', 'audit', 'compare'] as const) await tx.insertWrappedKey(purpose, at, (keyId) => wrapKey(masterKey, keyId, newKey()));
      });
      stored = await storage.meta('master_key_id');
    }
    if (stored !== id) {
      throw new MasterKeyMismatchError(
        'the master key does not match this store: its keys are wrapped under another master key (wrong PORTAL_MASTER_KEY, keychain entry or key file?); every instance needs the same key',
      );
    }
    // A store from before comparison keys (SPEC §13) gets one, once, under the key lock.
    if (!(await storage.wrappedKeys()).some((k) => k.purpose === 'compare')) {
      await storage.transaction(async (tx) => {
        await tx.lockKeys();
        if ((await tx.wrappedKeys()).some((k) => k.purpose === 'compare')) return;
        await tx.insertWrappedKey('compare', at, (keyId) => wrapKey(masterKey, keyId, newKey()));
      });
    }
    const ring = new KeyRing();
    for (const row of await storage.wrappedKeys()) {
      const key = unwrapKey(masterKey, row.id, row.wrapped);
      if (row.purpose === 'audit') ring.auditKeyValue = key;
      else if (row.purpose === 'compare') ring.compareKeyValue = key;
      else {
        ring.dataKeys.set(row.id, key);
        ring.activeDataKeyId = Math.max(ring.activeDataKeyId, row.id);
      }
    }
    return ring;
  }

  private sealText(text: string, aad: string): Buffer {
    const key = this.dataKeys.get(this.activeDataKeyId);
    if (!key) throw new Error('the store has no data key');
    return seal(this.activeDataKeyId, key, text, aad);
  }

  /** Decrypts; a failure throws DecryptionError (a loud 500), never garbage. */
  private openText(blob: Buffer, aad: string): string {
    const key = this.dataKeys.get(blobKeyId(blob));
    if (!key) throw new DecryptionError('the ciphertext names an unknown data key');
    return open(key, blob, aad);
  }

  sealValue(app: string, stage: string, name: string, version: number, value: string): Buffer {
    return this.sealText(value, valueAad(app, stage, name, version));
  }

  /**
   * Every failure to open a stored value (a malformed or tampered header, an unknown data key, a
   * wrong tag or binding, text that is not UTF-8) is a DecryptionError naming the app, stage and
   * setting, reported loudly as a 500 (SPEC §5, §8); never garbage, never the value.
   */
  openValue(app: string, stage: string, name: string, version: number, blob: Buffer): string {
    try {
      return this.openText(blob, valueAad(app, stage, name, version));
    } catch (err) {
      throw DecryptionError.at(err, { app, stage, setting: name });
    }
  }

  /** A secret's keyed fingerprint (SPEC §13): compared, never returned. */
  fingerprint(app: string, name: string, value: string): Buffer {
    if (!this.compareKeyValue) throw new Error('the store has no comparison key');
    return fingerprint(this.compareKeyValue, app, name, value);
  }

  sealDefinitions(app: string, revision: number, json: string): Buffer {
    return this.sealText(json, definitionsAad(app, revision));
  }

  openDefinitions(app: string, revision: number, blob: Buffer): string {
    return this.openText(blob, definitionsAad(app, revision));
  }
}

export class KeyService {
  constructor(
    private readonly storage: Storage,
    private readonly audit: AuditService,
  ) {}

  /** Whether a key is the one this store's keys are wrapped under. */
  async matchesMasterKey(key: Buffer): Promise<boolean> {
    return (await this.storage.meta('master_key_id')) === masterKeyId(key);
  }

  /**
   * Re-wraps every key under `newMasterKey` in one transaction, one rotation at a time; values
   * are untouched, so running instances keep reading (their data keys do not change).
   *
   * Two rotations must never interleave (SPEC §5, issue 11 item 1): `stage` (which stores the
   * new key as pending, named by its key id) runs inside the transaction, after lockKeys, so a
   * second rotation waits for the first and then finds the master key changed: it is refused
   * (MasterKeyMismatchError) having staged nothing. A process killed at any point leaves either
   * the old key id committed (its pending key is never promoted) or the new one (the pending key
   * with that id is promoted at the next open).
   */
  async rotateMasterKey(oldMasterKey: Buffer, newMasterKey: Buffer, actor: AuditActor, stage: () => Promise<void> = async () => {}): Promise<number> {
    return this.storage.transaction(async (tx) => {
      await tx.lockKeys();
      if ((await tx.meta('master_key_id')) !== masterKeyId(oldMasterKey)) {
        throw new MasterKeyMismatchError('another key rotation changed the master key while this one waited; nothing was changed by this run (run rotate-key again to rotate once more)');
      }
      await stage();
      const rows = await tx.wrappedKeys();
      for (const row of rows) await tx.updateWrappedKey(row.id, wrapKey(newMasterKey, row.id, unwrapKey(oldMasterKey, row.id, row.wrapped)));
      await tx.setMeta('master_key_id', masterKeyId(newMasterKey));
      await this.audit.append(tx, actor, { action: 'key.rotate', outcome: 'ok', detail: { keysRewrapped: rows.length } });
      return rows.length;
    });
  }
}
