// Domain errors (server/services/errors.ts) as HTTP problem details (RFC 9457): the one place
// where a rule's refusal gets its status.
import { ConflictError, DomainError, InvalidError, MasterKeyMismatchError, NotFoundError, StoreUnavailableError } from '../services/errors';
import { HttpProblem } from '../errors';

/** Seconds a client should wait before trying again while the store is unavailable. */
export const RETRY_AFTER_SECONDS = 2;

export function problemOfDomainError(err: DomainError): HttpProblem | null {
  if (err instanceof NotFoundError) return new HttpProblem(404, 'Not Found', err.message, err.extras);
  if (err instanceof ConflictError) return new HttpProblem(409, 'Conflict', err.message, err.extras);
  if (err instanceof InvalidError) return new HttpProblem(422, 'Unprocessable Content', err.message, err.extras);
  if (err instanceof StoreUnavailableError) return new HttpProblem(503, 'Service Unavailable', err.message);
  if (err instanceof MasterKeyMismatchError) return null;
  return null;
}
