// What activate() returns, and only in a test run (context.extensionMode === ExtensionMode.Test):
// any installed extension can call another's exports, so in production there must be nothing here
// that could, say, auto-confirm a destructive publish. The extension-host tests run in the same
// host but in another bundle, so they cannot reach our module state except through this:
// - ready: resolves when the model has read the definitions files (activation does not wait).
// - replaceConfirm: the UI-boundary seam; a modal cannot be clicked from inside the host.
// - replaceTokenPrompt: the same for the sign-in token box (a password box cannot be typed into).
// - settingsTree: the Settings view's data provider, to read what the tree shows.
// - status: the status bar item's current state.
// - storedState: every key and value this extension keeps in workspace/global state, so a test
//   can prove the token is not among them.
// - codeProviders: the completion and hover providers of the code intelligence, so the bench can
//   time our own work apart from the other providers VS Code asks (TypeScript's).
// Nothing here returns a secret's value or the token.
import * as vscode from 'vscode';
import type { TokenPrompt } from './auth/portalAuthProvider';
import type { Confirm } from './ui/confirm';
import type { StatusSnapshot } from './status/publishStatus';
import type { TreeNode } from './views/treeNodes';

export interface OdcSettingsApi {
  /** Resolves once the definitions files have been read (activate() does not wait for that). */
  readonly ready: Promise<void>;
  replaceConfirm(confirm: Confirm): vscode.Disposable;
  replaceTokenPrompt(prompt: TokenPrompt): vscode.Disposable;
  readonly settingsTree: vscode.TreeDataProvider<TreeNode>;
  /** The Settings tree's status: requests made to the portal so far (one round per refresh, not per item), and whether a fetch is under way. */
  settingStatus(): { requests: number; settled: boolean };
  status(): StatusSnapshot;
  refreshStatus(): Promise<void>;
  storedState(): { workspace: Record<string, unknown>; global: Record<string, unknown> };
  /** Asks the open Stage Values editor of an app for a backup, as VS Code's hot exit does (it refuses). */
  backupStageValues(appKey: string): Promise<unknown>;
  /** Where VS Code keeps this extension's global storage (under the user data dir). */
  readonly globalStorageUri: vscode.Uri;
  readonly codeProviders: { completion: vscode.CompletionItemProvider; hover: vscode.HoverProvider };
}

/** The test hooks in a test run; nothing at all otherwise (the hooks are not even built). */
export function testHooksFor(mode: vscode.ExtensionMode, build: () => OdcSettingsApi): OdcSettingsApi | undefined {
  return mode === vscode.ExtensionMode.Test ? build() : undefined;
}
