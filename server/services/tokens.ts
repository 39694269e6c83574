// Tokens (SPEC §6): random, shown once at creation, stored only as a hash.
import { createHash, randomBytes } from 'node:crypto';
import type { Role, Scope, TokenInfo } from '../../common/api';
import type { AuditActor } from '../audit/chain';
import type { Storage, TokenRow } from '../store/storage';
import type { AuditService } from './audit';
import { Memo } from './cache';
import { ConflictError, NotFoundError } from './errors';

export interface TokenRecord {
  id: string;
  name: string;
  role: Role;
  apps: Scope;
  stages: Scope;
}

export const TOKEN_PREFIX = 'odcp_';

export function hashToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

function info(r: TokenRow): TokenInfo {
  return {
    id: r.id,
    name: r.name,
    role: r.role,
    apps: JSON.parse(r.apps) as Scope,
    stages: JSON.parse(r.stages) as Scope,
    createdAt: r.createdAt,
    revokedAt: r.revokedAt,
  };
}

export class TokenService {
  /** Active tokens by hash (a revocation is a change: it moves the cache epoch). */
  private readonly memo: Memo<TokenRecord>;

  constructor(
    private readonly storage: Storage,
    private readonly audit: AuditService,
    private readonly now: () => string,
  ) {
    this.memo = new Memo(() => storage.cacheEpoch());
  }

  async create(input: { name: string; role: Role; apps: Scope; stages: Scope }, actor: AuditActor): Promise<{ id: string; token: string }> {
    const id = `tok_${randomBytes(8).toString('hex')}`;
    const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
    await this.storage.transaction(
      async (tx) => {
        await tx.insertToken({
          id,
          name: input.name,
          role: input.role,
          apps: JSON.stringify(input.apps),
          stages: JSON.stringify(input.stages),
          hash: hashToken(token),
          createdAt: this.now(),
          revokedAt: null,
        });
        await this.audit.append(tx, actor, { action: 'token.create', outcome: 'ok', detail: { id, name: input.name, role: input.role } });
      },
      { changes: true },
    );
    return { id, token };
  }

  /** The active token with this secret, or null; frozen. */
  async find(token: string): Promise<TokenRecord | null> {
    const hash = hashToken(token);
    return this.memo.through(hash, async () => {
      const row = await this.storage.tokenByHash(hash);
      if (!row) return null;
      const t = info(row);
      const freezeScope = (s: Scope): Scope => (Array.isArray(s) ? (Object.freeze([...s]) as string[]) : s);
      return Object.freeze({ id: t.id, name: t.name, role: t.role, apps: freezeScope(t.apps), stages: freezeScope(t.stages) });
    });
  }

  async list(): Promise<TokenInfo[]> {
    return (await this.storage.listTokens()).map(info);
  }

  async count(): Promise<number> {
    return this.storage.countTokens();
  }

  async revoke(id: string, actor: AuditActor): Promise<void> {
    await this.storage.transaction(
      async (tx) => {
        const row = await tx.tokenForUpdate(id);
        if (!row || row.revokedAt) throw new NotFoundError(`no active token with id "${id}"; list them with GET /api/v1/tokens`);
        if (row.role === 'admin' && (await tx.lockActiveAdmins()) <= 1) {
          throw new ConflictError('this is the last admin token; create another admin token before revoking it');
        }
        await tx.revokeToken(id, this.now());
        await this.audit.append(tx, actor, { action: 'token.revoke', outcome: 'ok', detail: { id } });
      },
      { changes: true },
    );
  }
}
