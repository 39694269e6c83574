// Domain errors: what the services report when a rule refuses a request. They know nothing
// of HTTP; the one error handler maps them to problem details (server/http/problems.ts).
// A message says what to do; it never carries a value, a token or key material.

export interface DomainExtras {
  conflicts?: string[];
  errors?: Array<{ name: string; detail: string; path?: string }>;
  currentRevision?: number;
}

export class DomainError extends Error {
  constructor(
    message: string,
    readonly extras: DomainExtras = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** An app, stage, setting or token that does not exist. */
export class NotFoundError extends DomainError {}

/** A write based on a stale version or revision, or a rule about the current state (the last admin token). */
export class ConflictError extends DomainError {}

/** Well-formed input that breaks a rule (a value invalid for its type, an unknown stage in a scope). */
export class InvalidError extends DomainError {}

/** The store cannot be reached (a database outage): try again later. */
export class StoreUnavailableError extends DomainError {}

/** The master key does not unlock this store's keys: the instance must not start. */
export class MasterKeyMismatchError extends DomainError {}
