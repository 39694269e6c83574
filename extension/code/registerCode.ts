// Registers the code intelligence (SPEC §15, §16): providers for JavaScript/TypeScript and Python
// documents and three commands. Registration is cheap; nothing is parsed until a document asks.
import * as vscode from 'vscode';
import type { Deps } from '../commands/deps';
import { errorMessage } from '../commands/register';
import { CodeIndex, CODE_SELECTOR } from './codeIndex';
import { CODE_COMMANDS, CodeDiagnostics, CodeQuickFixes } from './codeDiagnostics';
import { findReferencesCommand, importDotenvCommand, moveToSecretCommand } from './codeCommands';
import { SettingCompletionProvider, SettingDefinitionProvider, SettingHoverProvider } from './providers';
import { StageStatusCache } from './stageStatus';

export function registerCodeIntelligence(subs: vscode.Disposable[], deps: Pick<Deps, 'model' | 'log' | 'session' | 'confirm' | 'refreshTree'>, ready: Promise<void>): { completion: vscode.CompletionItemProvider; hover: vscode.HoverProvider } {
  const index = new CodeIndex(deps.model, deps.log);
  const stages = new StageStatusCache(deps.session, deps.log);
  const definitions = new SettingDefinitionProvider(index);
  const completion = new SettingCompletionProvider(index);
  const hover = new SettingHoverProvider(index, stages);
  subs.push(
    index,
    stages,
    new CodeDiagnostics(index),
    // Triggered by "." (process.env.) and by quotes (os.environ[", os.getenv(').
    vscode.languages.registerCompletionItemProvider(CODE_SELECTOR, completion, '.', '"', "'"),
    vscode.languages.registerHoverProvider(CODE_SELECTOR, hover),
    vscode.languages.registerDefinitionProvider(CODE_SELECTOR, definitions),
    vscode.languages.registerReferenceProvider(CODE_SELECTOR, definitions),
    vscode.languages.registerCodeActionsProvider(CODE_SELECTOR, new CodeQuickFixes(index), { providedCodeActionKinds: CodeQuickFixes.kinds }),
  );
  const codeDeps = { ...deps, index };
  const commands: Record<string, (arg?: unknown) => Promise<unknown>> = {
    [CODE_COMMANDS.moveToSecret]: moveToSecretCommand(codeDeps),
    [CODE_COMMANDS.findReferences]: findReferencesCommand(codeDeps),
    [CODE_COMMANDS.importDotenv]: importDotenvCommand(codeDeps),
  };
  for (const [id, handler] of Object.entries(commands)) {
    subs.push(
      vscode.commands.registerCommand(id, async (arg?: unknown) => {
        await ready;
        try {
          return await handler(arg);
        } catch (err) {
          const message = errorMessage(err);
          deps.log.error(`${id}: ${message}`);
          void vscode.window.showErrorMessage(message.charAt(0).toUpperCase() + message.slice(1));
          return undefined;
        }
      }),
    );
  }
  return { completion, hover };
}
