// The extension activates in a real VS Code and registers every command it contributes.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { COMMANDS } from '../../extension/constants';
import { activateExtension, extensionRoot } from './support/workspace';

suite('extension: activation and commands', () => {
  test('every command in package.json contributes is registered, and every registered one is contributed', async () => {
    await activateExtension();
    const pkg = JSON.parse(fs.readFileSync(path.join(extensionRoot(), 'package.json'), 'utf8')) as { contributes: { commands: Array<{ command: string }> } };
    const contributed = pkg.contributes.commands.map((c) => c.command);
    const registered = new Set(await vscode.commands.getCommands(true));
    const missing = contributed.filter((c) => !registered.has(c));
    assert.deepEqual(missing, [], 'contributed but not registered');
    const ours = Object.values(COMMANDS);
    assert.deepEqual(ours.filter((c) => !contributed.includes(c)), [], 'registered in COMMANDS but not contributed');
    console.log(`    VS Code ${vscode.version}, ${contributed.length} contributed commands registered`);
  });

  test('runtime strings go through VS Code: the modules without the vscode API translate with vscode.l10n.t once activated', async () => {
    const api = await activateExtension();
    // Messages from the portal client, the definitions parser and the Stage Values host (issue 17 item 3).
    assert.equal(api.l10nBound(), true, 'activate() bound common/l10n.ts to vscode.l10n.t');
  });

  test('menus only name contributed commands', () => {
    const pkg = JSON.parse(fs.readFileSync(path.join(extensionRoot(), 'package.json'), 'utf8')) as {
      contributes: { commands: Array<{ command: string }>; menus: Record<string, Array<{ command: string }>>; viewsWelcome: Array<{ contents: string }> };
    };
    const contributed = new Set(pkg.contributes.commands.map((c) => c.command));
    for (const [menu, entries] of Object.entries(pkg.contributes.menus)) {
      for (const e of entries) assert.ok(contributed.has(e.command), `${menu} names ${e.command}`);
    }
    const linked = pkg.contributes.viewsWelcome.flatMap((w) => [...w.contents.matchAll(/\(command:(odcSettings\.[\w.]+)\)/g)].map((m) => m[1]!));
    for (const c of linked) assert.ok(contributed.has(c), `welcome view links ${c}`);
  });
});
