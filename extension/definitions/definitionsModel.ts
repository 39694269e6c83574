// The definitions file of each workspace folder (one app per folder), kept in step with the
// file: an open editor's text wins over the disk (so unsaved hand edits show at once), a file
// watcher catches changes made outside VS Code. Edits keep an open editor's unsaved state
// (see edit()).
import * as path from 'node:path';
import * as vscode from 'vscode';
import { DEFAULT_DEFINITIONS_FILE } from '../../common/definitions';
import { CONFIG } from '../constants';
import { applyDefinitionsEdit, minimalEdit, parseDefinitionsText, type DefinitionsEdit, type ParsedDefinitions } from './definitionsText';

/** What Edit > Undo names for each kind of edit. */
const editLabels = (): Record<DefinitionsEdit['op'], string> => ({
  add: vscode.l10n.t('Add Setting'),
  rename: vscode.l10n.t('Rename Setting'),
  setDescription: vscode.l10n.t('Edit Description'),
  setType: vscode.l10n.t('Change Type'),
  setDefault: vscode.l10n.t('Edit Default Value'),
  setSecret: vscode.l10n.t('Toggle Is Secret'),
  delete: vscode.l10n.t('Delete Setting'),
});

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
  private readonly generation = new Map<string, number>();
  private readonly pending = new Map<string, Promise<AppEntry | undefined>>();
  private readonly writes = new Map<string, Promise<void>>();

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
  reload(folderKey: string, fire = true): Promise<AppEntry | undefined> {
    const gen = (this.generation.get(folderKey) ?? 0) + 1;
    this.generation.set(folderKey, gen);
    const result = this.doReload(folderKey, gen, fire);
    this.pending.set(folderKey, result);
    return result;
  }

  private async doReload(folderKey: string, gen: number, fire: boolean): Promise<AppEntry | undefined> {
    // Never read while our own write is in flight: a half-written file would flash as invalid.
    await this.writes.get(folderKey);
    const entry = this.entries.get(folderKey);
    if (!entry) return undefined;
    const text = await this.readText(entry.uri);
    // A newer reload started meanwhile: its result is the answer, for this caller too.
    if (this.generation.get(folderKey) !== gen) return this.pending.get(folderKey);
    const current = this.entries.get(folderKey);
    if (!current || current.uri.toString() !== entry.uri.toString()) return current;
    if (text === current.parsed?.text) return current;
    const updated: AppEntry = { ...current, parsed: text === undefined ? undefined : parseDefinitionsText(text) };
    this.entries.set(folderKey, updated);
    if (fire) this.changed.fire(updated);
    return updated;
  }

  /** Runs `write` after the folder's earlier writes; reloads wait for it to finish. */
  private async serialize(folderKey: string, write: () => Promise<void>): Promise<void> {
    const prior = this.writes.get(folderKey) ?? Promise.resolve();
    const run = prior.then(write);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    this.writes.set(folderKey, settled);
    try {
      await run;
    } finally {
      if (this.writes.get(folderKey) === settled) this.writes.delete(folderKey);
    }
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
   * Applies an edit to the app's definitions file without ever losing an unsaved edit, and so
   * that Ctrl+Z in the file's editor undoes it, whether or not the file was open: the change
   * always goes through a WorkspaceEdit on the file's document (VS Code opens it in the
   * background when no editor shows it, and keeps its undo stack for when one does), on top of
   * any unsaved text, and is then saved (a secret's removed default must leave the disk, not
   * linger in an unsaved buffer; if VS Code cannot save, the edit stays in the editor and we
   * say so). Only the changed part of the text differs; other fields, order and formatting
   * are kept.
   */
  async edit(entry: AppEntry, edit: DefinitionsEdit): Promise<AppEntry> {
    const key = entry.folder.uri.toString();
    await this.serialize(key, () => this.write(entry, edit));
    return (await this.reload(key)) ?? entry;
  }

  private async write(entry: AppEntry, edit: DefinitionsEdit): Promise<void> {
    if ((await this.readDisk(entry.uri)) === undefined && !this.openDocument(entry.uri)?.isDirty) {
      throw new Error(vscode.l10n.t('{0} no longer exists in {1}', entry.relativePath, entry.folder.name));
    }
    const doc = this.openDocument(entry.uri) ?? (await vscode.workspace.openTextDocument(entry.uri));
    if (!doc.isDirty) await this.catchUpWithDisk(doc);
    const before = doc.getText();
    const change = minimalEdit(before, applyDefinitionsEdit(before, edit));
    if (!change) return;
    const we = new vscode.WorkspaceEdit();
    we.replace(doc.uri, new vscode.Range(doc.positionAt(change.offset), doc.positionAt(change.offset + change.length)), change.content, {
      label: editLabels()[edit.op],
      needsConfirmation: false,
    });
    if (!(await vscode.workspace.applyEdit(we))) throw new Error(vscode.l10n.t('VS Code refused the edit to {0}; is the file read-only?', entry.relativePath));
    if (!(await doc.save())) {
      throw new Error(vscode.l10n.t('the change is in the editor of {0} but could not be saved (did the file change on disk?); save it yourself', entry.relativePath));
    }
  }

  private openDocument(uri: vscode.Uri): vscode.TextDocument | undefined {
    return vscode.workspace.textDocuments.find((d) => d.uri.toString() === uri.toString() && !d.isClosed);
  }

  /**
   * A saved document that has not caught up with a change on disk yet (VS Code reloads it a
   * moment later): wait for it, so the edit applies to the disk's text and not to a stale one.
   */
  private async catchUpWithDisk(doc: vscode.TextDocument): Promise<void> {
    for (let i = 0; i < 40; i++) {
      const disk = await this.readDisk(doc.uri);
      if (disk === undefined || doc.isDirty || doc.getText() === disk) return;
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(vscode.l10n.t('{0} changed on disk and VS Code has not reloaded it yet; try again', vscode.workspace.asRelativePath(doc.uri)));
  }

  /** Writes a new definitions file (refuses to overwrite one). */
  async create(entry: AppEntry, text: string): Promise<AppEntry> {
    const key = entry.folder.uri.toString();
    await this.serialize(key, async () => {
      if ((await this.readText(entry.uri)) !== undefined) throw new Error(vscode.l10n.t('{0} already exists in {1}', entry.relativePath, entry.folder.name));
      await vscode.workspace.fs.writeFile(entry.uri, new TextEncoder().encode(text));
    });
    return (await this.reload(key)) ?? entry;
  }

  dispose(): void {
    for (const w of this.watchers) w.dispose();
    for (const d of this.disposables) d.dispose();
  }
}
