// The Is Secret checkbox: a click runs the same flow as the "Toggle Is Secret" command; when
// the user declines or the edit fails, the tree re-renders from the file, which unticks it.
import * as vscode from 'vscode';
import type { TreeNode } from './treeNodes';

export function onSecretCheckboxChanged(
  setSecret: (arg: unknown, isSecret: boolean) => Promise<boolean>,
  refreshTree: () => void,
  log: vscode.LogOutputChannel,
) {
  return async (e: vscode.TreeCheckboxChangeEvent<TreeNode>): Promise<void> => {
    for (const [node, state] of e.items) {
      if (node.kind !== 'setting') continue;
      let done = false;
      try {
        done = await setSecret(node, state === vscode.TreeItemCheckboxState.Checked);
      } catch (err) {
        log.error(`Is Secret of ${node.name}: ${(err as Error).message}`);
        void vscode.window.showErrorMessage(vscode.l10n.t('Could not change Is Secret of "{0}": {1}', node.name, (err as Error).message));
      }
      if (!done) refreshTree();
    }
  };
}
