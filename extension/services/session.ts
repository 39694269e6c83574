// The portal connection: server URL from settings, token from the "ODC Portal" authentication
// provider (extension/auth), asked for through vscode.authentication.getSession like any
// extension would. Commands and panels ask it for a client; it never stores the token itself.
import * as vscode from 'vscode';
import { AUTH_PROVIDER_ID, type PortalAuthProvider } from '../auth/portalAuthProvider';
import type { PortalClient } from './portalClient';
import { checkServerUrl } from './serverUrl';

export const CONFIG_SECTION = 'odcSettings';
export const DEFAULT_SERVER_URL = 'http://127.0.0.1:4650';

export class NotSignedInError extends Error {
  constructor(serverUrl: string) {
    super(vscode.l10n.t('Not signed in to the portal at {0}. Run "ODC: Sign In".', serverUrl));
    this.name = 'NotSignedInError';
  }
}

export class PortalSession {
  private readonly requested = new Set<string>();

  constructor(private readonly provider: PortalAuthProvider) {}

  get onDidChange(): vscode.Event<unknown> {
    return this.provider.onDidChangeSessions;
  }

  /** The configured server URL, checked (plain http only to loopback unless allowed). */
  serverUrl(): string {
    const config = vscode.workspace.getConfiguration(CONFIG_SECTION);
    const text = config.get<string>('serverUrl') || DEFAULT_SERVER_URL;
    const checked = checkServerUrl(text, config.get<boolean>('allowInsecureHttp') ?? false);
    if (!checked.ok) throw new Error(`odcSettings.serverUrl: ${checked.message}`); // l10n-ignore: the setting's id, then a translated message
    return checked.url;
  }

  /** This portal's session, if the user signed in and let this extension use it (no prompt). */
  async session(serverUrl = this.serverUrl()): Promise<vscode.AuthenticationSession | undefined> {
    return vscode.authentication.getSession(AUTH_PROVIDER_ID, [serverUrl], { silent: true });
  }

  async isSignedIn(): Promise<boolean> {
    return (await this.session(this.serverUrl())) !== undefined;
  }

  /**
   * Not signed in to this portal: put "Sign in with ODC Portal to use ODC Settings & Secrets" in
   * the Accounts menu (trusted only). VS Code withdraws that entry only when a session with the
   * same scopes ([serverUrl]) is added, so it is asked for only for a portal that answered (the
   * caller's health check): not for a default URL nobody runs, which would stay there after the
   * user signs in to the portal they typed in.
   */
  async offerSignIn(serverUrl: string): Promise<void> {
    if (!vscode.workspace.isTrusted || this.requested.has(serverUrl) || (await this.session(serverUrl)) !== undefined) return;
    this.requested.add(serverUrl);
    await vscode.authentication.getSession(AUTH_PROVIDER_ID, [serverUrl], { createIfNone: false }).then(
      () => this.requested.delete(serverUrl),
      () => this.requested.delete(serverUrl),
    );
  }

  /** A client with the session's token; throws NotSignedInError when there is none. */
  async client(): Promise<PortalClient> {
    const serverUrl = this.serverUrl();
    const session = await this.session(serverUrl);
    if (!session) throw new NotSignedInError(serverUrl);
    return newPortalClient({ serverUrl, token: session.accessToken });
  }

  async signOut(serverUrl = this.serverUrl()): Promise<void> {
    await this.provider.signOut(serverUrl);
  }
}

/**
 * A PortalClient, its module (axios, the portal's zod response schemas) loaded on first use: it is
 * not needed to activate the extension, and loading it would cost every activation.
 */
export async function newPortalClient(opts: ConstructorParameters<typeof PortalClient>[0]): Promise<PortalClient> {
  const { PortalClient } = await import('./portalClient');
  return new PortalClient(opts);
}
