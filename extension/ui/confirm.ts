// The one seam at the UI boundary for "are you sure?" questions. Production uses a modal
// warning; extension-host tests swap in a function (through the test API that activate()
// returns) that records the request and answers, because a modal cannot be clicked from
// inside the extension host. The real modal is covered by the workbench UI tests.
import * as vscode from 'vscode';

export type ConfirmKind = 'mark-secret' | 'unmark-secret' | 'delete-setting' | 'rename-setting' | 'publish-deletions' | 'change-type' | 'set-development-value' | 'import-dotenv';

export interface ConfirmRequest {
  kind: ConfirmKind;
  /** The question, one line. */
  message: string;
  /** More lines under it: consequences, the list of affected values. */
  detail: string;
  /** The button that says yes; anything else (Cancel, Escape, closing) is no. */
  confirmLabel: string;
  /** Structured lines of what will be lost (publish: "Setting in Stage: reason"), for tests and logs. */
  items?: string[];
  /** A second button that shows more (e.g. "Show All" opens the whole plan), after which the question is asked again. */
  more?: { label: string; run: () => Promise<unknown> };
}

export type Confirm = (request: ConfirmRequest) => Promise<boolean>;

export const modalConfirm: Confirm = async (req) => {
  for (;;) {
    const buttons = req.more ? [req.confirmLabel, req.more.label] : [req.confirmLabel];
    const answer = await vscode.window.showWarningMessage(req.message, { modal: true, detail: req.detail }, ...buttons);
    if (req.more && answer === req.more.label) {
      await req.more.run();
      continue;
    }
    return answer === req.confirmLabel;
  }
};

/** Holds the current Confirm; commands call `ask` so a test's replacement takes effect at once. */
export class ConfirmSeam {
  private current: Confirm = modalConfirm;

  readonly ask: Confirm = (req) => this.current(req);

  /** Replace the confirmation (tests). Disposing restores the modal. */
  replace(confirm: Confirm): vscode.Disposable {
    this.current = confirm;
    return new vscode.Disposable(() => {
      if (this.current === confirm) this.current = modalConfirm;
    });
  }
}
