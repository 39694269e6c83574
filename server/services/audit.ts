// The audit log (SPEC §7): one append-only chain of HMACed records. Every change appends its
// record in the change's own transaction, last (the append lock is the last lock taken).
import { GENESIS_MAC, headMac, recordMac, type AuditActor, type AuditEntry, type AuditRecord } from '../audit/chain';
import type { AuditFilter, AuditRow, Storage, StorageTx } from '../store/storage';
import type { KeyRing } from './keys';

export interface AuditVerdict {
  ok: boolean;
  events: number;
  firstBadEvent?: number;
}

function toRecord(r: AuditRow): AuditRecord {
  return {
    id: r.id,
    at: r.at,
    tokenId: r.tokenId,
    tokenName: r.tokenName,
    client: r.client,
    action: r.action,
    outcome: r.outcome as AuditRecord['outcome'],
    app: r.app,
    stage: r.stage,
    setting: r.setting,
    revision: r.revision,
    version: r.version,
    detail: r.detail === null ? null : (JSON.parse(r.detail) as Record<string, unknown>),
  };
}

export class AuditService {
  constructor(
    private readonly storage: Storage,
    private readonly keys: KeyRing,
    private readonly now: () => string,
  ) {}

  /** Appends one record to the chain; call inside the transaction of the change it records. */
  async append(tx: StorageTx, actor: AuditActor, entry: AuditEntry): Promise<AuditRecord> {
    return (await this.appendMany(tx, actor, [entry]))[0]!;
  }

  /** Appends records in this order with one lock, one head update and one insert (a batch of writes). */
  async appendMany(tx: StorageTx, actor: AuditActor, entries: AuditEntry[]): Promise<AuditRecord[]> {
    if (entries.length === 0) return [];
    const last = await tx.lockAuditHead();
    const key = this.keys.auditKey;
    const at = this.now();
    let id = last?.id ?? 0;
    let mac = last?.mac ?? GENESIS_MAC;
    const records: AuditRecord[] = [];
    const rows: AuditRow[] = [];
    for (const entry of entries) {
      const record: AuditRecord = {
        id: ++id,
        at,
        tokenId: actor.tokenId,
        tokenName: actor.tokenName,
        client: actor.client ?? null,
        action: entry.action,
        outcome: entry.outcome,
        app: entry.app ?? null,
        stage: entry.stage ?? null,
        setting: entry.setting ?? null,
        revision: entry.revision ?? null,
        version: entry.version ?? null,
        detail: entry.detail ?? null,
      };
      mac = recordMac(key, mac, record);
      records.push(record);
      rows.push({ ...record, detail: record.detail === null ? null : JSON.stringify(record.detail), mac });
    }
    // The head names the newest record under the key, so cutting records off the end shows too.
    await tx.setMeta('audit_head', `${id}:${headMac(key, id, mac)}`);
    await tx.insertAudits(rows);
    return records;
  }

  /** Records a refusal in its own transaction. */
  async recordRefusal(actor: AuditActor, entry: AuditEntry): Promise<void> {
    await this.storage.transaction((tx) => this.append(tx, actor, entry));
  }

  async list(filter: AuditFilter): Promise<AuditRecord[]> {
    return (await this.storage.listAudit(filter)).map(toRecord);
  }

  /** Walks the chain; the first record whose MAC or position does not match is reported. */
  async verify(): Promise<AuditVerdict> {
    const key = this.keys.auditKey;
    let prev = GENESIS_MAC;
    let expectedId = 1;
    let events = 0;
    for await (const row of this.storage.auditRows()) {
      events++;
      if (row.id !== expectedId || recordMac(key, prev, toRecord(row)) !== row.mac) return { ok: false, events, firstBadEvent: row.id };
      prev = row.mac;
      expectedId++;
    }
    // A store always holds at least the record of its first admin token (SPEC §7): an empty
    // audit, or records without their signed head, means records were cut off or emptied.
    const head = await this.storage.meta('audit_head');
    if (events === 0 || head !== `${events}:${headMac(key, events, prev)}`) return { ok: false, events, firstBadEvent: events + 1 };
    return { ok: true, events };
  }
}
