// The walkthrough's first step ("Start the portal") completes on the context key
// odcSettings.portalReachable: a tokenless GET /api/v1/health to the configured URL, at start-up
// and whenever the URL setting changes (a successful sign-in sets it too). Untrusted workspaces
// ignore a repository's URL (restrictedConfigurations), so this only contacts a URL the user set.
import * as vscode from 'vscode';
import { CONTEXT } from '../constants';
import { newPortalClient, type PortalSession } from '../services/session';

export function watchPortalReachable(session: PortalSession): vscode.Disposable {
  let sequence = 0;
  const probe = async () => {
    const seq = ++sequence;
    let reachable = false;
    try {
      const client = await newPortalClient({ serverUrl: session.serverUrl(), token: undefined, timeoutMs: 3_000 });
      reachable = (await client.health()).status === 'ok';
    } catch {
      reachable = false;
    }
    if (seq === sequence) await vscode.commands.executeCommand('setContext', CONTEXT.portalReachable, reachable);
  };
  void probe();
  return vscode.workspace.onDidChangeConfiguration((e) => {
    if (e.affectsConfiguration('odcSettings.serverUrl')) void probe();
  });
}
