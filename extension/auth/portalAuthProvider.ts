// "ODC Portal" in VS Code's Accounts menu. One session per portal URL, so two portals can be
// signed in at once; the session's scope and account are that URL. The token lives in
// SecretStorage only (TokenStore); the list of signed-in URLs (no secret) sits next to it there.
// VS Code calls createSession when the user signs in from the Accounts menu; the Sign In command
// stores its verified token through signIn() below. Either way the token is checked against the
// portal (GET /api/v1/stages) before it is kept, and only in a trusted workspace.
import * as vscode from 'vscode';
import { describeFailure } from '../publish/portalFailures';
import { checkServerUrl, describeOrigin, isFromWorkspace, serverUrlOrigin, type ServerUrlOrigin } from '../services/serverUrl';
import type { TokenStore } from '../services/tokenStore';
import { CONFIG, CONTEXT } from '../constants';
import { setWalkthroughContext } from '../walkthroughProgress';

export const AUTH_PROVIDER_ID = 'odc-portal';
export const AUTH_PROVIDER_LABEL = 'ODC Portal'; // l10n-ignore: a product name (the Accounts menu's provider)
const ACCOUNTS_KEY = 'odcSettings.accounts';

/** What the token box shows; the seam tests replace (a password box cannot be typed into from the host). */
export interface TokenPromptRequest {
  serverUrl: string;
  origin: ServerUrlOrigin;
  title: string;
  prompt: string;
}
export type TokenPrompt = (req: TokenPromptRequest) => Promise<string | undefined>;

export const passwordBoxPrompt: TokenPrompt = async (req) =>
  vscode.window.showInputBox({
    title: req.title,
    prompt: req.prompt,
    password: true,
    ignoreFocusOut: true,
    placeHolder: 'odcp_…',
    validateInput: (v) => (v.trim() === '' ? vscode.l10n.t('Paste the token an admin created for you') : /\s/.test(v.trim()) ? vscode.l10n.t('A token has no spaces') : undefined),
  });

export class SignInError extends Error {
  constructor(
    message: string,
    readonly kind: 'cancelled' | 'untrusted' | 'refused' | 'unreachable',
  ) {
    super(message);
    this.name = 'SignInError';
  }
}

/** Where a URL the user is about to send a token to comes from (compared with the configured one). */
export function originOfUrl(serverUrl: string): ServerUrlOrigin {
  const config = vscode.workspace.getConfiguration(CONFIG.section);
  const inspected = config.inspect<string>(CONFIG.serverUrl);
  const configured = checkServerUrl(config.get<string>(CONFIG.serverUrl) ?? '', true);
  // A URL the user typed is theirs; only the configured one has a settings layer to name.
  if (!configured.ok || configured.url !== serverUrl) return 'user';
  return serverUrlOrigin(inspected);
}

/** The token box's wording: the URL, and where it came from when a repository could have set it. */
export function tokenPromptFor(serverUrl: string, origin: ServerUrlOrigin, step?: string): TokenPromptRequest {
  const where = isFromWorkspace(origin) ? vscode.l10n.t('{0} ({1}: send your token only to a portal you know)', serverUrl, describeOrigin(origin)) : serverUrl;
  return {
    serverUrl,
    origin,
    title: step ? vscode.l10n.t('Sign in to the ODC settings portal ({0})', step) : vscode.l10n.t('Sign in to the ODC settings portal'),
    prompt: vscode.l10n.t("Token for {0}. It is kept in VS Code's secret storage only.", where),
  };
}

export class PortalAuthProvider implements vscode.AuthenticationProvider, vscode.Disposable {
  private readonly changed = new vscode.EventEmitter<vscode.AuthenticationProviderAuthenticationSessionsChangeEvent>();
  readonly onDidChangeSessions = this.changed.event;
  private readonly disposables: vscode.Disposable[] = [this.changed];
  private known = new Map<string, vscode.AuthenticationSession>();
  private prompt: TokenPrompt = passwordBoxPrompt;

  constructor(
    private readonly secrets: vscode.SecretStorage,
    private readonly tokens: TokenStore,
    private readonly log: vscode.LogOutputChannel,
    /** Checks a token with the portal (GET /api/v1/stages); rejects when it is refused. Returns the stage names. */
    private readonly verify: (serverUrl: string, token: string) => Promise<string[]>,
  ) {
    // Another window signing in or out changes the same SecretStorage: follow it.
    this.disposables.push(tokens.onDidChange(() => void this.sync()));
    void this.sync();
  }

  /** Replace the token prompt (tests). Disposing restores the password box. */
  replacePrompt(prompt: TokenPrompt): vscode.Disposable {
    this.prompt = prompt;
    return new vscode.Disposable(() => {
      if (this.prompt === prompt) this.prompt = passwordBoxPrompt;
    });
  }

  /** The token box as it is now (the password box, or a test's answer). */
  askToken(req: TokenPromptRequest): Promise<string | undefined> {
    return this.prompt(req);
  }

  private static sessionId(serverUrl: string): string {
    return `odc-portal:${serverUrl}`;
  }

  private async accounts(): Promise<string[]> {
    try {
      const parsed: unknown = JSON.parse((await this.secrets.get(ACCOUNTS_KEY)) ?? '[]');
      return Array.isArray(parsed) ? parsed.filter((u): u is string => typeof u === 'string') : [];
    } catch {
      return [];
    }
  }

  private async current(): Promise<Map<string, vscode.AuthenticationSession>> {
    const sessions = new Map<string, vscode.AuthenticationSession>();
    for (const serverUrl of await this.accounts()) {
      const token = await this.tokens.get(serverUrl);
      if (!token) continue;
      const id = PortalAuthProvider.sessionId(serverUrl);
      sessions.set(id, { id, accessToken: token, account: { id: serverUrl, label: serverUrl }, scopes: [serverUrl] });
    }
    return sessions;
  }

  /** Re-reads the stored sessions and tells VS Code what was added, removed or changed. */
  private async sync(): Promise<void> {
    const next = await this.current();
    const added = [...next.values()].filter((s) => !this.known.has(s.id));
    const removed = [...this.known.values()].filter((s) => !next.has(s.id));
    const changed = [...next.values()].filter((s) => {
      const before = this.known.get(s.id);
      return before !== undefined && before.accessToken !== s.accessToken;
    });
    this.known = next;
    if (added.length || removed.length || changed.length) this.changed.fire({ added, removed, changed });
  }

  async getSessions(scopes?: readonly string[]): Promise<vscode.AuthenticationSession[]> {
    const all = [...(await this.current()).values()];
    const wanted = scopes?.[0];
    return wanted ? all.filter((s) => s.account.id === wanted) : all;
  }

  /** VS Code calls this when the user signs in from the Accounts menu (or a command asks with createIfNone). */
  async createSession(scopes: readonly string[]): Promise<vscode.AuthenticationSession> {
    const config = vscode.workspace.getConfiguration(CONFIG.section);
    const checked = checkServerUrl(scopes[0] ?? config.get<string>(CONFIG.serverUrl) ?? '', config.get<boolean>(CONFIG.allowInsecureHttp) ?? false);
    if (!checked.ok) throw new SignInError(checked.message, 'refused');
    const serverUrl = checked.url;
    this.requireTrust();
    const token = await this.askToken(tokenPromptFor(serverUrl, originOfUrl(serverUrl)));
    if (token === undefined) throw new SignInError(vscode.l10n.t('Sign-in cancelled.'), 'cancelled');
    return this.signIn(serverUrl, token);
  }

  /** Checks the token with the portal, then keeps it (replacing this portal's earlier one). */
  async signIn(serverUrl: string, rawToken: string): Promise<vscode.AuthenticationSession & { stages: string[] }> {
    this.requireTrust();
    const token = rawToken.trim();
    let stages: string[];
    try {
      stages = await this.verify(serverUrl, token);
    } catch (err) {
      const failure = describeFailure(err, { serverUrl });
      this.log.warn(`sign-in to ${serverUrl} failed (${failure.kind}${failure.status ? ` ${failure.status}` : ''})`);
      if (failure.kind === 'unauthorized') throw new SignInError(vscode.l10n.t('The portal at {0} did not accept that token. Check it and sign in again.', serverUrl), 'refused');
      throw new SignInError(failure.message, 'unreachable');
    }
    await this.tokens.set(serverUrl, token);
    const accounts = await this.accounts();
    if (!accounts.includes(serverUrl)) await this.secrets.store(ACCOUNTS_KEY, JSON.stringify([...accounts, serverUrl]));
    await this.sync();
    void setWalkthroughContext(CONTEXT.portalReachable, true);
    const session = this.known.get(PortalAuthProvider.sessionId(serverUrl));
    if (!session) throw new Error(vscode.l10n.t('the session for {0} was not stored', serverUrl));
    return { ...session, stages };
  }

  /** Sign-out, from the Accounts menu or the Sign Out command: the token leaves SecretStorage. */
  async removeSession(sessionId: string): Promise<void> {
    const session = this.known.get(sessionId) ?? (await this.current()).get(sessionId);
    if (!session) return;
    const serverUrl = session.account.id;
    await this.tokens.delete(serverUrl);
    await this.secrets.store(ACCOUNTS_KEY, JSON.stringify((await this.accounts()).filter((u) => u !== serverUrl)));
    await this.sync();
  }

  async signOut(serverUrl: string): Promise<void> {
    await this.removeSession(PortalAuthProvider.sessionId(serverUrl));
  }

  /** A token goes only to a portal the user chose, which in an untrusted folder cannot be told apart. */
  private requireTrust(): void {
    if (!vscode.workspace.isTrusted) {
      throw new SignInError(vscode.l10n.t('Signing in to the portal needs a trusted workspace: its settings could point your token at any server. Trust this workspace first (Manage Workspace Trust).'), 'untrusted');
    }
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}
