// The "ODC Portal" authentication provider, workspace trust and the test hooks, in a real
// extension host against two REAL portal servers (each its own port and data dir).
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { SignInOutcome } from '../../extension/commands/signIn';
import { testHooksFor, type OdcSettingsApi } from '../../extension/testApi';
import { signInFromAccountsMenu, silentSession } from './support/auth';
import { startPortal, type TestPortal } from './support/portal';
import { activateExtension, extensionRoot, fixture, removeDefinitions, resetDefinitions, waitFor, workspaceFolder } from './support/workspace';

const config = () => vscode.workspace.getConfiguration('odcSettings');
const setServerUrl = (url: string | undefined, target = vscode.ConfigurationTarget.Global) => config().update('serverUrl', url, target);

suite('ODC Portal accounts (authentication provider) and workspace trust', () => {
  let api: OdcSettingsApi;
  let a: TestPortal;
  let b: TestPortal;
  let c: TestPortal;

  suiteSetup(async function () {
    this.timeout(90_000);
    api = await activateExtension();
    [a, b, c] = await Promise.all([startPortal(extensionRoot()), startPortal(extensionRoot()), startPortal(extensionRoot())]);
    // An app in the workspace, so the status bar says which portal it talks to and whether signed in.
    await resetDefinitions(api, fixture('orders/odc-app.json'));
  });

  suiteTeardown(async () => {
    await vscode.commands.executeCommand('odcSettings.signOut').then(undefined, () => undefined);
    await setServerUrl(undefined, vscode.ConfigurationTarget.Workspace);
    await setServerUrl(undefined);
    await Promise.all([a?.stop(), b?.stop(), c?.stop()]);
    removeDefinitions();
  });

  test('test hooks exist only in a test run: the production and development API is undefined, built not at all', () => {
    let built = 0;
    const build = (): OdcSettingsApi => {
      built++;
      return api;
    };
    assert.equal(testHooksFor(vscode.ExtensionMode.Production, build), undefined);
    assert.equal(testHooksFor(vscode.ExtensionMode.Development, build), undefined);
    assert.equal(built, 0, 'the hooks are not even constructed outside tests');
    assert.equal(testHooksFor(vscode.ExtensionMode.Test, build), api);
    // This run is a test run, so the real activation handed the hooks out; and activate() has no other return.
    assert.equal(typeof api.replaceConfirm, 'function');
    const source = fs.readFileSync(path.join(extensionRoot(), 'extension/extension.ts'), 'utf8');
    const returns = [...source.matchAll(/^\s*return\b.*$/gm)].map((m) => m[0].trim());
    const activateBody = source.slice(source.indexOf('export async function activate('), source.indexOf('export function deactivate'));
    assert.match(activateBody, /return testHooksFor\(context\.extensionMode, \(\) => \(\{/);
    assert.equal((activateBody.match(/^ {2}return\b/gm) ?? []).length, 1, `activate() returns once, through testHooksFor (${returns.join(' | ')})`);
  });

  test('signing in from the Accounts menu: the token is checked, the ODC Portal account serves getSession, the status bar is signed in', async () => {
    await setServerUrl(a.url);
    const { shown, error } = await signInFromAccountsMenu(api, a.url, a.adminToken);
    assert.equal(error, undefined);
    assert.equal(shown.length, 1);
    assert.equal(shown[0]!.origin, 'user', 'a URL from the user settings');
    assert.doesNotMatch(shown[0]!.prompt, /workspace/);
    const session = await silentSession(a.url);
    assert.ok(session, 'vscode.authentication.getSession answers without a prompt');
    assert.equal(session.accessToken, a.adminToken);
    assert.deepEqual([session.account.id, session.account.label, session.scopes], [a.url, a.url, [a.url]]);
    await waitFor(async () => {
      await api.refreshStatus();
      assert.deepEqual([api.status().serverUrl, api.status().state], [a.url, 'unpublished']);
    }, 'the status bar to use the session');
  });

  test('a token the portal refuses is not kept, and the account does not appear', async () => {
    await setServerUrl(b.url);
    const { error } = await signInFromAccountsMenu(api, b.url, 'odcp_not-a-real-token');
    assert.match(error?.message ?? '', /did not accept that token/);
    assert.equal(await silentSession(b.url), undefined);
  });

  test('two portals at once: each URL has its own account and token; signing out of one keeps the other', async () => {
    await setServerUrl(b.url);
    assert.equal((await signInFromAccountsMenu(api, b.url, b.adminToken)).error, undefined);
    assert.equal((await silentSession(a.url))?.accessToken, a.adminToken);
    assert.equal((await silentSession(b.url))?.accessToken, b.adminToken);
    // The commands follow the configured URL: the Sign In command re-signs in to B with no consent
    // dialog (this extension may use B's account now) and both portals answer the extension.
    const again = await vscode.commands.executeCommand<SignInOutcome>('odcSettings.signIn', { serverUrl: b.url, token: b.adminToken });
    assert.deepEqual(again, { status: 'signed-in', serverUrl: b.url, stages: ['Development', 'QA', 'Production'] });
    await vscode.commands.executeCommand('odcSettings.signOut');
    assert.equal(await silentSession(b.url), undefined, 'signed out of B');
    await api.refreshStatus();
    assert.deepEqual([api.status().serverUrl, api.status().state], [b.url, 'signed-out']);
    assert.equal((await silentSession(a.url))?.accessToken, a.adminToken, 'still signed in to A');
    await setServerUrl(a.url);
    await waitFor(async () => {
      await api.refreshStatus();
      assert.deepEqual([api.status().serverUrl, api.status().state], [a.url, 'unpublished']);
    }, 'the status bar to use A again');
  });

  test('the Sign In command goes through VS Code: for a portal this extension may not use yet VS Code must consent, else nothing is kept', async () => {
    // B's account was signed out above but stays allowed; C's is new to VS Code.
    const other = c.url;
    const outcome = await vscode.commands.executeCommand<SignInOutcome>('odcSettings.signIn', { serverUrl: other, token: c.adminToken });
    // Extension tests cannot click VS Code's "wants to sign in using ODC Portal" dialog; it is refused.
    assert.equal(outcome.status, 'failed');
    assert.match(outcome.status === 'failed' ? outcome.message : '', /did not let ODC Settings use the ODC Portal account/);
    assert.equal(await silentSession(other), undefined);
    assert.equal(config().get('serverUrl'), a.url, 'the setting is unchanged');
  });

  test("a server URL from this workspace's settings is named as such in the token box, before any token is sent", async () => {
    await setServerUrl(b.url, vscode.ConfigurationTarget.Workspace);
    try {
      assert.equal(config().get('serverUrl'), b.url);
      // From the Accounts menu:
      const { shown, error } = await signInFromAccountsMenu(api, b.url, undefined);
      assert.match(error?.message ?? '', /cancelled/i);
      assert.equal(shown[0]!.origin, 'workspace');
      assert.match(shown[0]!.prompt, new RegExp(`${b.url.replace(/[.]/g, '\\.')} \\(from this workspace's settings`));
      // From the Sign In command (URL given, token asked):
      const asked: string[] = [];
      const restore = api.replaceTokenPrompt(async (req) => {
        asked.push(req.prompt);
        return undefined;
      });
      try {
        assert.deepEqual(await vscode.commands.executeCommand<SignInOutcome>('odcSettings.signIn', { serverUrl: b.url }), { status: 'cancelled' });
      } finally {
        restore.dispose();
      }
      assert.match(asked[0] ?? '', /from this workspace's settings/);
      assert.equal(await silentSession(b.url), undefined, 'nothing was kept');
    } finally {
      await setServerUrl(undefined, vscode.ConfigurationTarget.Workspace);
    }
  });

  test('the manifest runs the extension in Restricted Mode with the portal URL and definitions file restricted', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(extensionRoot(), 'package.json'), 'utf8')) as {
      capabilities?: { untrustedWorkspaces?: { supported: unknown; restrictedConfigurations?: string[] } };
    };
    assert.equal(pkg.capabilities?.untrustedWorkspaces?.supported, 'limited');
    assert.deepEqual(pkg.capabilities?.untrustedWorkspaces?.restrictedConfigurations, ['odcSettings.serverUrl', 'odcSettings.definitionsFile', 'odcSettings.secretPatterns']);
    // VS Code read it: in this (trusted) host the workspace value counts; Restricted Mode would ignore it.
    assert.equal(vscode.workspace.isTrusted, true);
  });
});
