// What a failed portal call means to the user, and what they can do next. Messages are the
// server's problem details (which never carry a value) or our own words; never a token.
import { PortalError } from '../services/portalError';
import { NotSignedInError } from '../services/session';
import { COMMANDS } from '../constants';
import * as l10n from '../l10n';

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

/** One sentence: capital first letter, a full stop at the end unless it has one. */
function sentence(text: string): string {
  const t = text.trim();
  if (!t) return '';
  return (t.charAt(0).toUpperCase() + t.slice(1)).replace(/([^.!?])$/, '$1.');
}

/** Sentences joined with single spaces, each once (a server detail may say what we would add). */
export function sentences(...parts: Array<string | undefined>): string {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const part of parts) {
    for (const s of (part ?? '').split(/(?<=[.!?])\s+(?=[A-Z"])/).map(sentence)) {
      const key = s.toLowerCase().replace(/[^a-z0-9]+/g, ' ').trim();
      if (!key || seen.has(key)) continue;
      seen.add(key);
      out.push(s);
    }
  }
  return out.join(' ');
}

export function describeFailure(err: unknown, ctx: { serverUrl: string; app?: string; action?: 'publish'; retry?: Omit<FailureAction, 'label'> }): Failure {
  const signIn: FailureAction = { label: l10n.t('Sign In'), command: COMMANDS.signIn };
  if (err instanceof NotSignedInError) return { kind: 'not-signed-in', message: sentences(err.message), actions: [signIn] };
  if (!(err instanceof PortalError)) return { kind: 'other', message: err instanceof Error ? sentences(err.message) : l10n.t('Unexpected error.'), actions: [] };
  if (err.kind === 'unreachable' || err.kind === 'timeout') {
    return { kind: 'unreachable', message: sentences(err.message, l10n.t('Nothing was changed; your definitions file is untouched.')), actions: ctx.retry ? [{ label: l10n.t('Try Again'), ...ctx.retry }] : [] };
  }
  if (err.kind === 'invalid-response') return { kind: 'other', status: err.status, message: sentences(err.message), actions: [] };
  const detail = err.message;
  switch (err.status) {
    case 401:
      return { kind: 'unauthorized', status: 401, message: sentences(l10n.t('The portal at {0} did not accept your token ({1}).', ctx.serverUrl, detail.replace(/[.]$/, '')), l10n.t('Sign in again with a valid token.')), actions: [signIn] };
    case 403: {
      // The server names the token's role when the role is the reason ("a operator token may not do this; ...").
      const role = /\b(\w+) token may not do this/.exec(detail)?.[1];
      if (ctx.action === 'publish' && role && role !== 'admin' && role !== 'developer') {
        return {
          kind: 'forbidden',
          status: 403,
          message: /^[aeiou]/i.test(role)
            ? l10n.t('An {0} token may not publish. Ask an admin for a developer token.', role)
            : l10n.t('A {0} token may not publish. Ask an admin for a developer token.', role),
          actions: [],
        };
      }
      const scope = /scope does not include (app|stage) "([^"]+)"/.exec(detail);
      if (scope) {
        return { kind: 'forbidden', status: 403, message: l10n.t('Your token\'s scope does not include {0} "{1}". Ask an admin for a token with this {0} in scope.', scope[1]!, scope[2]!), actions: [] };
      }
      return { kind: 'forbidden', status: 403, message: sentences(detail, ctx.app ? l10n.t('Ask an admin for a token that may do this for app "{0}".', ctx.app) : l10n.t('Ask an admin for a token that may do this.')), actions: [] };
    }
    case 409: {
      const now = err.problem?.currentRevision;
      return {
        kind: 'conflict',
        status: 409,
        message: sentences(
          ctx.app
            ? now !== undefined
              ? l10n.t('Someone else published "{0}" meanwhile (it is now at revision {1}).', ctx.app, now)
              : l10n.t('Someone else published "{0}" meanwhile.', ctx.app)
            : now !== undefined
              ? l10n.t('Someone else published meanwhile (it is now at revision {0}).', now)
              : l10n.t('Someone else published meanwhile.'),
          l10n.t('Nothing was changed; plan again to review what publishing would do now.'),
        ),
        actions: ctx.retry ? [{ label: l10n.t('Plan Again'), ...ctx.retry }] : [],
      };
    }
    case 422: {
      const named = err.problem?.errors?.map((e) => `${e.name}: ${e.detail.replace(/[.]$/, '')}`) ?? [];
      return { kind: 'invalid', status: 422, message: named.length ? sentences(l10n.t('The portal refused the definitions.'), `${named.join('; ')}.`) : sentences(l10n.t('The portal refused the definitions: {0}', detail)), actions: [] };
    }
    default:
      return { kind: 'other', status: err.status, message: sentences(err.status !== undefined ? l10n.t('The portal answered {0}: {1}', err.status, detail) : l10n.t('The portal answered an error: {0}', detail)), actions: [] };
  }
}
