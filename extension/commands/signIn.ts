// Sign in: the portal URL (checked: plain http only to loopback unless allowed; a URL from the
// workspace's settings says so), then the token in a password box. The "ODC Portal"
// authentication provider checks the token (GET /api/v1/stages) and keeps it in SecretStorage;
// then VS Code is asked for the session (vscode.authentication.getSession), which asks the user
// once per portal to let this extension use that account. Arguments { serverUrl, token } skip
// the two prompts (not the trust check or VS Code's consent).
import * as vscode from 'vscode';
import { z } from 'zod';
import { AUTH_PROVIDER_ID, originOfUrl, SignInError, tokenPromptFor, type PortalAuthProvider } from '../auth/portalAuthProvider';
import { checkServerUrl, describeOrigin, isFromWorkspace, serverUrlOrigin } from '../services/serverUrl';
import { CONFIG } from '../constants';
import type { Deps } from './deps';
import { CommandInputError, parseArgs } from './targets';

const argsSchema = z.object({ serverUrl: z.string().optional(), token: z.string().optional() });

export type SignInOutcome = { status: 'signed-in'; serverUrl: string; stages: string[] } | { status: 'cancelled' } | { status: 'failed'; message: string };

export interface SignInDeps extends Pick<Deps, 'session' | 'log' | 'refreshStatus'> {
  auth: PortalAuthProvider;
}

export function signInCommand(deps: SignInDeps) {
  return async (arg?: unknown): Promise<SignInOutcome> => {
    const args = parseArgs(argsSchema, arg);
    if (!vscode.workspace.isTrusted) {
      const message = vscode.l10n.t('Signing in to the portal needs a trusted workspace: its settings could point your token at any server. Trust this workspace first (Manage Workspace Trust).');
      void vscode.window.showErrorMessage(message);
      return { status: 'failed', message };
    }
    const config = vscode.workspace.getConfiguration(CONFIG.section);
    const allowInsecure = config.get<boolean>(CONFIG.allowInsecureHttp) ?? false;
    let current: string;
    try {
      current = deps.session.serverUrl();
    } catch {
      current = config.get<string>(CONFIG.serverUrl) ?? '';
    }
    const currentOrigin = serverUrlOrigin(config.inspect<string>(CONFIG.serverUrl));
    const urlText =
      args.serverUrl ??
      (await vscode.window.showInputBox({
        title: vscode.l10n.t('Sign in to the ODC settings portal ({0})', '1/2'),
        prompt: isFromWorkspace(currentOrigin)
          ? vscode.l10n.t('Portal URL. The one filled in is {0}: send your token only to a portal you know.', describeOrigin(currentOrigin))
          : vscode.l10n.t('Portal URL'),
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

    const token = args.token ?? (await deps.auth.askToken(tokenPromptFor(serverUrl, originOfUrl(serverUrl), '2/2')));
    if (token === undefined) return { status: 'cancelled' };

    let stages: string[];
    try {
      stages = (await deps.auth.signIn(serverUrl, token)).stages;
      // Through VS Code, as any extension would: the first time for this portal VS Code asks the
      // user to let this extension use the account; after that it answers silently.
      const granted =
        (await vscode.authentication.getSession(AUTH_PROVIDER_ID, [serverUrl], { silent: true })) ??
        (await vscode.authentication.getSession(AUTH_PROVIDER_ID, [serverUrl], consentFor(serverUrl)).then(undefined, async (err: unknown) => {
          // Not allowed: the token must not stay behind unused.
          await deps.auth.signOut(serverUrl);
          throw new SignInError(vscode.l10n.t('VS Code did not let ODC Settings use the ODC Portal account ({0}).', err instanceof Error ? err.message : String(err)), 'refused');
        }));
      if (granted?.account.id !== serverUrl) throw new Error(vscode.l10n.t('VS Code answered no session for {0}', serverUrl));
    } catch (err) {
      if (!(err instanceof SignInError)) throw err;
      void vscode.window.showErrorMessage(err.message);
      return { status: 'failed', message: err.message };
    }
    if (config.get<string>(CONFIG.serverUrl) !== serverUrl) {
      // Where the URL is set decides which value wins; update that one (the URL is no secret).
      const inspected = config.inspect<string>(CONFIG.serverUrl);
      const target = inspected?.workspaceValue !== undefined ? vscode.ConfigurationTarget.Workspace : vscode.ConfigurationTarget.Global;
      await config.update(CONFIG.serverUrl, serverUrl, target);
    }
    deps.log.info(`signed in to ${serverUrl} (stages: ${stages.join(', ')})`);
    void vscode.window.showInformationMessage(vscode.l10n.t('Signed in to the portal at {0}.', serverUrl));
    await deps.refreshStatus();
    return { status: 'signed-in', serverUrl, stages };
  };
}

/**
 * createIfNone for this portal's account. Naming the account (VS Code 1.93+; older versions ignore
 * it) spares the user an account picker after the consent dialog: the session was just stored.
 */
function consentFor(serverUrl: string): vscode.AuthenticationGetSessionOptions & { createIfNone: true } {
  const options: vscode.AuthenticationGetSessionOptions & { createIfNone: true; account: vscode.AuthenticationSessionAccountInformation } = {
    createIfNone: true,
    account: { id: serverUrl, label: serverUrl },
  };
  return options;
}

export function signOutCommand(deps: Pick<Deps, 'session' | 'log' | 'refreshStatus'>) {
  return async (): Promise<void> => {
    const serverUrl = deps.session.serverUrl();
    await deps.session.signOut(serverUrl);
    deps.log.info(`signed out of ${serverUrl}`);
    void vscode.window.showInformationMessage(vscode.l10n.t('Signed out of the portal at {0}; the token was removed from secret storage.', serverUrl));
    await deps.refreshStatus();
  };
}
