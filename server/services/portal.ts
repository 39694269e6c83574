// The portal's rules over one store: the services, built once at start over a Storage adapter
// (SQLite or PostgreSQL). Routes and the CLI talk to these, never to the adapter.
import type { Stage } from '../../common/api';
import type { AuditActor } from '../audit/chain';
import { masterKeyId } from '../crypto/envelope';
import type { Storage } from '../store/storage';
import { AcrossStagesService } from './acrossStages';
import { AuditService } from './audit';
import { Documents } from './documents';
import { KeyRing, KeyService } from './keys';
import { PublishService } from './publish';
import { TokenService } from './tokens';
import { ValuesService } from './values';

export interface PortalOptions {
  storage: Storage;
  masterKey: Buffer;
  /** A key to try when masterKey does not match: the pending key of an interrupted rotation. */
  alternateMasterKey?: Buffer;
  stages: Stage[];
  clock?: () => Date;
  /**
   * Creates the first admin token when the store has none, under the start-up lock (so of
   * instances started together, exactly one creates it); given the token, once.
   */
  firstAdmin?: { actor: AuditActor; onCreated: (token: string) => Promise<void> | void };
  /** How many writes each (setting, stage) keeps (PORTAL_HISTORY_VERSIONS, SPEC §12; default 20). */
  historyVersions?: number;
}

export class Portal {
  /** true when the store was opened with alternateMasterKey. */
  usedAlternateKey = false;

  private constructor(
    readonly storage: Storage,
    readonly stages: Stage[],
    readonly keys: KeyService,
    readonly audit: AuditService,
    readonly apps: PublishService,
    readonly values: ValuesService,
    readonly tokens: TokenService,
    readonly across: AcrossStagesService,
  ) {}

  static async open(opts: PortalOptions): Promise<Portal> {
    const { storage, stages } = opts;
    const clock = opts.clock ?? (() => new Date());
    const now = () => clock().toISOString();
    return storage.startup(async () => {
      let masterKey = opts.masterKey;
      const stored = await storage.meta('master_key_id');
      const alternate = opts.alternateMasterKey;
      const usedAlternateKey = stored !== null && !!alternate && stored !== masterKeyId(masterKey) && stored === masterKeyId(alternate);
      if (usedAlternateKey) masterKey = alternate!;
      const ring = await KeyRing.load(storage, masterKey, now());
      const audit = new AuditService(storage, ring, now);
      const documents = new Documents(storage, ring);
      const tokens = new TokenService(storage, audit, now);
      const values = new ValuesService(storage, documents, audit, stages, now, opts.historyVersions);
      const portal = new Portal(
        storage,
        stages,
        new KeyService(storage, audit),
        audit,
        new PublishService(storage, documents, audit, stages, now),
        values,
        tokens,
        new AcrossStagesService(storage, documents, values, stages, now),
      );
      await values.backfillFingerprints();
      portal.usedAlternateKey = usedAlternateKey;
      if (opts.firstAdmin && (await tokens.count()) === 0) {
        const { token } = await tokens.create({ name: 'initial admin', role: 'admin', apps: '*', stages: '*' }, opts.firstAdmin.actor);
        await opts.firstAdmin.onCreated(token);
      }
      return portal;
    });
  }

  stageKeys(): string[] {
    return this.stages.map((s) => s.key);
  }

  hasStage(stage: string): boolean {
    return this.stages.some((s) => s.key === stage);
  }

  close(): Promise<void> {
    return this.storage.close();
  }
}
