// Every id the extension contributes, in one place. package.json's `contributes` uses the same
// strings; test/vscode/commands.test.ts checks that each contributed command is registered.

export const COMMANDS = {
  createDefinitionsFile: 'odcSettings.createDefinitionsFile',
  openDefinitionsFile: 'odcSettings.openDefinitionsFile',
  refresh: 'odcSettings.refresh',
  addSetting: 'odcSettings.addSetting',
  renameSetting: 'odcSettings.renameSetting',
  editDescription: 'odcSettings.editDescription',
  changeType: 'odcSettings.changeType',
  editDefault: 'odcSettings.editDefault',
  removeDefault: 'odcSettings.removeDefault',
  setSecret: 'odcSettings.setSecret',
  deleteSetting: 'odcSettings.deleteSetting',
  revealSetting: 'odcSettings.revealSetting',
  signIn: 'odcSettings.signIn',
  signOut: 'odcSettings.signOut',
  publishApp: 'odcSettings.publishApp',
  showLog: 'odcSettings.showLog',
  openServerSettings: 'odcSettings.openServerSettings',
  statusMenu: 'odcSettings.statusMenu',
  showPublishedChanges: 'odcSettings.showPublishedChanges',
} as const;
export type CommandId = (typeof COMMANDS)[keyof typeof COMMANDS];

export const VIEWS = {
  container: 'odcSettings',
  settings: 'odcSettings.settings',
} as const;

export const CONFIG = {
  section: 'odcSettings',
  definitionsFile: 'definitionsFile',
  serverUrl: 'serverUrl',
  allowInsecureHttp: 'allowInsecureHttp',
} as const;

/** Context keys for `when` clauses in package.json. */
export const CONTEXT = {
  hasDefinitions: 'odcSettings.hasDefinitions',
  signedIn: 'odcSettings.signedIn',
  /** Set once the definitions files have been read, so the welcome view does not flash before. */
  loaded: 'odcSettings.loaded',
  /** Walkthrough steps: the portal answered, a setting is secret, this window published. */
  portalReachable: 'odcSettings.portalReachable',
  hasSecret: 'odcSettings.hasSecret',
  published: 'odcSettings.published',
} as const;

export const DIAGNOSTIC_SOURCE = 'ODC Settings'; // l10n-ignore: the product's name, shown as the Problems source
export const DIAGNOSTIC_CODES = {
  syntax: 'json-syntax',
  shape: 'definitions-shape',
  rule: 'definitions-rule',
  credentialDefault: 'credential-default',
} as const;

export const LOG_CHANNEL_NAME = 'ODC Settings'; // l10n-ignore: the product's name, the Output channel's
