// Warnings in app code (SPEC §15): a read of a variable no setting defines (with the app's prefix,
// or with no prefix a near miss of a defined one: same letters, other case or underscores), and a
// hard-coded credential in a string literal. Open documents only, re-checked shortly after typing
// stops. The quick fixes: "Add setting …" (the type is asked), "Use …" for a near miss, and
// "Move to a secret setting". Messages name kinds and variables, never a literal's value.
import * as vscode from 'vscode';
import { looseEnvKey, settingNameForEnv, WELL_KNOWN_ENV } from '../../common/envNames';
import { COMMANDS, DIAGNOSTIC_SOURCE } from '../constants';
import type { CodeIndex } from './codeIndex';
import { findCredentials } from './codeCredentials';

export const CODE_DIAGNOSTIC_CODES = {
  undefinedSetting: 'undefined-setting',
  hardcodedCredential: 'hardcoded-credential',
} as const;

export const CODE_COMMANDS = {
  moveToSecret: 'odcSettings.moveToSecretSetting',
  findReferences: 'odcSettings.findSettingReferences',
  importDotenv: 'odcSettings.importDotenv',
} as const;

const DEBOUNCE_MS = 300;

export interface UndefinedRead {
  variable: string;
  /** A defined variable this one differs from only in case or underscores. */
  nearMiss?: string;
}

/** Why a read is flagged, or undefined when it is fine (a setting's, or an unrelated variable). */
export function undefinedRead(index: CodeIndex, env: NonNullable<ReturnType<CodeIndex['appFor']>>, variable: string): UndefinedRead | undefined {
  if (env.index.byVariable.has(variable) || WELL_KNOWN_ENV.has(variable)) return undefined;
  const near = env.index.byLooseKey.get(looseEnvKey(variable))?.[0];
  if (near) return { variable, nearMiss: near };
  if (env.prefix && variable.startsWith(env.prefix) && variable.length > env.prefix.length) return { variable };
  return undefined;
}

export class CodeDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('odc-settings-code');
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();
  private readonly disposables: vscode.Disposable[] = [];

  constructor(private readonly index: CodeIndex) {
    this.disposables.push(
      this.collection,
      vscode.workspace.onDidOpenTextDocument((d) => this.schedule(d, 0)),
      vscode.workspace.onDidChangeTextDocument((e) => this.schedule(e.document, DEBOUNCE_MS)),
      vscode.workspace.onDidCloseTextDocument((d) => {
        this.collection.delete(d.uri);
        this.cancel(d.uri.toString());
      }),
      index.onDidChange(() => this.refreshAll()),
    );
    // Documents already open at activation are checked after it, not during it.
    setTimeout(() => this.refreshAll(), 0);
  }

  private cancel(key: string): void {
    const t = this.timers.get(key);
    if (t) clearTimeout(t);
    this.timers.delete(key);
  }

  private schedule(doc: vscode.TextDocument, delay: number): void {
    if (!this.index.language(doc)) return;
    const key = doc.uri.toString();
    this.cancel(key);
    this.timers.set(
      key,
      setTimeout(() => {
        this.timers.delete(key);
        if (!doc.isClosed) this.update(doc);
      }, delay),
    );
  }

  refreshAll(): void {
    for (const doc of vscode.workspace.textDocuments) if (this.index.language(doc)) this.schedule(doc, 0);
  }

  update(doc: vscode.TextDocument): void {
    const scan = this.index.scan(doc);
    const env = this.index.appFor(doc.uri);
    if (!scan || !env) {
      this.collection.delete(doc.uri);
      return;
    }
    const out: vscode.Diagnostic[] = [];
    for (const read of scan.reads) {
      const problem = undefinedRead(this.index, env, read.variable);
      if (!problem) continue;
      const message = problem.nearMiss
        ? vscode.l10n.t("{0} is not a setting's variable; did you mean {1}? ({2})", read.variable, problem.nearMiss, env.entry.relativePath)
        : vscode.l10n.t("No setting of {0} maps to {1} (variables with the prefix {2} are the app's settings)", env.entry.parsed?.app.name ?? env.entry.folder.name, read.variable, env.prefix);
      const d = new vscode.Diagnostic(new vscode.Range(doc.positionAt(read.start), doc.positionAt(read.end)), message, vscode.DiagnosticSeverity.Warning);
      d.source = DIAGNOSTIC_SOURCE;
      d.code = CODE_DIAGNOSTIC_CODES.undefinedSetting;
      out.push(d);
    }
    for (const finding of findCredentials(scan.strings, this.index.teamPatterns())) {
      const range = new vscode.Range(doc.positionAt(finding.literal.start), doc.positionAt(finding.literal.end));
      const d = new vscode.Diagnostic(range, vscode.l10n.t('Hard-coded credential: this string looks like {0}. Move it to a secret setting.', finding.kind), vscode.DiagnosticSeverity.Warning);
      d.source = DIAGNOSTIC_SOURCE;
      d.code = CODE_DIAGNOSTIC_CODES.hardcodedCredential;
      out.push(d);
    }
    this.collection.set(doc.uri, out);
  }

  dispose(): void {
    for (const t of this.timers.values()) clearTimeout(t);
    for (const d of this.disposables) d.dispose();
  }
}

export class CodeQuickFixes implements vscode.CodeActionProvider {
  static readonly kinds = [vscode.CodeActionKind.QuickFix];

  constructor(private readonly index: CodeIndex) {}

  provideCodeActions(doc: vscode.TextDocument, _range: vscode.Range, context: vscode.CodeActionContext): vscode.CodeAction[] {
    const ours = context.diagnostics.filter((d) => d.source === DIAGNOSTIC_SOURCE && (d.code === CODE_DIAGNOSTIC_CODES.undefinedSetting || d.code === CODE_DIAGNOSTIC_CODES.hardcodedCredential));
    if (ours.length === 0) return [];
    const scan = this.index.scan(doc);
    const env = this.index.appFor(doc.uri);
    if (!scan || !env) return [];
    const folder = env.entry.folder.uri.toString();
    const actions: vscode.CodeAction[] = [];
    for (const diagnostic of ours) {
      const offset = doc.offsetAt(diagnostic.range.start);
      if (diagnostic.code === CODE_DIAGNOSTIC_CODES.undefinedSetting) {
        const read = scan.reads.find((r) => r.start === offset);
        const problem = read && undefinedRead(this.index, env, read.variable);
        if (!read || !problem) continue;
        if (problem.nearMiss) {
          const use = new vscode.CodeAction(vscode.l10n.t('Use {0}', problem.nearMiss), vscode.CodeActionKind.QuickFix);
          use.edit = new vscode.WorkspaceEdit();
          use.edit.replace(doc.uri, diagnostic.range, problem.nearMiss);
          use.diagnostics = [diagnostic];
          use.isPreferred = true;
          actions.push(use);
        }
        const bare = env.prefix && read.variable.startsWith(env.prefix) ? read.variable.slice(env.prefix.length) : read.variable;
        const name = settingNameForEnv(bare);
        const add = new vscode.CodeAction(vscode.l10n.t('Add setting "{0}"…', name), vscode.CodeActionKind.QuickFix);
        add.command = { command: COMMANDS.addSetting, title: vscode.l10n.t('Add setting'), arguments: [{ folder, name }] };
        add.diagnostics = [diagnostic];
        actions.push(add);
      } else {
        const literal = scan.strings.find((s) => s.start === offset);
        if (!literal) continue;
        const move = new vscode.CodeAction(vscode.l10n.t('Move to a secret setting'), vscode.CodeActionKind.QuickFix);
        move.command = { command: CODE_COMMANDS.moveToSecret, title: vscode.l10n.t('Move to a secret setting'), arguments: [{ uri: doc.uri.toString(), offset, version: doc.version }] };
        move.diagnostics = [diagnostic];
        move.isPreferred = true;
        actions.push(move);
      }
    }
    return actions;
  }
}
