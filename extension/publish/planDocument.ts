// A publish plan as a read-only document (the modal shows at most ~15 deletions; "Show All"
// opens this). Served by a content provider, so VS Code cannot save or edit it. It lists names,
// stages and reasons only: a plan never holds a value.
import * as vscode from 'vscode';
import type { PublishPlan } from '../../common/api';

export const PLAN_SCHEME = 'odc-plan';

const texts = new Map<string, string>();
const changed = new vscode.EventEmitter<vscode.Uri>();

/** Registers the provider; the returned disposable goes into context.subscriptions. */
export function registerPlanDocuments(): vscode.Disposable {
  return vscode.Disposable.from(
    changed,
    vscode.workspace.registerTextDocumentContentProvider(PLAN_SCHEME, {
      onDidChange: changed.event,
      provideTextDocumentContent: (uri) => texts.get(uri.path) ?? vscode.l10n.t('This publish plan is no longer available; publish again to see the current one.') + '\n',
    }),
  );
}

export function planText(app: string, revision: number, plan: PublishPlan, deletionLines: string[]): string {
  const list = (title: string, lines: string[]) => (lines.length ? [vscode.l10n.t('{0} ({1}):', title, lines.length), ...lines.map((l) => `  - ${l}`), ''] : []);
  return [
    vscode.l10n.t('Publish plan for app "{0}" against revision {1}', app, revision),
    '',
    ...list(vscode.l10n.t('Stored values deleted'), deletionLines),
    ...list(vscode.l10n.t('Settings added'), plan.added),
    ...list(vscode.l10n.t('Settings removed'), plan.removed),
    ...list(vscode.l10n.t('Settings changed'), plan.changed.map((c) => `${c.name}: ${c.changes.join(', ')}`)),
  ].join('\n');
}

/** Opens the plan beside the modal's editor, read-only. */
export async function showPlan(app: string, text: string): Promise<vscode.TextDocument> {
  const uri = vscode.Uri.from({ scheme: PLAN_SCHEME, path: `/${app} publish plan.txt` });
  texts.set(uri.path, text);
  changed.fire(uri);
  const doc = await vscode.workspace.openTextDocument(uri);
  await vscode.window.showTextDocument(doc, { preview: true });
  return doc;
}
