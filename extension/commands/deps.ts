// What commands may depend on. Each command's factory takes only the part it uses
// (Pick<Deps, ...>), so its file says what it touches.
import type * as vscode from 'vscode';
import type { DefinitionsModel } from '../definitions/definitionsModel';
import type { PortalSession } from '../services/session';
import type { Confirm } from '../ui/confirm';

export interface Deps {
  model: DefinitionsModel;
  log: vscode.LogOutputChannel;
  /** The "are you sure?" seam (modal in production, replaced in extension-host tests). */
  confirm: Confirm;
  session: PortalSession;
  /** Re-renders the Settings tree (reverts a declined checkbox). */
  refreshTree: () => void;
  /** Re-checks the status bar against the portal. */
  refreshStatus: () => Promise<void>;
  /** Tells open Stage Values panels that an app has a new revision. */
  onPublished: (appKey: string) => void;
}
