// The audit log's hash chain (SPEC §7): each record carries an HMAC over its own
// fields and its predecessor's MAC, under a key only the master key unlocks, so
// someone who can write the store but lacks the key cannot rewrite history.
import { createHmac } from 'node:crypto';

export type AuditOutcome = 'ok' | 'denied' | 'refused';

/** What callers record. Never a value: names, numbers and outcomes only. */
export interface AuditEntry {
  action: string;
  outcome: AuditOutcome;
  app?: string | null;
  stage?: string | null;
  setting?: string | null;
  revision?: number | null;
  version?: number | null;
  /** Small structured facts (status code, counts, names). Never values or tokens. */
  detail?: Record<string, string | number | boolean | string[] | null>;
}

export interface AuditActor {
  tokenId: string | null;
  tokenName: string | null;
  client?: string | null;
}

export interface AuditRecord {
  id: number;
  at: string;
  tokenId: string | null;
  tokenName: string | null;
  client: string | null;
  action: string;
  outcome: AuditOutcome;
  app: string | null;
  stage: string | null;
  setting: string | null;
  revision: number | null;
  version: number | null;
  detail: Record<string, unknown> | null;
}

export const GENESIS_MAC = '0'.repeat(64);

export function recordMac(key: Buffer, prevMac: string, r: AuditRecord): string {
  const canonical = JSON.stringify([
    r.id,
    r.at,
    r.tokenId,
    r.tokenName,
    r.client,
    r.action,
    r.outcome,
    r.app,
    r.stage,
    r.setting,
    r.revision,
    r.version,
    r.detail,
  ]);
  return createHmac('sha256', key).update(prevMac).update('\n').update(canonical).digest('hex');
}

/** The MAC of the chain's head record id, kept apart from the records to detect truncation. */
export function headMac(key: Buffer, id: number, mac: string): string {
  return createHmac('sha256', key).update(`head\n${id}\n${mac}`).digest('hex');
}
