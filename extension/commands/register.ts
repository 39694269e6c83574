// The one way commands are registered: the handler's failures are caught, logged to the
// LogOutputChannel and shown as an error notification, and the registration goes into the
// subscriptions. Messages come from our own errors and the portal's problem details, which
// never carry a secret's value or the token.
import * as vscode from 'vscode';
import type { CommandId } from '../constants';

export type CommandHandler = (...args: unknown[]) => unknown;

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return typeof err === 'string' ? err : vscode.l10n.t('unexpected error');
}

export function register(subscriptions: vscode.Disposable[], log: vscode.LogOutputChannel, id: CommandId, handler: CommandHandler): void {
  subscriptions.push(
    vscode.commands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await handler(...args);
      } catch (err) {
        const message = errorMessage(err);
        log.error(`${id}: ${message}`);
        void vscode.window.showErrorMessage(message.charAt(0).toUpperCase() + message.slice(1), vscode.l10n.t('Show Log')).then((choice) => {
          if (choice) log.show(true);
        });
        return undefined;
      }
    }),
  );
}
