// The typed message protocol between the Stage Values webview and its extension host.
//
// - Requests go webview -> host and get exactly one response: `{ ok: true, result }` or
//   `{ ok: false, error }`. The map type `Requests` names each one's params and result; the
//   host's handler table is checked against it, so a missing handler is a compile error.
// - Notifications go either way and get no answer (`WebviewNotifications`, `HostNotifications`).
// - Every inbound message is validated with the zod schemas below where it enters the host.
//
// Secrets: a save request carries the secret values the user typed host-ward only. Nothing the
// host posts carries a secret's value: stage views hold `*****` or null for a secret, and the
// coverage view holds no values at all. The webview imports this file for its types only
// (`import type`), so zod never lands in the webview bundle.
import { z } from 'zod';
import { MAX_SECRET_BYTES, type SettingType } from './values';
import type { CompareStatus, HistoryEntry, PromoteResponse, Stage, StageSetting, StageWarning } from './api';

export const PROTOCOL_VERSION = 1;

// ---- payloads -----------------------------------------------------------------------------

export interface AppRef {
  key: string;
  name: string;
}

/**
 * A setting in a stage view. `dueForRotation` (SPEC §13: a secret older than its `rotationDays`)
 * is there only when the portal reports it; the editor's "due" filter shows then.
 */
export type StageViewSetting = StageSetting & { dueForRotation?: boolean };

/** One stage's settings as the panel shows them (the server's GET answer, secrets masked). */
export interface StageView {
  app: string;
  stage: string;
  revision: number;
  settings: StageViewSetting[];
}

/** A setting's state in one stage, for the coverage view: never a value. */
export type CoverageStatus = 'set' | 'default' | 'missing' | 'unset';
export const COVERAGE_STATUSES = ['set', 'default', 'missing', 'unset'] as const satisfies readonly CoverageStatus[];

export interface CoverageView {
  app: string;
  revision: number;
  /** `error` when the stage could not be read (out of the token's scope, server error). */
  stages: Array<Stage & { error?: string }>;
  settings: Array<{
    name: string;
    type: SettingType;
    description: string;
    isSecret: boolean;
    /** stage key -> status; absent for a stage that could not be read. */
    status: Record<string, CoverageStatus>;
    /** stage key -> true where the secret is due for rotation (SPEC §13); absent when not known. */
    due?: Record<string, boolean>;
    /** stage key -> the earlier stage whose secret is the same one ("same as QA"). */
    sameAs?: Record<string, string>;
  }>;
}

/** A value's kept writes (SPEC §12): a secret's old values only as the mask. */
export interface HistoryView {
  stage: string;
  name: string;
  isSecret: boolean;
  /** The pair's current version: the baseVersion of a restore. */
  version: number;
  entries: Array<HistoryEntry & { isSecret: boolean }>;
}

/** Stages side by side (SPEC §13): statuses, non-secret values, equal or not, warnings. */
export interface CompareView {
  app: string;
  revision: number;
  stages: Stage[];
  settings: Array<{
    name: string;
    isSecret: boolean;
    equal: boolean;
    /** stage key -> cell; `value` for non-secrets only. */
    cells: Record<string, { status: CompareStatus; value?: string | null; dueForRotation?: boolean; sameAs?: string }>;
  }>;
  warnings: StageWarning[];
}

/** A promote's preview or outcome (the server's answer; values of non-secrets only). */
export type PromoteView = PromoteResponse;

export type PromoteResult =
  | { outcome: 'promoted'; result: PromoteView }
  /** 409: the target changed since the preview; preview again. Nothing was written. */
  | { outcome: 'conflict'; message: string; conflicts: string[] };

export interface ValueEdit {
  name: string;
  /** The new value, or null to clear (back to the default, or unset for a secret). */
  value: string | null;
  /** The version the edit was based on (optimistic concurrency, SPEC §4). */
  baseVersion: number;
}

export type SaveResult =
  | { outcome: 'saved'; view: StageView }
  /** 409: `conflicts` were changed by someone else; `view` is the stage reloaded. Nothing was saved. */
  | { outcome: 'conflict'; message: string; conflicts: string[]; view: StageView }
  /** 422: values the server refused, per setting. Nothing was saved. */
  | { outcome: 'invalid'; message: string; errors: Array<{ name: string; detail: string }> };

/**
 * The commands the webview may ask the host to run (banner actions: the fix for "not signed
 * in", "not published", "unreachable"). The host runs only these, with arguments it chooses;
 * the webview never names anything else, and every id is this extension's own.
 */
export const RUNNABLE_COMMANDS = ['odcSettings.signIn', 'odcSettings.publishApp', 'odcSettings.showLog', 'odcSettings.openServerSettings'] as const;
export type RunnableCommand = (typeof RUNNABLE_COMMANDS)[number];

export type ErrorCode = 'bad-message' | 'not-signed-in' | 'unreachable' | 'timeout' | 'http' | 'invalid-response' | 'internal';

export interface ProtocolError {
  code: ErrorCode;
  /** What went wrong and what to do; never a value. */
  message: string;
  /** The HTTP status when the portal answered with an error. */
  status?: number;
}

// ---- the maps -----------------------------------------------------------------------------

export type Requests = {
  /**
   * The app, the stages the token may read (in the server's order) and the one to show first,
   * with that stage's settings (`view`), so the first paint needs no second round trip.
   */
  'panel/init': { params: Record<string, never>; result: { app: AppRef; stages: Stage[]; stage: string | null; view: StageView | null; only?: string[] } };
  'stage/load': { params: { stage: string }; result: StageView };
  /** One PATCH with every edit of the stage (all or nothing). */
  'stage/save': { params: { stage: string; changes: ValueEdit[] }; result: SaveResult };
  'coverage/load': { params: Record<string, never>; result: CoverageView };
  /** A value's history (SPEC §12). */
  'value/history': { params: { stage: string; name: string }; result: HistoryView };
  /** Writes a kept version back (a secret never leaves the server); answered like a save. */
  'value/restore': { params: { stage: string; name: string; version: number; baseVersion: number }; result: SaveResult };
  /** Two or more stages side by side (SPEC §13). */
  'compare/load': { params: { stages: string[] }; result: CompareView };
  /** The dry run of a promote: what would change in `to`, with its versions. */
  'promote/preview': { params: { from: string; to: string; settings?: string[] }; result: PromoteView };
  /** Applies a previewed promote with the versions it was previewed against (all or nothing). */
  'promote/apply': { params: { from: string; to: string; settings?: string[]; baseVersions: Record<string, number> }; result: PromoteResult };
  /** Discard asks first (a modal in VS Code): `stage` is the stage's name, `count` its unsaved edits. */
  'panel/confirmDiscard': { params: { stage: string; count: number }; result: { discard: boolean } };
  /** Runs one of RUNNABLE_COMMANDS (a banner's action); `ran` is false when the host has no way to run commands. */
  'command/run': { params: { command: RunnableCommand }; result: { ran: boolean } };
};
export type RequestMethod = keyof Requests;
export type RequestParams<M extends RequestMethod> = Requests[M]['params'];
export type RequestResult<M extends RequestMethod> = Requests[M]['result'];

export type WebviewNotifications = {
  /** Sent once the webview's script runs; the host posts nothing before it. */
  'webview/ready': { protocol: number };
  /** The number of unsaved edits across stages (the host marks the panel title). */
  'webview/dirty': { count: number };
  /** The answer to `host/save`: every stage's edits were saved (`ok`), or why not. */
  'webview/saved': { id: number; ok: boolean; message?: string };
};
export type HostNotifications = {
  /** The session changed (signed in, out, other server) or the app was published: reload. */
  'host/refresh': { reason: 'session' | 'published' };
  /**
   * Show this stage (the command was run again with a stage); with `settings`, only those rows
   * (Publish App's "Set the N new secrets…").
   */
  'host/showStage': { stage: string; settings?: string[] };
  /** VS Code saves the editor (Ctrl+S, Save on close): save every stage's edits, answer `webview/saved`. */
  'host/save': { id: number };
  /** VS Code reverts the editor (Revert File, Don't Save on close): drop every unsaved edit, no question. */
  'host/revert': Record<string, never>;
};

// ---- envelopes ----------------------------------------------------------------------------

export type RequestMessage<M extends RequestMethod = RequestMethod> = { kind: 'request'; id: number; method: M; params: RequestParams<M> };
export type ResponseMessage<M extends RequestMethod = RequestMethod> =
  | { kind: 'response'; id: number; ok: true; result: RequestResult<M> }
  | { kind: 'response'; id: number; ok: false; error: ProtocolError };
export type NotificationMessage<N extends Record<string, unknown>, K extends keyof N = keyof N> = { kind: 'notification'; method: K; params: N[K] };

export type WebviewToHost = RequestMessage | NotificationMessage<WebviewNotifications>;
export type HostToWebview = ResponseMessage | NotificationMessage<HostNotifications>;

// ---- inbound validation (host side) ---------------------------------------------------------

const stageKey = z.string().min(1).max(100);
const valueEditSchema = z.strictObject({
  name: z.string().min(1).max(100),
  // A non-secret's limit is 2000 characters; a secret's is 48 KiB of UTF-8, which is at most
  // 48 Ki UTF-16 units. The server applies the exact per-type rules.
  value: z.string().max(MAX_SECRET_BYTES).nullable(),
  baseVersion: z.number().int().nonnegative(),
}) satisfies z.ZodType<ValueEdit>;

const empty = z.strictObject({});

export const requestParamSchemas = {
  'panel/init': empty,
  'stage/load': z.strictObject({ stage: stageKey }),
  'stage/save': z.strictObject({
    stage: stageKey,
    changes: z
      .array(valueEditSchema)
      .min(1)
      .max(10_000)
      .refine((cs) => new Set(cs.map((c) => c.name)).size === cs.length, 'a setting appears twice in one save'),
  }),
  'coverage/load': empty,
  'value/history': z.strictObject({ stage: stageKey, name: z.string().min(1).max(100) }),
  'value/restore': z.strictObject({ stage: stageKey, name: z.string().min(1).max(100), version: z.number().int().positive(), baseVersion: z.number().int().nonnegative() }),
  'compare/load': z.strictObject({ stages: z.array(stageKey).min(1).max(100) }),
  'promote/preview': z.strictObject({ from: stageKey, to: stageKey, settings: z.array(z.string().min(1).max(100)).max(10_000).optional() }),
  'promote/apply': z.strictObject({
    from: stageKey,
    to: stageKey,
    settings: z.array(z.string().min(1).max(100)).max(10_000).optional(),
    baseVersions: z.record(z.string().max(100), z.number().int().nonnegative()),
  }),
  'panel/confirmDiscard': z.strictObject({ stage: z.string().min(1).max(200), count: z.number().int().positive() }),
  'command/run': z.strictObject({ command: z.enum(RUNNABLE_COMMANDS) }),
} satisfies { [M in RequestMethod]: z.ZodType<RequestParams<M>> };

export const webviewNotificationSchemas = {
  'webview/ready': z.strictObject({ protocol: z.number().int() }),
  'webview/dirty': z.strictObject({ count: z.number().int().nonnegative() }),
  'webview/saved': z.strictObject({ id: z.number().int().nonnegative(), ok: z.boolean(), message: z.string().max(2000).optional() }),
} satisfies { [K in keyof WebviewNotifications]: z.ZodType<WebviewNotifications[K]> };

/** The envelope; params are checked per method afterwards. */
export const webviewMessageSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('request'), id: z.number().int().nonnegative().max(Number.MAX_SAFE_INTEGER), method: z.string().max(100), params: z.unknown() }),
  z.strictObject({ kind: z.literal('notification'), method: z.string().max(100), params: z.unknown() }),
]);

export type ParsedWebviewMessage =
  | { ok: true; message: WebviewToHost }
  | { ok: false; id: number | undefined; message: string };

function has<T extends object>(table: T, key: string): key is Extract<keyof T, string> {
  return Object.prototype.hasOwnProperty.call(table, key);
}

/** Describes zod issues by path and code only: the input may hold a secret, so it is never quoted. */
function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 3)
    .map((i) => `${i.path.length ? i.path.join('.') : 'message'}: ${i.code}`)
    .join('; ');
}

/** Validates a message from the webview: the envelope, the method's name and its params. */
export function parseWebviewMessage(raw: unknown): ParsedWebviewMessage {
  const envelope = webviewMessageSchema.safeParse(raw);
  if (!envelope.success) {
    const id = typeof raw === 'object' && raw !== null && typeof (raw as { id?: unknown }).id === 'number' ? (raw as { id: number }).id : undefined;
    return { ok: false, id, message: `not a protocol message (${describeIssues(envelope.error)})` };
  }
  const m = envelope.data;
  if (m.kind === 'request') {
    if (!has(requestParamSchemas, m.method)) return { ok: false, id: m.id, message: `unknown request "${m.method.slice(0, 40)}"` };
    const params = requestParamSchemas[m.method].safeParse(m.params ?? {});
    if (!params.success) return { ok: false, id: m.id, message: `bad params for ${m.method} (${describeIssues(params.error)})` };
    return { ok: true, message: { kind: 'request', id: m.id, method: m.method, params: params.data } as RequestMessage };
  }
  if (!has(webviewNotificationSchemas, m.method)) return { ok: false, id: undefined, message: `unknown notification "${m.method.slice(0, 40)}"` };
  const params = webviewNotificationSchemas[m.method].safeParse(m.params ?? {});
  if (!params.success) return { ok: false, id: undefined, message: `bad params for ${m.method} (${describeIssues(params.error)})` };
  return { ok: true, message: { kind: 'notification', method: m.method, params: params.data } as NotificationMessage<WebviewNotifications> };
}
