// Publish App (SPEC §3): validate the file (problems go to the Problems panel, nothing is
// sent), ask the portal for the plan (dry run), and when the plan deletes stored values list
// each setting, stage and reason in a modal that only an explicit "yes" gets past; then publish
// against the planned revision under a progress notification. The file is never modified.
import * as vscode from 'vscode';
import type { DeletionReason, PublishPlan } from '../../common/api';
import type { AppDefinitions } from '../../common/definitions';
import { isPublishable } from '../definitions/definitionsText';
import { planText, showPlan } from '../publish/planDocument';
import { describeFailure, type Failure, type FailureKind } from '../publish/portalFailures';
import { COMMANDS } from '../constants';
import { OPEN_STAGE_VALUES_COMMAND } from '../webviews/stageValuesPanel';
import type { Deps } from './deps';
import { parseArgs, resolveApp, targetArgsSchema } from './targets';

export type PublishOutcome =
  | { status: 'invalid'; problems: string[] }
  | { status: 'up-to-date'; revision: number }
  | { status: 'published'; revision: number; plan: PublishPlan; newSecrets: string[] }
  | { status: 'cancelled'; revision: number; deletions: string[] }
  | { status: 'failed'; kind: FailureKind; httpStatus?: number; message: string };

function reasonText(reason: DeletionReason): string {
  switch (reason) {
    case 'removed':
      return vscode.l10n.t('the setting is removed');
    case 'secret-to-non-secret':
      return vscode.l10n.t('no longer secret');
    case 'non-secret-to-secret':
      return vscode.l10n.t('now secret (its plain-text value goes)');
    case 'invalid-for-type':
      return vscode.l10n.t('not valid for the new type');
  }
}

/** At most this many lines of deletions in the modal; the rest are behind "Show All". */
export const MODAL_LINES = 15;

export function summarizePlan(plan: PublishPlan): string {
  const parts = [
    plan.added.length && vscode.l10n.t('{0} added', plan.added.length),
    plan.changed.length && vscode.l10n.t('{0} changed', plan.changed.length),
    plan.removed.length && vscode.l10n.t('{0} removed', plan.removed.length),
    plan.deletions.length && (plan.deletions.length > 1 ? vscode.l10n.t('{0} stored values deleted', plan.deletions.length) : vscode.l10n.t('{0} stored value deleted', plan.deletions.length)),
  ].filter(Boolean);
  return parts.length ? parts.join(', ') : vscode.l10n.t('no setting changes');
}

/**
 * The secrets a publish created: added as secrets, or turned into secrets. Neither has a value
 * in any stage yet, so Publish App offers to set them.
 */
export function newSecretsOf(doc: Pick<AppDefinitions, 'settings'>, plan: PublishPlan): string[] {
  const secret = new Set(doc.settings.filter((s) => s.isSecret === true).map((s) => s.name));
  const turned = plan.changed.filter((c) => c.changes.includes('isSecret')).map((c) => c.name);
  return [...plan.added, ...turned].filter((name) => secret.has(name));
}

export function publishAppCommand(deps: Pick<Deps, 'model' | 'session' | 'confirm' | 'log' | 'refreshStatus' | 'onPublished'>) {
  const publish = async (arg?: unknown): Promise<PublishOutcome> => {
    parseArgs(targetArgsSchema, arg);
    let entry = await resolveApp(deps.model, arg);
    if (!entry) return { status: 'cancelled', revision: 0, deletions: [] };

    // Publish what the file says: save an open editor's unsaved changes first.
    const open = vscode.workspace.textDocuments.find((d) => d.uri.toString() === entry!.uri.toString());
    if (open?.isDirty) {
      if (!(await open.save())) throw new Error(vscode.l10n.t('could not save {0} before publishing', entry.relativePath));
      entry = (await deps.model.reload(entry.folder.uri.toString())) ?? entry;
    }
    const parsed = entry.parsed;
    if (!parsed || !isPublishable(parsed)) {
      const problems = parsed ? [...parsed.syntaxErrors.map((e) => e.message), ...parsed.problems.map((p) => `${p.path.join('.')}: ${p.message}`)] : [vscode.l10n.t('the file does not exist')];
      deps.log.warn(`publish ${entry.folder.name}/${entry.relativePath}: ${problems.length} problem(s), nothing sent`);
      void vscode.window
        .showErrorMessage(
          problems.length > 1
            ? vscode.l10n.t('{0} has {1} problems: fix them before publishing (see the Problems panel). Nothing was sent.', entry.relativePath, problems.length)
            : vscode.l10n.t('{0} has {1} problem: fix it before publishing (see the Problems panel). Nothing was sent.', entry.relativePath, problems.length),
          vscode.l10n.t('Show Problems'),
        )
        .then((c) => c && vscode.commands.executeCommand('workbench.actions.view.problems'));
      return { status: 'invalid', problems };
    }
    const doc = parsed.doc;
    const app = doc.app.key;
    let serverUrl = vscode.l10n.t('(not configured)');
    const retry = { command: COMMANDS.publishApp, args: [{ folder: entry.folder.uri.toString() }] };
    try {
      serverUrl = deps.session.serverUrl();
      const client = await deps.session.client();
      // One progress notification from the first request (dry run, stage names) to the write,
      // also while the confirmation is open; a second one would crowd out the outcome's toast.
      const run = await vscode.window.withProgress(
        { location: vscode.ProgressLocation.Notification, title: vscode.l10n.t('Publishing "{0}"', app), cancellable: false },
        async (progress) => {
          progress.report({ message: vscode.l10n.t('planning against {0}…', serverUrl) });
          const plan = await client.publish(app, { definitions: doc, dryRun: true });
          deps.log.info(`publish ${app}: planned against revision ${plan.revision}: ${plan.changed ? summarizePlan(plan.plan) : 'no changes'}`);
          if (!plan.changed) return { step: 'up-to-date' as const, plan };
          if (plan.plan.deletions.length > 0) {
            progress.report({ message: vscode.l10n.t('reading the stage names…') });
            const stageNames = new Map((await client.stages()).stages.map((s) => [s.key, s.name]));
            const items = plan.plan.deletions.map((d) => vscode.l10n.t('{0} in {1}: {2}', d.setting, stageNames.get(d.stage) ?? d.stage, reasonText(d.reason)));
            const shown = items.length > MODAL_LINES ? items.slice(0, MODAL_LINES - 1) : items;
            const more = items.length - shown.length;
            const renamed = plan.plan.removed.length > 0 && plan.plan.added.length > 0;
            progress.report({ message: vscode.l10n.t('waiting for your confirmation…') });
            const ok = await deps.confirm({
              kind: 'publish-deletions',
              message:
                items.length > 1
                  ? vscode.l10n.t('Publishing "{0}" deletes {1} stored values. Publish?', app, items.length)
                  : vscode.l10n.t('Publishing "{0}" deletes {1} stored value. Publish?', app, items.length),
              detail:
                `${shown.map((i) => `• ${i}`).join('\n')}${more > 0 ? '\n' + vscode.l10n.t('…and {0} more (Show All lists them)', more) : ''}\n\n` +
                (renamed ? vscode.l10n.t("A renamed setting is a removal plus an addition: the old name's values go in every stage, secrets included, and the new name starts empty.") + '\n\n' : '') +
                vscode.l10n.t('Deleted values cannot be recovered. Plan: {0}.', summarizePlan(plan.plan)),
              confirmLabel: vscode.l10n.t('Publish and Delete Values'),
              items,
              ...(more > 0 ? { more: { label: vscode.l10n.t('Show All'), run: () => showPlan(app, planText(app, plan.revision, plan.plan, items)) } } : {}),
            });
            if (!ok) return { step: 'cancelled' as const, plan, items };
          }
          progress.report({ message: vscode.l10n.t('writing revision {0} to {1}…', plan.revision + 1, serverUrl) });
          return { step: 'written' as const, plan, result: await client.publish(app, { definitions: doc, baseRevision: plan.revision }) };
        },
      );
      if (run.step === 'up-to-date') {
        void vscode.window.showInformationMessage(vscode.l10n.t('App "{0}" is already up to date at revision {1}; nothing to publish.', app, run.plan.revision));
        await deps.refreshStatus();
        return { status: 'up-to-date', revision: run.plan.revision };
      }
      if (run.step === 'cancelled') {
        deps.log.info(`publish ${app}: cancelled at the deletion confirmation; nothing changed`);
        void vscode.window.showInformationMessage(vscode.l10n.t('Publish of "{0}" cancelled; nothing changed in the portal.', app));
        return { status: 'cancelled', revision: run.plan.revision, deletions: run.items };
      }
      const result = run.result;
      if (!result.changed) {
        void vscode.window.showInformationMessage(vscode.l10n.t('App "{0}" is already up to date at revision {1}; nothing to publish.', app, result.revision));
        await deps.refreshStatus();
        return { status: 'up-to-date', revision: result.revision };
      }
      deps.log.info(`published ${app} revision ${result.revision}: ${summarizePlan(result.plan)}`);
      const newSecrets = newSecretsOf(doc, result.plan);
      // New secrets have no value anywhere yet: offer to set them (Stage Values, only those rows).
      const setLabel = newSecrets.length === 1 ? vscode.l10n.t('Set the new secret…') : vscode.l10n.t('Set the {0} new secrets…', newSecrets.length);
      void vscode.window
        .showInformationMessage(vscode.l10n.t('Published "{0}": revision {1} ({2}).', app, result.revision, summarizePlan(result.plan)), ...(newSecrets.length ? [setLabel] : []))
        .then((choice) => choice === setLabel && vscode.commands.executeCommand(OPEN_STAGE_VALUES_COMMAND, { appKey: app, settings: newSecrets }));
      await deps.refreshStatus();
      deps.onPublished(app);
      return { status: 'published', revision: result.revision, plan: result.plan, newSecrets };
    } catch (err) {
      const failure: Failure = describeFailure(err, { serverUrl, app, action: 'publish', retry });
      deps.log.error(`publish ${app} failed (${failure.kind}${failure.status ? ` ${failure.status}` : ''}): ${failure.message}`);
      void vscode.window.showErrorMessage(failure.message, ...failure.actions.map((a) => a.label)).then((label) => {
        const action = failure.actions.find((a) => a.label === label);
        if (action) void vscode.commands.executeCommand(action.command, ...(action.args ?? []));
      });
      await deps.refreshStatus().catch(() => undefined);
      return { status: 'failed', kind: failure.kind, httpStatus: failure.status, message: failure.message };
    }
  };
  return publish;
}
