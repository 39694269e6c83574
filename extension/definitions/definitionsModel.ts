// The definitions file of each workspace folder (one app per folder), kept in step with the
// file: an open editor's text wins over the disk (so unsaved hand edits show at once), a file
// watcher catches changes made outside VS Code. Edits go through a WorkspaceEdit on the
// document, so an open editor's unsaved state is kept, and are then saved.
import * as path from 'node:path';
import * as vscode from 'vscode';
import { DEFAULT_DEFINITIONS_FILE } from '../../common/definitions';
import { CONFIG } from '../constants';
import { applyDefinitionsEdit, minimalEdit, parseDefinitionsText, type DefinitionsEdit, type ParsedDefinitions } from './definitionsText';

export interface AppEntry {
  readonly folder: vscode.WorkspaceFolder;
  /** The definitions file (it may not exist). */
  readonly uri: vscode.Uri;
  /** The file name relative to the folder, for messages. */
  readonly relativePath: string;
  /** undefined when the file does not exist. */
  readonly parsed: ParsedDefinitions | undefined;
}

/** The configured definitions file of a folder, relative to it. */
export function definitionsFileSetting(folder: vscode.WorkspaceFolder): string {
  const configured = vscode.workspace.getConfiguration(CONFIG.section, folder.uri).get<string>(CONFIG.definitionsFile)?.trim();
  if (!configured) return DEFAULT_DEFINITIONS_FILE;
  const normal = path.posix.normalize(configured.replace(/\\/g, '/'));
  // The file belongs to the folder: an absolute path or one that climbs out is not honoured.
  if (path.posix.isAbsolute(normal) || normal.startsWith('../') || normal === '..') return DEFAULT_DEFINITIONS_FILE;
  return normal;
}

export class DefinitionsModel implements vscode.Disposable {
  private entries = new Map<string, AppEntry>();
  private watchers: vscode.Disposable[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  private readonly changed = new vscode.EventEmitter<AppEntry | undefined>();
  private generation = new Map<string, number>();

  /** Fires with the entry that changed, or undefined when the set of apps changed. */
  readonly onDidChange = this.changed.event;

  constructor(private readonly log: vscode.LogOutputChannel) {
    this.disposables.push(
      this.changed,
      vscode.workspace.onDidChangeWorkspaceFolders(() => void this.rebuild()),
      vscode.workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${CONFIG.section}.${CONFIG.definitionsFile}`)) void this.rebuild();
      }),
      // Also on a change with no content changes: that is the dirty flag flipping (it can arrive
      // after the text change), which decides whether the editor's text or the disk's counts.
      vscode.workspace.onDidChangeTextDocument((e) => this.reloadIfDefinitions(e.document.uri)),
      vscode.workspace.onDidOpenTextDocument((d) => this.reloadIfDefinitions(d.uri)),
      // Closing an editor with unsaved changes reverts to the disk's text.
      vscode.workspace.onDidCloseTextDocument((d) => this.reloadIfDefinitions(d.uri)),
    );
  }

  /** Reads every folder's file; call once after construction. */
  async initialize(): Promise<void> {
    await this.rebuild();
  }

  /** The apps whose definitions file exists, in workspace folder order. */
  apps(): AppEntry[] {
    return [...this.entries.values()].filter((e) => e.parsed !== undefined).sort((a, b) => a.folder.index - b.folder.index);
  }

  /** Every folder's entry, with or without a file. */
  all(): AppEntry[] {
    return [...this.entries.values()].sort((a, b) => a.folder.index - b.folder.index);
  }

  /** The entry for a folder given as a Uri, its string form or an fsPath. */
  entryFor(folder: vscode.Uri | string): AppEntry | undefined {
    const wanted = typeof folder === 'string' ? folder : folder.toString();
    return this.all().find((e) => e.folder.uri.toString() === wanted || e.folder.uri.fsPath === wanted || e.folder.name === wanted);
  }

  /** The entry whose definitions file is `uri`. */
  entryForFile(uri: vscode.Uri): AppEntry | undefined {
    const s = uri.toString();
    return this.all().find((e) => e.uri.toString() === s);
  }

  private async rebuild(): Promise<void> {
    for (const w of this.watchers) w.dispose();
    this.watchers = [];
    const next = new Map<string, AppEntry>();
    for (const folder of vscode.workspace.workspaceFolders ?? []) {
      const relativePath = definitionsFileSetting(folder);
      const uri = vscode.Uri.joinPath(folder.uri, relativePath);
      next.set(folder.uri.toString(), { folder, uri, relativePath, parsed: undefined });
      const watcher = vscode.workspace.createFileSystemWatcher(new vscode.RelativePattern(folder, relativePath));
      const reload = () => void this.reload(folder.uri.toString());
      watcher.onDidCreate(reload);
      watcher.onDidChange(reload);
      watcher.onDidDelete(reload);
      this.watchers.push(watcher);
    }
    this.entries = next;
    await Promise.all([...next.keys()].map((k) => this.reload(k, false)));
    this.changed.fire(undefined);
  }

  private reloadIfDefinitions(uri: vscode.Uri): void {
    const entry = this.entryForFile(uri);
    if (entry) void this.reload(entry.folder.uri.toString());
  }

  /** Re-reads one folder's file (open document first, else disk) and fires onDidChange if it changed. */
  async reload(folderKey: string, fire = true): Promise<AppEntry | undefined> {
    const entry = this.entries.get(folderKey);
    if (!entry) return undefined;
    const gen = (this.generation.get(folderKey) ?? 0) + 1;
    this.generation.set(folderKey, gen);
    const text = await this.readText(entry.uri);
    // A newer reload started meanwhile; its result wins.
    if (this.generation.get(folderKey) !== gen || this.entries.get(folderKey) !== entry) return this.entries.get(folderKey);
    if (text === entry.parsed?.text) return entry;
    const updated: AppEntry = { ...entry, parsed: text === undefined ? undefined : parseDefinitionsText(text) };
    this.entries.set(folderKey, updated);
    if (fire) this.changed.fire(updated);
    return updated;
  }

  private async readText(uri: vscode.Uri): Promise<string | undefined> {
    // An editor's unsaved text is what the user sees; a saved document equals the disk, which
    // also tells us when the file was deleted while a stale document lingers.
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString() && !d.isClosed);
    if (open?.isDirty) return open.getText();
    return this.readDisk(uri);
  }

  private async readDisk(uri: vscode.Uri): Promise<string | undefined> {
    try {
      return new TextDecoder().decode(await vscode.workspace.fs.readFile(uri));
    } catch (err) {
      if (err instanceof vscode.FileSystemError && err.code === 'FileNotFound') return undefined;
      if ((err as { code?: string }).code === 'FileNotFound' || (err as { code?: string }).code === 'ENOENT') return undefined;
      this.log.warn(`could not read ${uri.fsPath}: ${(err as Error).message}`);
      return undefined;
    }
  }

  /**
   * Applies an edit to the app's definitions file through a WorkspaceEdit on its document and
   * saves it, unless the document already had unsaved changes (then the user's editor keeps
   * them, with ours on top, unsaved). Returns the updated entry.
   */
  async edit(entry: AppEntry, edit: DefinitionsEdit): Promise<AppEntry> {
    const doc = await vscode.workspace.openTextDocument(entry.uri);
    const wasDirty = doc.isDirty;
    if (!wasDirty) {
      // A saved document that has not caught up with a change on disk yet (a tool or `git
      // checkout` just wrote the file): edit the disk's text, VS Code then reloads the document.
      const disk = await this.readDisk(entry.uri);
      if (disk !== undefined && disk !== doc.getText()) {
        const next = applyDefinitionsEdit(disk, edit);
        if (next !== disk) await vscode.workspace.fs.writeFile(entry.uri, new TextEncoder().encode(next));
        return (await this.reload(entry.folder.uri.toString())) ?? entry;
      }
    }
    const before = doc.getText();
    const after = applyDefinitionsEdit(before, edit);
    const change = minimalEdit(before, after);
    if (change) {
      const we = new vscode.WorkspaceEdit();
      we.replace(doc.uri, new vscode.Range(doc.positionAt(change.offset), doc.positionAt(change.offset + change.length)), change.content);
      if (!(await vscode.workspace.applyEdit(we))) throw new Error(`VS Code refused the edit to ${entry.relativePath}; is the file read-only?`);
      if (!wasDirty && !(await doc.save())) throw new Error(`could not save ${entry.relativePath}`);
    }
    return (await this.reload(entry.folder.uri.toString())) ?? entry;
  }

  /** Writes a new definitions file (refuses to overwrite one). */
  async create(entry: AppEntry, text: string): Promise<AppEntry> {
    if ((await this.readText(entry.uri)) !== undefined) throw new Error(`${entry.relativePath} already exists in ${entry.folder.name}`);
    await vscode.workspace.fs.writeFile(entry.uri, new TextEncoder().encode(text));
    return (await this.reload(entry.folder.uri.toString())) ?? entry;
  }

  dispose(): void {
    for (const w of this.watchers) w.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
