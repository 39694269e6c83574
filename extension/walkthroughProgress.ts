// The walkthrough's steps complete on context keys (package.json completionEvents), but VS Code's
// walkthrough service only counts a key that turns true while it is running: it starts lazily
// (when a walkthrough or the Welcome page opens), and a key already true then is taken as "seen"
// without ticking its step off. So each key this extension sets true also marks its step done
// through welcome.markStepComplete (stored in VS Code's profile state, like a tick by hand).
import * as vscode from 'vscode';
import { CONTEXT } from './constants';

const WALKTHROUGH_ID = 'odcSettings.gettingStarted';
const EXTENSION_ID = 'odc-settings.odc-settings';

/** The walkthrough step (package.json's walkthrough step id) each context key completes. */
const STEP_OF = {
  [CONTEXT.portalReachable]: 'startPortal',
  [CONTEXT.signedIn]: 'signIn',
  [CONTEXT.hasDefinitions]: 'createDefinitions',
  [CONTEXT.hasSecret]: 'markSecret',
  [CONTEXT.published]: 'publish',
} as const;
export type WalkthroughStep = (typeof STEP_OF)[keyof typeof STEP_OF] | 'stageValues';

const marked = new Set<WalkthroughStep>();

/** Ticks a step off (once per window); a VS Code without the command is left as it is. */
export function completeWalkthroughStep(step: WalkthroughStep): void {
  if (marked.has(step)) return;
  marked.add(step);
  // Before the walkthrough is registered the command saves the tick, then throws "unknown step".
  vscode.commands.executeCommand('welcome.markStepComplete', `${EXTENSION_ID}#${WALKTHROUGH_ID}#${step}`).then(undefined, () => undefined);
}

/** setContext for a walkthrough key; true also ticks its step off. */
export async function setWalkthroughContext(key: keyof typeof STEP_OF, value: boolean): Promise<void> {
  await vscode.commands.executeCommand('setContext', key, value);
  if (value) completeWalkthroughStep(STEP_OF[key]);
}
