// Envelope encryption (SPEC §5): values are sealed with AES-256-GCM under a data key;
// data keys are stored wrapped by the master key. Errors here never carry key or
// value material.
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';

export const KEY_BYTES = 32;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const BLOB_VERSION = 1;
// version(1) | keyId(4, big-endian) | nonce(12) | ciphertext | tag(16)
const HEADER_BYTES = 1 + 4 + NONCE_BYTES;

export class DecryptionError extends Error {
  /** Which stored value failed (names only), when known. */
  where?: { app: string; stage: string; setting: string };
  constructor(what: string) {
    super(`decryption failed: ${what} (the stored ciphertext, its key or its binding does not match)`);
    this.name = 'DecryptionError';
  }
  /** Any failure to open a stored value, as a DecryptionError naming it (the message never holds a value). */
  static at(err: unknown, where: { app: string; stage: string; setting: string }): DecryptionError {
    const e = err instanceof DecryptionError ? err : new DecryptionError(err instanceof TypeError ? 'the plaintext is not valid UTF-8' : 'the ciphertext could not be opened');
    e.where = where;
    return e;
  }
}

function gcmSeal(key: Buffer, plaintext: Buffer, aad: Buffer): { nonce: Buffer; body: Buffer; tag: Buffer } {
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { nonce, body, tag: cipher.getAuthTag() };
}

function gcmOpen(key: Buffer, nonce: Buffer, body: Buffer, tag: Buffer, aad: Buffer, what: string): Buffer {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce);
    decipher.setAAD(aad);
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    throw new DecryptionError(what);
  }
}

/** Seals `plaintext` under a data key; the blob names the key so rotation of data keys stays possible. */
export function seal(dataKeyId: number, dataKey: Buffer, plaintext: string, aad: string): Buffer {
  const { nonce, body, tag } = gcmSeal(dataKey, Buffer.from(plaintext, 'utf8'), Buffer.from(aad, 'utf8'));
  const header = Buffer.alloc(HEADER_BYTES);
  header.writeUInt8(BLOB_VERSION, 0);
  header.writeUInt32BE(dataKeyId, 1);
  nonce.copy(header, 5);
  return Buffer.concat([header, body, tag]);
}

/** The data key id a blob was sealed under. */
export function blobKeyId(blob: Buffer): number {
  if (blob.length < HEADER_BYTES + TAG_BYTES || blob.readUInt8(0) !== BLOB_VERSION) throw new DecryptionError('malformed ciphertext');
  return blob.readUInt32BE(1);
}

export function open(dataKey: Buffer, blob: Buffer, aad: string): string {
  blobKeyId(blob);
  const nonce = blob.subarray(5, HEADER_BYTES);
  const body = blob.subarray(HEADER_BYTES, blob.length - TAG_BYTES);
  const tag = blob.subarray(blob.length - TAG_BYTES);
  const plain = gcmOpen(dataKey, nonce, body, tag, Buffer.from(aad, 'utf8'), 'secret value');
  // Reject invalid UTF-8 rather than return replacement characters: never garbage.
  const text = new TextDecoder('utf-8', { fatal: true }).decode(plain);
  return text;
}

/** The associated data that binds a secret's ciphertext to its row. */
export function valueAad(app: string, stage: string, setting: string, version: number): string {
  return JSON.stringify(['odc-portal/value/v1', app, stage, setting, version]);
}

/** The associated data that binds a sealed definitions document to its app and revision. */
export function definitionsAad(app: string, revision: number): string {
  return JSON.stringify(['odc-portal/definitions/v1', app, revision]);
}

/**
 * A secret's keyed fingerprint (SPEC §13): HMAC-SHA-256 under the comparison key over the app,
 * the setting and the value (not the stage: the same secret in two stages has one fingerprint).
 * Without the key nobody can test a guess against it; it is never returned by any route.
 */
export function fingerprint(compareKey: Buffer, app: string, setting: string, value: string): Buffer {
  return createHmac('sha256', compareKey).update(JSON.stringify(['odc-portal/fingerprint/v1', app, setting, value])).digest();
}

/** Wraps a data key under the master key (nonce | wrapped | tag), bound to its id. */
export function wrapKey(masterKey: Buffer, keyId: number, key: Buffer): Buffer {
  const { nonce, body, tag } = gcmSeal(masterKey, key, Buffer.from(`odc-portal/data-key/${keyId}`));
  return Buffer.concat([nonce, body, tag]);
}

export function unwrapKey(masterKey: Buffer, keyId: number, wrapped: Buffer): Buffer {
  if (wrapped.length !== NONCE_BYTES + KEY_BYTES + TAG_BYTES) throw new DecryptionError('malformed wrapped data key');
  return gcmOpen(
    masterKey,
    wrapped.subarray(0, NONCE_BYTES),
    wrapped.subarray(NONCE_BYTES, NONCE_BYTES + KEY_BYTES),
    wrapped.subarray(NONCE_BYTES + KEY_BYTES),
    Buffer.from(`odc-portal/data-key/${keyId}`),
    'data key (is this the master key this store was created with?)',
  );
}

/** A public fingerprint of the master key, so a wrong key is refused at start with a clear message. */
export function masterKeyId(masterKey: Buffer): string {
  return createHmac('sha256', masterKey).update('odc-portal/master-key-id').digest('hex').slice(0, 16);
}

export function newKey(): Buffer {
  return randomBytes(KEY_BYTES);
}
