// Composition only: build the services, the Settings tree, diagnostics, status bar and
// commands, register each once, and put every disposable in context.subscriptions.
import * as vscode from 'vscode';
import { addSettingCommand } from './commands/addSetting';
import { changeTypeCommand } from './commands/changeType';
import { createDefinitionsFileCommand } from './commands/createDefinitionsFile';
import { deleteSettingCommand } from './commands/deleteSetting';
import type { Deps } from './commands/deps';
import { editDefaultCommand, removeDefaultCommand } from './commands/editDefault';
import { editDescriptionCommand } from './commands/editDescription';
import { openDefinitionsFileCommand, revealSettingCommand } from './commands/openDefinitionsFile';
import { publishAppCommand } from './commands/publishApp';
import { refreshCommand } from './commands/refresh';
import { register } from './commands/register';
import { renameSettingCommand } from './commands/renameSetting';
import { setSecretCommand } from './commands/setSecret';
import { signInCommand, signOutCommand } from './commands/signIn';
import { registerCodeIntelligence } from './code/registerCode';
import { COMMANDS, CONFIG, CONTEXT, LOG_CHANNEL_NAME, VIEWS } from './constants';
import { DefinitionsModel } from './definitions/definitionsModel';
import { DefinitionsDiagnostics } from './diagnostics/definitionsDiagnostics';
import { SetAsSecretQuickFix } from './diagnostics/setAsSecretQuickFix';
import { AUTH_PROVIDER_ID, AUTH_PROVIDER_LABEL, PortalAuthProvider } from './auth/portalAuthProvider';
import { watchPortalReachable } from './auth/portalReachable';
import { registerPlanDocuments } from './publish/planDocument';
import { newPortalClient, PortalSession } from './services/session';
import { TokenStore } from './services/tokenStore';
import { PublishStatus } from './status/publishStatus';
import { testHooksFor, type OdcSettingsApi } from './testApi';
import { ConfirmSeam } from './ui/confirm';
import { isTranslatorBound, useTranslator } from './l10n';
import { onSecretCheckboxChanged } from './views/secretCheckbox';
import { SettingStatusCache } from './views/settingStatus';
import { SettingsTreeProvider } from './views/settingsTree';
import type { TreeNode } from './views/treeNodes';
import { registerStageValues } from './webviews/stageValuesPanel';
import { setWalkthroughContext } from './walkthroughProgress';

export async function activate(context: vscode.ExtensionContext): Promise<OdcSettingsApi | undefined> {
  const subs = context.subscriptions;
  // Modules that stay free of 'vscode' (and the Stage Values host shared with the portal page) translate through common/l10n.ts.
  subs.push({ dispose: useTranslator((message, ...args) => vscode.l10n.t(message, ...args)) });
  const log = vscode.window.createOutputChannel(LOG_CHANNEL_NAME, { log: true });
  subs.push(log);

  const tokens = new TokenStore(context.secrets, () => new vscode.EventEmitter<void>());
  const auth = new PortalAuthProvider(context.secrets, tokens, log, async (serverUrl, token) =>
    (await (await newPortalClient({ serverUrl, token })).stages()).stages.map((s) => s.name),
  );
  subs.push(auth, vscode.authentication.registerAuthenticationProvider(AUTH_PROVIDER_ID, AUTH_PROVIDER_LABEL, auth, { supportsMultipleAccounts: true }));
  const session = new PortalSession(auth);
  // The walkthrough's "Sign in" step and the view's menus follow the session, wherever it changed.
  subs.push(auth.onDidChangeSessions(() => void session.isSignedIn().then((v) => setWalkthroughContext(CONTEXT.signedIn, v), () => undefined)));
  const model = new DefinitionsModel(log);
  const confirm = new ConfirmSeam();
  subs.push(tokens, model);

  // The portal's per-setting status in the tree: refetched on Refresh, sign-in/out, publish and writes.
  const settingStatus = new SettingStatusCache(session, log);
  const tree = new SettingsTreeProvider(model, settingStatus);
  const view = vscode.window.createTreeView<TreeNode>(VIEWS.settings, { treeDataProvider: tree, showCollapseAll: false, manageCheckboxStateManually: true });
  const status = new PublishStatus(model, session, log);
  const setHasDefinitions = () => {
    void setWalkthroughContext(CONTEXT.hasDefinitions, model.apps().length > 0);
    // The walkthrough's "Mark a secret" step completes on this.
    void setWalkthroughContext(CONTEXT.hasSecret, model.apps().some((a) => a.parsed?.doc?.settings?.some((s) => s.isSecret === true)));
  };
  subs.push(settingStatus, tree, view, status, new DefinitionsDiagnostics(model), model.onDidChange(setHasDefinitions), registerPlanDocuments());
  subs.push(vscode.languages.registerCodeActionsProvider({ language: 'json' }, new SetAsSecretQuickFix(model), { providedCodeActionKinds: SetAsSecretQuickFix.kinds }));

  // Bound once the Stage Values panels are registered, below.
  let panelsPublished: (appKey: string) => void = () => {};
  const deps: Deps = {
    model,
    log,
    confirm: confirm.ask,
    session,
    refreshTree: () => tree.refresh(),
    refreshStatus: () => status.refresh(),
    onPublished: (appKey) => {
      panelsPublished(appKey);
      settingStatus.invalidate();
      void setWalkthroughContext(CONTEXT.published, true);
    },
  };
  const setSecret = setSecretCommand(deps);
  subs.push(view.onDidChangeCheckboxState(onSecretCheckboxChanged(setSecret, deps.refreshTree, log)));

  const commands: Record<string, (...args: unknown[]) => unknown> = {
    [COMMANDS.createDefinitionsFile]: createDefinitionsFileCommand(deps),
    [COMMANDS.openDefinitionsFile]: openDefinitionsFileCommand(deps),
    [COMMANDS.revealSetting]: revealSettingCommand(deps),
    [COMMANDS.refresh]: refreshCommand({ ...deps, refreshTree: () => (settingStatus.invalidate(), tree.refresh()) }),
    [COMMANDS.addSetting]: addSettingCommand(deps),
    [COMMANDS.renameSetting]: renameSettingCommand(deps),
    [COMMANDS.editDescription]: editDescriptionCommand(deps),
    [COMMANDS.changeType]: changeTypeCommand(deps),
    [COMMANDS.editDefault]: editDefaultCommand(deps),
    [COMMANDS.removeDefault]: removeDefaultCommand(deps),
    [COMMANDS.setSecret]: setSecret,
    [COMMANDS.deleteSetting]: deleteSettingCommand(deps),
    [COMMANDS.signIn]: signInCommand({ ...deps, auth }),
    [COMMANDS.signOut]: signOutCommand(deps),
    [COMMANDS.publishApp]: publishAppCommand(deps),
    [COMMANDS.showLog]: () => log.show(),
    // The Settings editor opened on the portal's address (a banner's fix for "unreachable").
    [COMMANDS.openServerSettings]: () => vscode.commands.executeCommand('workbench.action.openSettings', `${CONFIG.section}.${CONFIG.serverUrl}`),
    [COMMANDS.statusMenu]: () => status.showMenu(),
    [COMMANDS.showPublishedChanges]: () => status.showPublishedChanges(),
  } satisfies Record<(typeof COMMANDS)[keyof typeof COMMANDS], (...args: unknown[]) => unknown>;
  // The definitions files are read and parsed in the background: activate() does not wait for
  // them (the tree fills in when the model fires onDidChange). A command run before then waits.
  const ready = model.initialize().then(
    () => {
      setHasDefinitions();
      void status.refresh();
      subs.push(watchPortalReachable(session));
      log.info(`activated; ${model.apps().length} app(s) in ${vscode.workspace.workspaceFolders?.length ?? 0} folder(s)`);
    },
    (err: unknown) => log.error(`reading the definitions files failed: ${err instanceof Error ? err.message : String(err)}`),
  );
  void ready.then(() => vscode.commands.executeCommand('setContext', CONTEXT.loaded, true));
  for (const [id, handler] of Object.entries(commands)) {
    register(subs, log, id as (typeof COMMANDS)[keyof typeof COMMANDS], async (...args: unknown[]) => {
      await ready;
      return handler(...args);
    });
  }
  const codeProviders = registerCodeIntelligence(subs, deps, ready);
  const stageValues = registerStageValues(context, { session, log, model, ready, onWritten: () => settingStatus.invalidate() });
  panelsPublished = stageValues.published;

  return testHooksFor(context.extensionMode, () => ({
    ready,
    replaceConfirm: (fn) => confirm.replace(fn),
    replaceTokenPrompt: (fn) => auth.replacePrompt(fn),
    settingsTree: tree,
    settingStatus: () => ({ requests: settingStatus.requests, settled: settingStatus.settled }),
    status: () => status.snapshot(),
    refreshStatus: () => status.refresh(),
    storedState: () => ({
      workspace: Object.fromEntries(context.workspaceState.keys().map((k) => [k, context.workspaceState.get(k)])),
      global: Object.fromEntries(context.globalState.keys().map((k) => [k, context.globalState.get(k)])),
    }),
    backupStageValues: async (appKey) => {
      const doc = stageValues.provider.documents.get(appKey);
      if (!doc) throw new Error(vscode.l10n.t('no Stage Values editor is open for {0}', appKey));
      const destination = vscode.Uri.joinPath(context.globalStorageUri, 'backup-probe');
      return stageValues.provider.backupCustomDocument(doc, { destination }, new vscode.CancellationTokenSource().token);
    },
    globalStorageUri: context.globalStorageUri,
    codeProviders,
    l10nBound: isTranslatorBound,
  }));
}

export function deactivate(): void {
  // Everything is in context.subscriptions.
}
