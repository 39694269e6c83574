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

const article = (word: string) => (/^[aeiou]/i.test(word) ? `An ${word}` : `A ${word}`);

export function describeFailure(err: unknown, ctx: { serverUrl: string; app?: string; action?: 'publish'; retry?: Omit<FailureAction, 'label'> }): Failure {
  const signIn: FailureAction = { label: 'Sign In', command: COMMANDS.signIn };
  if (err instanceof NotSignedInError) return { kind: 'not-signed-in', message: sentences(err.message), actions: [signIn] };
  if (!(err instanceof PortalError)) return { kind: 'other', message: err instanceof Error ? sentences(err.message) : 'Unexpected error.', actions: [] };
  if (err.kind === 'unreachable' || err.kind === 'timeout') {
    return { kind: 'unreachable', message: sentences(err.message, 'Nothing was changed; your definitions file is untouched.'), actions: ctx.retry ? [{ label: 'Try Again', ...ctx.retry }] : [] };
  }
  if (err.kind === 'invalid-response') return { kind: 'other', status: err.status, message: sentences(err.message), actions: [] };
  const detail = err.message;
  switch (err.status) {
    case 401:
      return { kind: 'unauthorized', status: 401, message: sentences(`The portal at ${ctx.serverUrl} did not accept your token (${detail.replace(/[.]$/, '')}).`, 'Sign in again with a valid token.'), actions: [signIn] };
    case 403: {
      // The server names the token's role when the role is the reason ("a operator token may not do this; ...").
      const role = /\b(\w+) token may not do this/.exec(detail)?.[1];
      if (ctx.action === 'publish' && role && role !== 'admin' && role !== 'developer') {
        return { kind: 'forbidden', status: 403, message: `${article(role)} token may not publish. Ask an admin for a developer token.`, actions: [] };
      }
      const scope = /scope does not include (app|stage) "([^"]+)"/.exec(detail);
      if (scope) {
        return { kind: 'forbidden', status: 403, message: `Your token's scope does not include ${scope[1]} "${scope[2]}". Ask an admin for a token with this ${scope[1]} in scope.`, actions: [] };
      }
      return { kind: 'forbidden', status: 403, message: sentences(detail, `Ask an admin for a token that may do this${ctx.app ? ` for app "${ctx.app}"` : ''}.`), actions: [] };
    }
    case 409: {
      const now = err.problem?.currentRevision;
      return {
        kind: 'conflict',
        status: 409,
        message: sentences(
          `Someone else published${ctx.app ? ` "${ctx.app}"` : ''} meanwhile${now !== undefined ? ` (it is now at revision ${now})` : ''}.`,
          'Nothing was changed; plan again to review what publishing would do now.',
        ),
        actions: ctx.retry ? [{ label: 'Plan Again', ...ctx.retry }] : [],
      };
    }
    case 422: {
      const named = err.problem?.errors?.map((e) => `${e.name}: ${e.detail.replace(/[.]$/, '')}`) ?? [];
      return { kind: 'invalid', status: 422, message: named.length ? sentences('The portal refused the definitions.', `${named.join('; ')}.`) : sentences(`The portal refused the definitions: ${detail}`), actions: [] };
    }
    default:
      return { kind: 'other', status: err.status, message: sentences(`The portal answered ${err.status ?? 'an error'}: ${detail}`), actions: [] };
  }
}
