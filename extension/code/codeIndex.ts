// What the code providers share: which documents are app code, each document's scan (parsed
// lazily, on first use, and cached per document version), each app's settings by environment
// variable (as `odc-portal run` maps them, with odcSettings.envPrefix), and the team's secret
// patterns (odcSettings.secretPatterns, validated when read; a bad one is reported once and skipped).
import * as vscode from 'vscode';
import { indexSettingsByEnv, type EnvSettingIndex } from '../../common/envNames';
import type { AppEntry, DefinitionsModel } from '../definitions/definitionsModel';
import type { LooseSetting } from '../definitions/definitionsText';
import { compileSecretPatterns } from './codeCredentials';
import { scanSource, type ScanResult, type SourceLanguage } from './scanner';

export const CODE_CONFIG = {
  envPrefix: 'envPrefix',
  secretPatterns: 'secretPatterns',
} as const;

const LANGUAGES: Record<string, SourceLanguage> = {
  javascript: 'js',
  javascriptreact: 'js',
  typescript: 'js',
  typescriptreact: 'js',
  python: 'py',
};

export const CODE_SELECTOR: vscode.DocumentSelector = Object.keys(LANGUAGES).flatMap((language) => [
  { scheme: 'file', language },
  { scheme: 'untitled', language },
]);

/** File extensions searched for references, by language. */
export const CODE_GLOB = '**/*.{js,jsx,mjs,cjs,ts,tsx,mts,cts,py}';
export const CODE_EXCLUDE = '**/{node_modules,.git,dist,build,out,.venv,venv,__pycache__,.vscode-test}/**';

export function languageOfPath(path: string): SourceLanguage | undefined {
  if (/\.py$/i.test(path)) return 'py';
  if (/\.(?:[cm]?[jt]sx?)$/i.test(path)) return 'js';
  return undefined;
}

export interface AppEnv {
  entry: AppEntry;
  prefix: string;
  index: EnvSettingIndex;
  settings: Map<string, LooseSetting>;
}

export class CodeIndex implements vscode.Disposable {
  private readonly scans = new Map<string, { version: number; result: ScanResult }>();
  private readonly appEnvs = new WeakMap<object, Map<string, AppEnv>>();
  private patterns: RegExp[] | undefined;
  private reportedPatternErrors = '';
  private readonly disposables: vscode.Disposable[] = [];
  private readonly changed = new vscode.EventEmitter<void>();
  /** Fires when the settings or the configuration that shape the answers changed. */
  readonly onDidChange = this.changed.event;

  constructor(
    readonly model: DefinitionsModel,
    private readonly log: vscode.LogOutputChannel,
  ) {
    this.disposables.push(
      this.changed,
      model.onDidChange(() => this.changed.fire()),
      vscode.workspace.onDidCloseTextDocument((d) => this.scans.delete(d.uri.toString())),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`odcSettings.${CODE_CONFIG.secretPatterns}`)) this.patterns = undefined;
        if (e.affectsConfiguration(`odcSettings.${CODE_CONFIG.secretPatterns}`) || e.affectsConfiguration(`odcSettings.${CODE_CONFIG.envPrefix}`)) this.changed.fire();
      }),
    );
  }

  language(doc: vscode.TextDocument): SourceLanguage | undefined {
    return LANGUAGES[doc.languageId];
  }

  scan(doc: vscode.TextDocument): ScanResult | undefined {
    const lang = this.language(doc);
    if (!lang) return undefined;
    const key = doc.uri.toString();
    const cached = this.scans.get(key);
    if (cached && cached.version === doc.version) return cached.result;
    const result = scanSource(doc.getText(), lang);
    this.scans.set(key, { version: doc.version, result });
    return result;
  }

  prefix(folder: vscode.WorkspaceFolder | undefined): string {
    return (vscode.workspace.getConfiguration('odcSettings', folder?.uri).get<string>(CODE_CONFIG.envPrefix) ?? '').trim();
  }

  /** The app whose folder holds `uri`, with its settings by variable; undefined outside an app. */
  appFor(uri: vscode.Uri): AppEnv | undefined {
    const folder = vscode.workspace.getWorkspaceFolder(uri);
    if (!folder) return undefined;
    const entry = this.model.entryFor(folder.uri);
    return entry ? this.appEnv(entry) : undefined;
  }

  appEnv(entry: AppEntry): AppEnv | undefined {
    const parsed = entry.parsed;
    if (!parsed) return undefined;
    const prefix = this.prefix(entry.folder);
    let byPrefix = this.appEnvs.get(parsed);
    if (!byPrefix) this.appEnvs.set(parsed, (byPrefix = new Map()));
    let env = byPrefix.get(prefix);
    if (!env) {
      env = {
        entry,
        prefix,
        index: indexSettingsByEnv(
          parsed.settings.map((s) => s.name),
          prefix,
        ),
        settings: new Map(parsed.settings.map((s) => [s.name, s])),
      };
      byPrefix.set(prefix, env);
    }
    return env;
  }

  /** The one setting a variable maps to (undefined when none, or when two clash). */
  settingOf(env: AppEnv, variable: string): LooseSetting | undefined {
    const names = env.index.byVariable.get(variable);
    return names?.length === 1 ? env.settings.get(names[0]!) : undefined;
  }

  /** odcSettings.secretPatterns, compiled; invalid entries are skipped and reported once. */
  teamPatterns(): RegExp[] {
    if (this.patterns) return this.patterns;
    const { patterns, errors } = compileSecretPatterns(vscode.workspace.getConfiguration('odcSettings').get<unknown>(CODE_CONFIG.secretPatterns));
    const report = errors.join('\n');
    if (report && report !== this.reportedPatternErrors) {
      this.log.warn(report);
      void vscode.window.showWarningMessage(
        errors.length > 1 ? vscode.l10n.t('{0} (and {1} more). It is ignored until fixed.', errors[0]!, errors.length - 1) : vscode.l10n.t('{0}. It is ignored until fixed.', errors[0]!),
      );
    }
    this.reportedPatternErrors = report;
    this.patterns = patterns;
    return patterns;
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

/** Line and column of offsets in a text that is not open as a document (line starts computed once). */
export function positionsIn(text: string): (offset: number) => vscode.Position {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  return (offset) => {
    let lo = 0;
    let hi = starts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (starts[mid]! <= offset) lo = mid;
      else hi = mid - 1;
    }
    return new vscode.Position(lo, offset - starts[lo]!);
  };
}

export function positionIn(text: string, offset: number): vscode.Position {
  return positionsIn(text)(offset);
}
