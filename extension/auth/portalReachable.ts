// The walkthrough's first step ("Start the portal") completes on the context key
// odcSettings.portalReachable: a tokenless GET /api/v1/health to the configured URL, at start-up
// and whenever the URL setting changes (a successful sign-in sets it too). Untrusted workspaces
// ignore a repository's URL (restrictedConfigurations), so this only contacts a URL the user set.
// A portal that answers while signed out is offered in the Accounts menu (PortalSession.offerSignIn).
import * as vscode from 'vscode';
import { CONTEXT } from '../constants';
import { setWalkthroughContext } from '../walkthroughProgress';
import { newPortalClient, type PortalSession } from '../services/session';

export function watchPortalReachable(session: PortalSession): vscode.Disposable {
  let sequence = 0;
  const probe = async () => {
    const seq = ++sequence;
    let reachable = false;
    let serverUrl: string | undefined;
    try {
      serverUrl = session.serverUrl();
      const client = await newPortalClient({ serverUrl, token: undefined, timeoutMs: 3_000 });
      reachable = (await client.health()).status === 'ok';
    } catch {
      reachable = false;
    }
    if (seq !== sequence) return;
    await setWalkthroughContext(CONTEXT.portalReachable, reachable);
    // A portal that answers and has no session here: offered in the Accounts menu.
    if (reachable && serverUrl) await session.offerSignIn(serverUrl).catch(() => undefined);
  };
  void probe();
  const config = vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration('odcSettings.serverUrl')) void probe();
  });
  // Signed out: the Accounts menu offers this portal again.
  const sessions = session.onDidChange(() => void probe());
  return vscode.Disposable.from(config, sessions);
}
