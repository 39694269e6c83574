// What activate() returns: a small, documented surface for the extension-host tests (which
// run in the same host but in another bundle, so they cannot reach our module state):
// - ready: resolves when the model has read the definitions files (activation does not wait).
// - replaceConfirm: the UI-boundary seam; a modal cannot be clicked from inside the host.
// - settingsTree: the Settings view's data provider, to read what the tree shows.
// - status: the status bar item's current state.
// - storedState: every key and value this extension keeps in workspace/global state, so a test
//   can prove the token is not among them.
// Nothing here returns a secret's value or the token.
import type * as vscode from 'vscode';
import type { Confirm } from './ui/confirm';
import type { StatusSnapshot } from './status/publishStatus';
import type { TreeNode } from './views/treeNodes';

export interface OdcSettingsApi {
  /** Resolves once the definitions files have been read (activate() does not wait for that). */
  readonly ready: Promise<void>;
  replaceConfirm(confirm: Confirm): vscode.Disposable;
  readonly settingsTree: vscode.TreeDataProvider<TreeNode>;
  status(): StatusSnapshot;
  refreshStatus(): Promise<void>;
  storedState(): { workspace: Record<string, unknown>; global: Record<string, unknown> };
  /** Asks the open Stage Values editor of an app for a backup, as VS Code's hot exit does (it refuses). */
  backupStageValues(appKey: string): Promise<unknown>;
  /** Where VS Code keeps this extension's global storage (under the user data dir). */
  readonly globalStorageUri: vscode.Uri;
}
