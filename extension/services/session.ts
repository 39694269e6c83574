// The portal connection: server URL from settings, token from SecretStorage. Commands and
// panels ask it for a client; it never stores the token anywhere else.
import * as vscode from 'vscode';
import type { PortalClient } from './portalClient';
import { checkServerUrl } from './serverUrl';
import type { TokenStore } from './tokenStore';

export const CONFIG_SECTION = 'odcSettings';
export const DEFAULT_SERVER_URL = 'http://127.0.0.1:4650';

export class NotSignedInError extends Error {
  constructor(serverUrl: string) {
    super(`Not signed in to the portal at ${serverUrl}. Run "ODC: Sign In".`);
    this.name = 'NotSignedInError';
  }
}

export class PortalSession {
  constructor(private readonly tokens: TokenStore) {}

  get onDidChange(): vscode.Event<void> {
    return this.tokens.onDidChange;
  }

  /** The configured server URL, checked (plain http only to loopback unless allowed). */
  serverUrl(): string {
    const config = vscode.workspace.getConfiguration(CONFIG_SECTION);
    const text = config.get<string>('serverUrl') || DEFAULT_SERVER_URL;
    const checked = checkServerUrl(text, config.get<boolean>('allowInsecureHttp') ?? false);
    if (!checked.ok) throw new Error(`odcSettings.serverUrl: ${checked.message}`);
    return checked.url;
  }

  async isSignedIn(): Promise<boolean> {
    return (await this.tokens.get(this.serverUrl())) !== undefined;
  }

  /** A client with the stored token; throws NotSignedInError when there is none. */
  async client(): Promise<PortalClient> {
    const serverUrl = this.serverUrl();
    const token = await this.tokens.get(serverUrl);
    if (!token) throw new NotSignedInError(serverUrl);
    return newPortalClient({ serverUrl, token });
  }

  async signIn(serverUrl: string, token: string): Promise<void> {
    await this.tokens.set(serverUrl, token);
  }

  async signOut(): Promise<void> {
    await this.tokens.delete(this.serverUrl());
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
