// extensionTestsPath for scripts/run-vscode-tests.mjs (bundled by bench/code.ts): inside the REAL
// extension host, times our completion and hover on a 5,000-line TypeScript file in an app with
// 2,000 settings against VS Code's built-in JSON hover on the definitions file (same host, same
// run, interleaved rounds). Writes the samples as JSON to $ODC_BENCH_OUT.
import * as fs from 'node:fs';
import * as vscode from 'vscode';

const EXTENSION_ID = process.env.ODC_BENCH_EXTENSION_ID ?? 'odc-settings.odc-settings';

async function time(fn: () => Thenable<unknown> | Promise<unknown>): Promise<number> {
  const s = performance.now();
  await fn();
  return performance.now() - s;
}

export async function run(): Promise<void> {
  const out = process.env.ODC_BENCH_OUT;
  if (!out) throw new Error('ODC_BENCH_OUT is not set');
  const rounds = Number(process.env.ODC_BENCH_ROUNDS ?? 30);
  const result: Record<string, unknown> = { vscode: vscode.version };
  try {
    const ext = vscode.extensions.getExtension<{ ready: Promise<void>; codeProviders: { completion: vscode.CompletionItemProvider; hover: vscode.HoverProvider } } | undefined>(EXTENSION_ID);
    if (!ext) throw new Error(`extension ${EXTENSION_ID} is not loaded`);
    // The extension's test hooks exist in Test mode only (this runner starts VS Code so).
    const api = await ext.activate();
    if (!api) throw new Error('the extension returned no test hooks: not started in Test mode');
    await api.ready;
    const { completion: ownCompletionProvider, hover: ownHoverProvider } = api.codeProviders;
    const token = new vscode.CancellationTokenSource().token;
    const trigger: vscode.CompletionContext = { triggerKind: vscode.CompletionTriggerKind.TriggerCharacter, triggerCharacter: '.' };
    const folder = vscode.workspace.workspaceFolders![0]!.uri;
    const src = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder, 'src/big.ts'));
    const json = await vscode.workspace.openTextDocument(vscode.Uri.joinPath(folder, 'odc-app.json'));
    await vscode.window.showTextDocument(json);
    await vscode.window.showTextDocument(src);
    const text = src.getText();
    // Completion after the last `process.env.`; hover on a read in the middle of the file.
    const completionAt = src.positionAt(text.lastIndexOf('process.env.') + 'process.env.'.length);
    const hoverAt = src.positionAt(text.indexOf('process.env.SETTING_1000_NAME') + 'process.env.'.length + 3);
    // JSON hover on a setting's "type" value (the schema's description), in the middle of the file.
    const jtext = json.getText();
    const jsonAt = json.positionAt(jtext.indexOf('"type"', jtext.length >> 1) + 2);
    // Warm up all three (the JSON language server starts on first use).
    for (let i = 0; i < 5; i++) {
      await vscode.commands.executeCommand('vscode.executeCompletionItemProvider', src.uri, completionAt);
      await vscode.commands.executeCommand('vscode.executeHoverProvider', src.uri, hoverAt);
      await vscode.commands.executeCommand('vscode.executeHoverProvider', json.uri, jsonAt);
    }
    const hovers = (await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', json.uri, jsonAt)) ?? [];
    result.jsonHoverCount = hovers.length;
    // The bench leaves VS Code's TypeScript extension off, so only our hover answers in src/big.ts.
    result.typescriptActive = vscode.extensions.getExtension('vscode.typescript-language-features')?.isActive ?? false;
    result.hoverCount = ((await vscode.commands.executeCommand<vscode.Hover[]>('vscode.executeHoverProvider', src.uri, hoverAt)) ?? []).length;
    const completion: number[] = [];
    const hover: number[] = [];
    const ownCompletion: number[] = [];
    const ownHover: number[] = [];
    const jsonHover: number[] = [];
    // A fresh document version before each measure, as when typing: the file is scanned again.
    let spaced = false;
    const touch = async () => {
      const edit = new vscode.WorkspaceEdit();
      if (spaced) edit.delete(src.uri, new vscode.Range(0, 0, 0, 1));
      else edit.insert(src.uri, new vscode.Position(0, 0), ' ');
      spaced = !spaced;
      await vscode.workspace.applyEdit(edit);
    };
    for (let r = 0; r < rounds; r++) {
      jsonHover.push(await time(() => vscode.commands.executeCommand('vscode.executeHoverProvider', json.uri, jsonAt)));
      // Our providers alone, called in this host (what VS Code's TypeScript extension adds is not ours).
      await touch();
      ownCompletion.push(await time(async () => ownCompletionProvider.provideCompletionItems(src, completionAt, token, trigger)));
      await touch();
      ownHover.push(await time(async () => ownHoverProvider.provideHover(src, hoverAt, token)));
    }
    // For scale, after the measured rounds (tsserver's work on each edit would load the machine
    // while the baseline is timed): what the editor asks, every provider, TypeScript's included.
    for (let r = 0; r < rounds; r++) {
      await touch();
      completion.push(await time(() => vscode.commands.executeCommand('vscode.executeCompletionItemProvider', src.uri, completionAt)));
      await touch();
      hover.push(await time(() => vscode.commands.executeCommand('vscode.executeHoverProvider', src.uri, hoverAt)));
    }
    const list = await vscode.commands.executeCommand<vscode.CompletionList>('vscode.executeCompletionItemProvider', src.uri, completionAt);
    result.completionItems = list.items.length;
    Object.assign(result, { completion, hover, ownCompletion, ownHover, jsonHover, lines: src.lineCount });
    await vscode.commands.executeCommand('workbench.action.revertAndCloseActiveEditor');
  } catch (e) {
    result.error = (e as Error).stack ?? String(e);
  }
  fs.writeFileSync(out, JSON.stringify(result));
}
