// The error every failed portal call becomes (see portalClient.ts). Kept apart from the client so
// that checking for it does not load axios or the portal's response schemas.
import type { Problem } from '../../common/api';

export type PortalErrorKind = 'unreachable' | 'timeout' | 'http' | 'invalid-response';

export class PortalError extends Error {
  constructor(
    readonly kind: PortalErrorKind,
    message: string,
    readonly status?: number,
    readonly problem?: Problem,
  ) {
    super(message);
    this.name = 'PortalError';
  }
}
