// What a failed portal call means to the user, and what they can do next. Messages are the
// server's problem details (which never carry a value) or our own words; never a token.
import { PortalError } from '../services/portalError';
import { NotSignedInError } from '../services/session';
import { COMMANDS } from '../constants';

export type FailureKind = 'not-signed-in' | 'unreachable' | 'unauthorized' | 'forbidden' | 'conflict' | 'invalid' | 'other';

export interface FailureAction {
  label: string;
  command: string;
  args?: unknown[];
}

export interface Failure {
  kind: FailureKind;
  status?: number;
  message: string;
  actions: FailureAction[];
}

export function describeFailure(err: unknown, ctx: { serverUrl: string; app?: string; retry?: Omit<FailureAction, 'label'> }): Failure {
  const signIn: FailureAction = { label: 'Sign In', command: COMMANDS.signIn };
  if (err instanceof NotSignedInError) return { kind: 'not-signed-in', message: err.message, actions: [signIn] };
  if (!(err instanceof PortalError)) return { kind: 'other', message: err instanceof Error ? err.message : 'unexpected error', actions: [] };
  if (err.kind === 'unreachable' || err.kind === 'timeout') {
    return { kind: 'unreachable', message: `${err.message} Nothing was changed; your definitions file is untouched.`, actions: ctx.retry ? [{ label: 'Try Again', ...ctx.retry }] : [] };
  }
  if (err.kind === 'invalid-response') return { kind: 'other', status: err.status, message: err.message, actions: [] };
  const detail = err.message;
  switch (err.status) {
    case 401:
      return { kind: 'unauthorized', status: 401, message: `The portal at ${ctx.serverUrl} did not accept your token (${detail}). Sign in again with a valid token.`, actions: [signIn] };
    case 403:
      return { kind: 'forbidden', status: 403, message: `Your token may not do this${ctx.app ? ` for app "${ctx.app}"` : ''}: ${detail} Ask an admin for a developer token with this app in scope.`, actions: [] };
    case 409:
      return {
        kind: 'conflict',
        status: 409,
        message: `Someone else published${ctx.app ? ` "${ctx.app}"` : ''} meanwhile: ${detail}. Nothing was changed; plan again to review what publishing would do now.`,
        actions: ctx.retry ? [{ label: 'Plan Again', ...ctx.retry }] : [],
      };
    case 422: {
      const named = err.problem?.errors?.map((e) => `${e.name}: ${e.detail}`) ?? [];
      return { kind: 'invalid', status: 422, message: named.length ? `The portal refused the definitions. ${named.join('; ')}` : `The portal refused the definitions: ${detail}`, actions: [] };
    }
    default:
      return { kind: 'other', status: err.status, message: `The portal answered ${err.status ?? 'an error'}: ${detail}`, actions: [] };
  }
}
