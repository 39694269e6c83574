// Sign in the way a user does from VS Code's Accounts menu: when the extension has no session for
// a portal it asks VS Code for one without prompting, and VS Code puts "Sign in with ODC Portal to
// use ODC Settings & Secrets" in the Accounts menu. That entry is a workbench command; running it
// is the click. VS Code then calls the provider's createSession, whose token box the test answers
// through the test API (a password box cannot be typed into from the extension host). Unlike the
// Sign In command the first time, this path has no consent dialog (the dialog service refuses
// dialogs in extension tests), and it leaves this extension allowed to use that portal's account.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { TokenPromptRequest } from '../../../extension/auth/portalAuthProvider';
import type { OdcSettingsApi } from '../../../extension/testApi';
import { waitFor } from './workspace';

export const PROVIDER = 'odc-portal';
const MENU_ENTRY_PREFIX = `${PROVIDER}:odc-settings.odc-settings:signIn`;

export function silentSession(serverUrl: string): Thenable<vscode.AuthenticationSession | undefined> {
  return vscode.authentication.getSession(PROVIDER, [serverUrl], { silent: true });
}

/**
 * Clicks the Accounts menu's sign-in entry for `serverUrl`, answering its token box with `token`
 * (undefined = the user presses Escape). Returns what the token box showed.
 */
export async function signInFromAccountsMenu(api: OdcSettingsApi, serverUrl: string, token: string | undefined): Promise<{ shown: TokenPromptRequest[]; error?: Error }> {
  const shown: TokenPromptRequest[] = [];
  const restore = api.replaceTokenPrompt(async (req) => {
    shown.push(req);
    return req.serverUrl === serverUrl ? token : undefined;
  });
  try {
    // What the extension does while signed out; VS Code answers undefined and adds the menu entry.
    assert.equal(await vscode.authentication.getSession(PROVIDER, [serverUrl], { createIfNone: false }), undefined, `no session for ${serverUrl} yet`);
    const entries = await waitFor(async () => {
      const ids = (await vscode.commands.getCommands(true)).filter((c) => c.startsWith(MENU_ENTRY_PREFIX));
      assert.ok(ids.length > 0, 'an Accounts menu sign-in entry');
      return ids;
    }, 'the Accounts menu to offer "Sign in with ODC Portal"');
    // One entry per portal asked for; the others' token boxes are cancelled by the answer above.
    let error: Error | undefined;
    for (const id of entries) {
      try {
        await vscode.commands.executeCommand(id);
      } catch (err) {
        if (shown.at(-1)?.serverUrl === serverUrl) error = err as Error;
      }
      if (shown.some((r) => r.serverUrl === serverUrl)) break;
    }
    assert.ok(shown.some((r) => r.serverUrl === serverUrl), `an Accounts menu entry asked for the token of ${serverUrl}`);
    return { shown: shown.filter((r) => r.serverUrl === serverUrl), error };
  } finally {
    restore.dispose();
  }
}
