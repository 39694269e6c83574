// The Stage Values editor's host side, shared by both hosts: the VS Code panel
// (extension/webviews/stageValuesPanel.ts) and the portal's own web page (portal/browserHost.ts).
// No vscode API and no DOM: it validates every inbound message (zod, ./protocol.ts), maps each
// request to the portal API through a client the host supplies, and checks everything it posts
// for secret values before it reaches the editor.
import * as l10n from './l10n';
import { SECRET_MASK } from './values';
import type {
  AppResponse,
  CompareResponse,
  HistoryResponse,
  PromoteRequest,
  PromoteResponse,
  StageSettingsResponse,
  StagesResponse,
  ValueChange,
} from './api';
import {
  parseWebviewMessage,
  PROTOCOL_VERSION,
  RUNNABLE_COMMANDS,
  type RunnableCommand,
  type CoverageStatus,
  type PromoteView,
  type SaveResult,
  type CompareView,
  type CoverageView,
  type HistoryView,
  type HostNotifications,
  type HostToWebview,
  type ProtocolError,
  type RequestMethod,
  type RequestParams,
  type RequestResult,
  type StageView,
  type WebviewNotifications,
} from './protocol';

/**
 * The part of a portal client the editor's host uses: the extension's axios client (bearer token)
 * or the web page's fetch client (session cookie). A failed call throws an error named
 * `PortalError` with `kind`, `status` and the server's `problem` (see PortalFailure below).
 * History, compare and promote (SPEC §12, §13) are optional so a stand-in without them still
 * types; the real clients have them.
 */
export interface StageValuesClient {
  stages(): Promise<StagesResponse>;
  app(key: string): Promise<AppResponse>;
  stageSettings(app: string, stage: string): Promise<StageSettingsResponse>;
  patchStage(app: string, stage: string, changes: ValueChange[]): Promise<StageSettingsResponse>;
  history?(app: string, stage: string, name: string): Promise<HistoryResponse>;
  restore?(app: string, stage: string, name: string, version: number, baseVersion: number): Promise<StageSettingsResponse>;
  compare?(app: string, stages: string[]): Promise<CompareResponse>;
  promote?(app: string, body: PromoteRequest): Promise<PromoteResponse>;
}

function need<K extends 'history' | 'restore' | 'compare' | 'promote'>(client: StageValuesClient, method: K): NonNullable<StageValuesClient[K]> {
  const fn = client[method];
  if (!fn) throw new Error(l10n.t('this portal client cannot {0}', method));
  return fn.bind(client) as NonNullable<StageValuesClient[K]>;
}

export interface StageValuesControllerOptions {
  appKey: string;
  /** A client with the current session's token; throws when not signed in. */
  client: () => Promise<StageValuesClient>;
  /** Delivers a message to the webview (webview.postMessage). */
  post: (message: HostToWebview) => PromiseLike<boolean> | boolean | void;
  /** The stage to show first. */
  initialStage?: string;
  /** Only these settings at first (Publish App's "Set the N new secrets…"); the first init only. */
  initialSettings?: string[];
  /** Never receives a value: method names, outcomes and error messages only. */
  log?: (level: 'info' | 'warn' | 'error', line: string) => void;
  onDirtyChange?: (count: number) => void;
  /** The webview's answer to `host/save` (the custom editor's save). */
  onSaved?: (result: WebviewNotifications['webview/saved']) => void;
  /** Asks the user before the webview's Discard drops edits; without it, Discard goes ahead. */
  confirmDiscard?: (params: RequestParams<'panel/confirmDiscard'>) => Promise<boolean>;
  /**
   * Runs a VS Code command (vscode.commands.executeCommand) for a banner's action. Only the ids
   * in RUN_COMMANDS below ever reach it, with the arguments chosen there. Without it, the
   * webview's `command/run` answers `{ ran: false }`.
   */
  executeCommand?: (command: string, ...args: unknown[]) => PromiseLike<unknown>;
  /** Which commands this host can run (default: all of RUN_COMMANDS); `command/run` answers `{ ran: false }` for the others. */
  runsCommand?: (command: RunnableCommand) => boolean;
  /** Called after a write landed (save, restore, promote): the Settings tree's status is stale. */
  onWritten?: () => void;
}

/**
 * The host's allow-list for `command/run`: each runnable id and the arguments the host passes
 * (the webview cannot pass any). Checked again here although the protocol's schema already
 * limits the id, so a wider schema could not widen what runs.
 */
export const RUN_COMMANDS: Readonly<Record<RunnableCommand, readonly unknown[]>> = {
  'odcSettings.signIn': [],
  'odcSettings.publishApp': [],
  'odcSettings.showLog': [],
  'odcSettings.openServerSettings': [],
};

type Handlers = { [M in RequestMethod]: (params: RequestParams<M>) => Promise<RequestResult<M>> };

/** Thrown (and never posted) when a message about to go to the webview holds a secret's value. */
export class SecretLeakError extends Error {
  constructor(where: string) {
    super(l10n.t("refused to send a secret's value to the webview ({0})", where));
    this.name = 'SecretLeakError';
  }
}

/**
 * Walks a message and throws if any setting marked secret carries a value other than the mask,
 * or a default. Runs on everything the host posts, whatever the server answered.
 */
export function assertNoSecretValues(message: unknown, path = 'message'): void {
  if (Array.isArray(message)) {
    message.forEach((m, i) => assertNoSecretValues(m, `${path}[${i}]`));
    return;
  }
  if (typeof message !== 'object' || message === null) return;
  const o = message as Record<string, unknown>;
  if (o.isSecret === true) {
    const name = typeof o.name === 'string' ? o.name : '?';
    if ('value' in o && o.value !== null && o.value !== SECRET_MASK) throw new SecretLeakError(`${path} (${name}).value`);
    if ('defaultValue' in o && o.defaultValue !== null) throw new SecretLeakError(`${path} (${name}).defaultValue`);
  }
  for (const [k, v] of Object.entries(o)) if (typeof v === 'object' && v !== null) assertNoSecretValues(v, `${path}.${k}`);
}

function toStageView(res: StageSettingsResponse): StageView {
  // Copy field by field: nothing the server may add later passes through unchecked.
  return {
    app: res.app,
    stage: res.stage,
    revision: res.revision,
    settings: res.settings.map((s) => ({
      name: s.name,
      type: s.type,
      description: s.description,
      isSecret: s.isSecret,
      hasValue: s.hasValue,
      value: s.isSecret ? (s.hasValue ? SECRET_MASK : null) : s.value,
      defaultValue: s.isSecret ? null : s.defaultValue,
      missing: s.missing,
      version: s.version,
      updatedAt: s.updatedAt,
      updatedBy: s.updatedBy,
      ...dueFlag(s),
    })),
  };
}

/** The portal's "due for rotation" flag when its answer has one (a newer portal), else nothing. */
function dueFlag(s: object): { dueForRotation?: boolean } {
  const due = (s as { dueForRotation?: unknown }).dueForRotation;
  return typeof due === 'boolean' ? { dueForRotation: due } : {};
}

function toHistoryView(res: HistoryResponse): HistoryView {
  // Field by field; a secret's entries carry the mask at most, whatever the server sent.
  return {
    stage: res.stage,
    name: res.name,
    isSecret: res.isSecret,
    version: res.version,
    entries: res.entries.map((e) => ({
      version: e.version,
      action: e.action,
      at: e.at,
      by: e.by,
      hasValue: e.hasValue,
      current: e.current,
      isSecret: res.isSecret,
      value: res.isSecret ? (e.hasValue ? SECRET_MASK : null) : e.value,
    })),
  };
}

function toCompareView(res: CompareResponse, stages: Array<{ key: string; name: string }>): CompareView {
  return {
    app: res.app,
    revision: res.revision,
    stages: res.stages.map((key) => ({ key, name: stages.find((s) => s.key === key)?.name ?? key })),
    settings: res.settings.map((s) => ({
      name: s.name,
      isSecret: s.isSecret,
      equal: s.equal,
      cells: Object.fromEntries(
        Object.entries(s.stages).map(([stage, c]) => [
          stage,
          {
            status: c.status,
            // Never a secret's value, whatever the server sent.
            ...(!s.isSecret && c.value !== undefined ? { value: c.value } : {}),
            ...(c.dueForRotation !== undefined ? { dueForRotation: c.dueForRotation } : {}),
            ...(c.sameAs !== undefined ? { sameAs: c.sameAs } : {}),
          },
        ]),
      ),
    })),
    warnings: res.warnings.map((w) => ({ setting: w.setting, stage: w.stage, kind: w.kind, detail: w.detail, ...(w.lowerStage ? { lowerStage: w.lowerStage } : {}) })),
  };
}

function toPromoteView(res: PromoteResponse): PromoteView {
  return {
    app: res.app,
    from: res.from,
    to: res.to,
    dryRun: res.dryRun,
    changes: res.changes.map((c) => ({
      name: c.name,
      isSecret: c.isSecret,
      action: c.action,
      fromStatus: c.fromStatus,
      toStatus: c.toStatus,
      ...(c.isSecret ? {} : { fromValue: c.fromValue ?? null, toValue: c.toValue ?? null }),
    })),
    unchanged: [...res.unchanged],
    skipped: res.skipped.map((s) => ({ name: s.name, reason: s.reason })),
    baseVersions: { ...res.baseVersions },
  };
}

/** A stage the token may not read: the portal answers 403 (out of scope) for it. */
function isForbidden(err: unknown): boolean {
  const e = err as PortalFailure | undefined;
  return e?.name === 'PortalError' && e.status === 403;
}

function coverageStatus(s: StageSettingsResponse['settings'][number]): CoverageStatus {
  if (s.hasValue) return 'set';
  if (s.isSecret) return 'missing';
  return s.defaultValue !== null ? 'default' : 'unset';
}

interface PortalFailure {
  name?: string;
  kind?: string;
  status?: number;
  message?: string;
  problem?: { conflicts?: string[]; errors?: Array<{ name: string; detail: string }> };
}

/** Maps a thrown error to what the webview shows. Messages come from the server's problem detail or ours. */
export function toProtocolError(err: unknown): ProtocolError {
  const e = (err ?? {}) as PortalFailure;
  if (e.name === 'NotSignedInError') return { code: 'not-signed-in', message: e.message ?? l10n.t('Not signed in. Run "ODC: Sign In".') };
  if (e.name === 'PortalError') {
    const code = e.kind === 'unreachable' || e.kind === 'timeout' || e.kind === 'invalid-response' ? e.kind : 'http';
    let message = e.message ?? l10n.t('The portal refused the request.');
    if (code === 'unreachable') {
      // Said for the people who set values, not for whoever runs the server (no "npm start").
      const where = /\bat (\S+)/.exec(message)?.[1];
      const why = /\(([A-Z_]+|network error)\)/.exec(message)?.[1];
      message = where
        ? why
          ? l10n.t('Cannot reach the portal at {0} ({1}). It may be down, or the server address in Settings (odcSettings.serverUrl) may be wrong.', where, why)
          : l10n.t('Cannot reach the portal at {0}. It may be down, or the server address in Settings (odcSettings.serverUrl) may be wrong.', where)
        : why
          ? l10n.t('Cannot reach the portal ({0}). It may be down, or the server address in Settings (odcSettings.serverUrl) may be wrong.', why)
          : l10n.t('Cannot reach the portal. It may be down, or the server address in Settings (odcSettings.serverUrl) may be wrong.');
    }
    return { code, message, ...(e.status !== undefined ? { status: e.status } : {}) };
  }
  if (e.name === 'SecretLeakError') return { code: 'internal', message: e.message ?? l10n.t('internal error') };
  return { code: 'internal', message: l10n.t('Unexpected error in the extension: {0}', e.message ?? String(err)) };
}

export class StageValuesController {
  private ready = false;
  private readonly queue: HostToWebview[] = [];
  private disposed = false;
  private readonly opts: StageValuesControllerOptions;
  private readonly handlers: Handlers;
  private initialSettings: string[] | undefined;

  constructor(opts: StageValuesControllerOptions) {
    this.opts = opts;
    this.initialSettings = opts.initialSettings;
    const appKey = opts.appKey;
    this.handlers = {
      'panel/init': async () => {
        const client = await opts.client();
        const [app, { stages }] = await Promise.all([client.app(appKey), client.stages()]);
        // Which stages may this token read? Ask each (in parallel); a 403 means out of scope, and
        // that stage is not listed. The first readable stage's answer goes with this reply.
        const answers = await Promise.all(
          stages.map((s) => client.stageSettings(appKey, s.key).then((r) => ({ ok: true as const, r }), (err: unknown) => ({ ok: false as const, err }))),
        );
        const readable = stages.filter((_, i) => { const a = answers[i]!; return a.ok || !isForbidden(a.err); });
        if (stages.length > 0 && readable.length === 0) {
          throw Object.assign(new Error(l10n.t("Your token may not read any stage of {0}. Sign in with a token whose scope includes this app's stages.", app.name)), { name: 'PortalError', kind: 'http', status: 403 });
        }
        const first = readable.find((s) => s.key === opts.initialStage) ?? readable[0];
        if (!first) return { app: { key: app.key, name: app.name }, stages: [], stage: null, view: null };
        const answer = answers[stages.indexOf(first)]!;
        if (!answer.ok) throw answer.err;
        // The first init only: a later reload (sign-in, publish) keeps whatever filter the user has.
        const only = this.initialSettings;
        this.initialSettings = undefined;
        return { app: { key: app.key, name: app.name }, stages: readable, stage: first.key, view: toStageView(answer.r), ...(only ? { only } : {}) };
      },
      'stage/load': async ({ stage }) => toStageView(await (await opts.client()).stageSettings(appKey, stage)),
      'stage/save': async ({ stage, changes }) => {
        const client = await opts.client();
        try {
          const res = await client.patchStage(appKey, stage, changes);
          return { outcome: 'saved', view: toStageView(res) };
        } catch (err) {
          const e = err as PortalFailure;
          if (e.name === 'PortalError' && e.status === 409 && e.problem?.conflicts) {
            // Reload so the webview shows what the other person saved; its other edits stay.
            const view = toStageView(await client.stageSettings(appKey, stage));
            return { outcome: 'conflict', message: e.message ?? l10n.t('Someone else changed these settings.'), conflicts: e.problem.conflicts, view };
          }
          if (e.name === 'PortalError' && e.status === 422 && e.problem?.errors) {
            return { outcome: 'invalid', message: e.message ?? l10n.t('Some values are not valid.'), errors: e.problem.errors.map(({ name, detail }) => ({ name, detail })) };
          }
          throw err;
        }
      },
      'coverage/load': async () => {
        const client = await opts.client();
        const [app, { stages }] = await Promise.all([client.app(appKey), client.stages()]);
        const answers = await Promise.all(
          stages.map((s) => client.stageSettings(appKey, s.key).then((r) => ({ ok: true as const, r }), (err: unknown) => ({ ok: false as const, err }))),
        );
        const view: CoverageView = {
          app: app.key,
          revision: app.revision,
          stages: stages.map((s, i) => {
            const a = answers[i]!;
            return a.ok ? { key: s.key, name: s.name } : { key: s.key, name: s.name, error: toProtocolError(a.err).message };
          }),
          settings: app.settings.map((def) => {
            const status: Record<string, CoverageStatus> = {};
            stages.forEach((s, i) => {
              const a = answers[i]!;
              const row = a.ok ? a.r.settings.find((x) => x.name === def.name) : undefined;
              if (row) status[s.key] = coverageStatus(row);
            });
            const due: Record<string, boolean> = {};
            stages.forEach((s, i) => {
              const a = answers[i]!;
              const row = a.ok ? a.r.settings.find((x) => x.name === def.name) : undefined;
              if (row?.dueForRotation !== undefined) due[s.key] = row.dueForRotation;
            });
            return { name: def.name, type: def.type, description: def.description, isSecret: def.isSecret, status, ...(Object.keys(due).length ? { due } : {}) };
          }),
        };
        // "Same as QA" comes from the comparison of the readable stages (fingerprints stay in the portal).
        const readable = stages.filter((_, i) => answers[i]!.ok).map((s) => s.key);
        if (client.compare && readable.length > 1) {
          try {
            const cmp = await client.compare(appKey, readable);
            const byName = new Map(cmp.settings.map((s) => [s.name, s]));
            for (const s of view.settings) {
              const c = byName.get(s.name);
              const sameAs: Record<string, string> = {};
              for (const [stage, cell] of Object.entries(c?.stages ?? {})) if (cell.sameAs) sameAs[stage] = cell.sameAs;
              if (Object.keys(sameAs).length) s.sameAs = sameAs;
            }
          } catch (err) {
            this.log('warn', `coverage: no comparison (${toProtocolError(err).message})`);
          }
        }
        return view;
      },
      'value/history': async ({ stage, name }) => toHistoryView(await need(await opts.client(), 'history')(appKey, stage, name)),
      'value/restore': async ({ stage, name, version, baseVersion }): Promise<SaveResult> => {
        const client = await opts.client();
        try {
          return { outcome: 'saved', view: toStageView(await need(client, 'restore')(appKey, stage, name, version, baseVersion)) };
        } catch (err) {
          const e = err as PortalFailure;
          if (e.name === 'PortalError' && e.status === 409 && e.problem?.conflicts) {
            const view = toStageView(await client.stageSettings(appKey, stage));
            return { outcome: 'conflict', message: e.message ?? l10n.t('Someone else changed this value.'), conflicts: e.problem.conflicts, view };
          }
          if (e.name === 'PortalError' && e.status === 422 && e.problem?.errors) {
            return { outcome: 'invalid', message: e.message ?? l10n.t('That version is not valid now.'), errors: e.problem.errors.map(({ name: n, detail }) => ({ name: n, detail })) };
          }
          throw err;
        }
      },
      'compare/load': async ({ stages }) => {
        const client = await opts.client();
        const [res, all] = await Promise.all([need(client, 'compare')(appKey, stages), client.stages()]);
        return toCompareView(res, all.stages);
      },
      'promote/preview': async ({ from, to, settings }) => toPromoteView(await need(await opts.client(), 'promote')(appKey, { from, to, dryRun: true, ...(settings ? { settings } : {}) })),
      'promote/apply': async ({ from, to, settings, baseVersions }) => {
        try {
          return { outcome: 'promoted', result: toPromoteView(await need(await opts.client(), 'promote')(appKey, { from, to, baseVersions, ...(settings ? { settings } : {}) })) };
        } catch (err) {
          const e = err as PortalFailure;
          if (e.name === 'PortalError' && e.status === 409 && e.problem?.conflicts) {
            return { outcome: 'conflict', message: e.message ?? l10n.t('The target stage changed since the preview.'), conflicts: e.problem.conflicts };
          }
          throw err;
        }
      },
      'panel/confirmDiscard': async (params) => ({ discard: opts.confirmDiscard ? await opts.confirmDiscard(params) : true }),
      'command/run': async ({ command }) => {
        if (!Object.prototype.hasOwnProperty.call(RUN_COMMANDS, command) || !RUNNABLE_COMMANDS.includes(command)) throw new Error(l10n.t('the command {0} may not be run from the panel', String(command).slice(0, 60)));
        if (!opts.executeCommand || opts.runsCommand?.(command) === false) return { ran: false };
        await opts.executeCommand(command, ...RUN_COMMANDS[command]);
        return { ran: true };
      },
    } satisfies Handlers;
  }

  /** Entry point for webview.onDidReceiveMessage. Never throws. */
  async handle(raw: unknown): Promise<void> {
    if (this.disposed) return;
    const parsed = parseWebviewMessage(raw);
    if (!parsed.ok) {
      this.log('warn', `rejected a message from the webview: ${parsed.message}`);
      if (parsed.id !== undefined) await this.send({ kind: 'response', id: parsed.id, ok: false, error: { code: 'bad-message', message: parsed.message } }, true);
      return;
    }
    const m = parsed.message;
    if (m.kind === 'notification') {
      this.onNotification(m.method, m.params);
      return;
    }
    const started = Date.now();
    let reply: HostToWebview;
    try {
      const handler = this.handlers[m.method] as (p: unknown) => Promise<unknown>;
      const result = await handler(m.params);
      reply = { kind: 'response', id: m.id, ok: true, result } as HostToWebview;
      assertNoSecretValues(reply);
      this.log('info', `${m.method}: ok in ${Date.now() - started} ms${describeOutcome(result)}`);
      const outcome = (result as { outcome?: unknown } | null)?.outcome;
      if (outcome === 'saved' || outcome === 'promoted') this.opts.onWritten?.();
    } catch (err) {
      const error = toProtocolError(err);
      this.log(error.code === 'internal' ? 'error' : 'warn', `${m.method}: ${error.code}${error.status ? ` ${error.status}` : ''}: ${error.message}`);
      reply = { kind: 'response', id: m.id, ok: false, error };
    }
    await this.send(reply, true);
  }

  /** Posts a notification, after the webview said it is ready. */
  notify<K extends keyof HostNotifications>(method: K, params: HostNotifications[K]): void {
    void this.send({ kind: 'notification', method, params } as HostToWebview, false);
  }

  dispose(): void {
    this.disposed = true;
    this.queue.length = 0;
  }

  private onNotification<K extends keyof WebviewNotifications>(method: K, params: WebviewNotifications[K]): void {
    if (method === 'webview/ready') {
      const p = params as WebviewNotifications['webview/ready'];
      if (p.protocol !== PROTOCOL_VERSION) this.log('warn', `webview speaks protocol ${p.protocol}, host ${PROTOCOL_VERSION}`);
      this.ready = true;
      const pending = this.queue.splice(0);
      for (const msg of pending) void this.send(msg, false);
    } else if (method === 'webview/dirty') {
      this.opts.onDirtyChange?.((params as WebviewNotifications['webview/dirty']).count);
    } else if (method === 'webview/saved') {
      this.opts.onSaved?.(params as WebviewNotifications['webview/saved']);
    }
  }

  private async send(message: HostToWebview, isResponse: boolean): Promise<void> {
    if (this.disposed) return;
    // A response answers a request, so the webview is listening; notifications wait for `ready`.
    if (!isResponse && !this.ready) {
      this.queue.push(message);
      return;
    }
    try {
      assertNoSecretValues(message);
    } catch (err) {
      this.log('error', (err as Error).message);
      if (message.kind !== 'response') return;
      message = { kind: 'response', id: message.id, ok: false, error: toProtocolError(err) };
    }
    try {
      await this.opts.post(message);
    } catch (err) {
      this.log('warn', `could not post to the webview: ${(err as Error).message}`);
    }
  }

  private log(level: 'info' | 'warn' | 'error', line: string): void {
    this.opts.log?.(level, `[stage values ${this.opts.appKey}] ${line}`);
  }
}

function describeOutcome(result: unknown): string {
  const r = result as { outcome?: string; conflicts?: string[] };
  if (r && typeof r.outcome === 'string') return ` (${r.outcome}${r.conflicts ? `: ${r.conflicts.join(', ')}` : ''})`;
  return '';
}
