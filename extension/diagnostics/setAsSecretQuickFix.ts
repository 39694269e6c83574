// Quick fix "Set as secret" on the credential-looking-default warning: runs the Is Secret
// flow (asks, marks the setting secret, removes the default, reminds to rotate).
import * as vscode from 'vscode';
import { COMMANDS, DIAGNOSTIC_CODES, DIAGNOSTIC_SOURCE } from '../constants';
import type { DefinitionsModel } from '../definitions/definitionsModel';
import { spanOfPath } from '../definitions/definitionsText';

export class SetAsSecretQuickFix implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];

  constructor(private readonly model: DefinitionsModel) {}

  provideCodeActions(document: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const entry = this.model.entryForFile(document.uri);
    const parsed = entry?.parsed;
    if (!entry || !parsed) return [];
    const actions: vscode.CodeAction[] = [];
    for (const diagnostic of context.diagnostics) {
      if (diagnostic.source !== DIAGNOSTIC_SOURCE || diagnostic.code !== DIAGNOSTIC_CODES.credentialDefault) continue;
      // The warning sits on the default's value; find which setting that is.
      const offset = document.offsetAt(diagnostic.range.start);
      const warning = parsed.credentialWarnings.find((w) => {
        const span = spanOfPath(parsed.root, w.path);
        return offset >= span.offset && offset <= span.offset + span.length;
      });
      if (!warning) continue;
      const action = new vscode.CodeAction(vscode.l10n.t('Set "{0}" as secret', warning.name), vscode.CodeActionKind.QuickFix);
      action.diagnostics = [diagnostic];
      action.isPreferred = true;
      action.command = {
        command: COMMANDS.setSecret,
        title: vscode.l10n.t('Set as secret'),
        arguments: [{ folder: entry.folder.uri.toString(), name: warning.name, isSecret: true }],
      };
      actions.push(action);
    }
    return actions;
  }
}
