// Sign in: the portal URL (checked: plain http only to loopback unless allowed), then the token
// in a password box. The token is verified with GET /api/v1/stages before it is stored, and it
// is stored only in SecretStorage (TokenStore). Arguments { serverUrl, token } skip the prompts.
import * as vscode from 'vscode';
import { z } from 'zod';
import { checkServerUrl } from '../services/serverUrl';
import { newPortalClient } from '../services/session';
import { CONFIG } from '../constants';
import { describeFailure } from '../publish/portalFailures';
import type { Deps } from './deps';
import { CommandInputError, parseArgs } from './targets';

const argsSchema = z.object({ serverUrl: z.string().optional(), token: z.string().optional() });

export type SignInOutcome = { status: 'signed-in'; serverUrl: string; stages: string[] } | { status: 'cancelled' } | { status: 'failed'; message: string };

export function signInCommand(deps: Pick<Deps, 'session' | 'log' | 'refreshStatus'>) {
  return async (arg?: unknown): Promise<SignInOutcome> => {
    const args = parseArgs(argsSchema, arg);
    const config = vscode.workspace.getConfiguration(CONFIG.section);
    const allowInsecure = config.get<boolean>(CONFIG.allowInsecureHttp) ?? false;
    let current: string;
    try {
      current = deps.session.serverUrl();
    } catch {
      current = config.get<string>(CONFIG.serverUrl) ?? '';
    }
    const urlText =
      args.serverUrl ??
      (await vscode.window.showInputBox({
        title: 'Sign in to the ODC settings portal (1/2)',
        prompt: 'Portal URL',
        value: current,
        ignoreFocusOut: true,
        validateInput: (v) => {
          const c = checkServerUrl(v, allowInsecure);
          return c.ok ? undefined : c.message;
        },
      }));
    if (urlText === undefined) return { status: 'cancelled' };
    const checked = checkServerUrl(urlText, allowInsecure);
    if (!checked.ok) throw new CommandInputError(checked.message);
    const serverUrl = checked.url;

    const token =
      args.token ??
      (await vscode.window.showInputBox({
        title: 'Sign in to the ODC settings portal (2/2)',
        prompt: `Token for ${serverUrl} (it is kept in VS Code's secret storage only)`,
        password: true,
        ignoreFocusOut: true,
        placeHolder: 'odcp_…',
        validateInput: (v) => (v.trim() === '' ? 'Paste the token an admin created for you' : /\s/.test(v.trim()) ? 'A token has no spaces' : undefined),
      }));
    if (token === undefined) return { status: 'cancelled' };

    let stages: string[];
    try {
      stages = (await (await newPortalClient({ serverUrl, token: token.trim() })).stages()).stages.map((s) => s.name);
    } catch (err) {
      const failure = describeFailure(err, { serverUrl });
      const message = failure.kind === 'unauthorized' ? `The portal at ${serverUrl} did not accept that token. Check it and sign in again.` : failure.message;
      deps.log.warn(`sign-in to ${serverUrl} failed (${failure.kind}${failure.status ? ` ${failure.status}` : ''})`);
      void vscode.window.showErrorMessage(message);
      return { status: 'failed', message };
    }
    await deps.session.signIn(serverUrl, token.trim());
    if (config.get<string>(CONFIG.serverUrl) !== serverUrl) {
      // Where the URL is set decides which value wins; update that one (the URL is no secret).
      const inspected = config.inspect<string>(CONFIG.serverUrl);
      const target = inspected?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
      await config.update(CONFIG.serverUrl, serverUrl, target);
    }
    deps.log.info(`signed in to ${serverUrl} (stages: ${stages.join(', ')})`);
    void vscode.window.showInformationMessage(`Signed in to the portal at ${serverUrl}.`);
    await deps.refreshStatus();
    return { status: 'signed-in', serverUrl, stages };
  };
}

export function signOutCommand(deps: Pick<Deps, 'session' | 'log' | 'refreshStatus'>) {
  return async (): Promise<void> => {
    const serverUrl = deps.session.serverUrl();
    await deps.session.signOut();
    deps.log.info(`signed out of ${serverUrl}`);
    void vscode.window.showInformationMessage(`Signed out of the portal at ${serverUrl}; the token was removed from secret storage.`);
    await deps.refreshStatus();
  };
}
