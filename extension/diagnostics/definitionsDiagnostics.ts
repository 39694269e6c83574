// The Problems panel for every definitions file: JSON syntax errors, shape problems and every
// §2 rule, each at the offending value (JSON paths mapped to ranges with jsonc-parser), plus a
// warning for a non-secret default that looks like a credential. Messages never echo a value.
import * as vscode from 'vscode';
import { DIAGNOSTIC_CODES, DIAGNOSTIC_SOURCE } from '../constants';
import type { AppEntry, DefinitionsModel } from '../definitions/definitionsModel';
import { spanOfPath, type ParsedDefinitions, type TextSpan } from '../definitions/definitionsText';

/** Offsets to positions over the parsed text (the document may not be open). */
function lineIndex(text: string): (span: TextSpan) => vscode.Range {
  const starts = [0];
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) starts.push(i + 1);
  const pos = (offset: number) => {
    const o = Math.max(0, Math.min(offset, text.length));
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= o) lo = mid;
      else hi = mid - 1;
    }
    return new vscode.Position(lo, o - starts[lo]!);
  };
  return (span) => new vscode.Range(pos(span.offset), pos(span.offset + span.length));
}

export function definitionsDiagnostics(parsed: ParsedDefinitions): vscode.Diagnostic[] {
  const out: vscode.Diagnostic[] = [];
  const rangeOf = lineIndex(parsed.text);
  const add = (span: TextSpan, message: string, severity: vscode.DiagnosticSeverity, code: string) => {
    const d = new vscode.Diagnostic(rangeOf(span), message, severity);
    d.source = DIAGNOSTIC_SOURCE;
    d.code = code;
    out.push(d);
  };
  for (const e of parsed.syntaxErrors) add(e, e.message, vscode.DiagnosticSeverity.Error, DIAGNOSTIC_CODES.syntax);
  for (const p of parsed.problems) {
    const where = p.path.length ? `${p.path.join('.')}: ` : '';
    add(spanOfPath(parsed.root, p.path, p.message), `${where}${p.message}`, vscode.DiagnosticSeverity.Error, p.kind === 'shape' ? DIAGNOSTIC_CODES.shape : DIAGNOSTIC_CODES.rule);
  }
  for (const w of parsed.credentialWarnings) {
    add(
      spanOfPath(parsed.root, w.path),
      vscode.l10n.t(
        'The default value of "{0}" looks like {1}. A credential must not live in the definitions file: mark the setting secret (Quick Fix: Set as secret) and rotate the value, since it stays in version-control history.',
        w.name,
        w.hint.kind,
      ),
      vscode.DiagnosticSeverity.Warning,
      DIAGNOSTIC_CODES.credentialDefault,
    );
  }
  return out;
}

/** Keeps a DiagnosticCollection in step with the model. */
export class DefinitionsDiagnostics implements vscode.Disposable {
  private readonly collection = vscode.languages.createDiagnosticCollection('odcSettings');
  private readonly subscription: vscode.Disposable;

  constructor(private readonly model: DefinitionsModel) {
    this.subscription = model.onDidChange((entry) => (entry ? this.update(entry) : this.updateAll()));
    this.updateAll();
  }

  private updateAll(): void {
    this.collection.clear();
    for (const entry of this.model.all()) this.update(entry);
  }

  private update(entry: AppEntry): void {
    if (entry.parsed) this.collection.set(entry.uri, definitionsDiagnostics(entry.parsed));
    else this.collection.delete(entry.uri);
  }

  dispose(): void {
    this.subscription.dispose();
    this.collection.dispose();
  }
}
