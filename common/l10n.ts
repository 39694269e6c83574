// Runtime strings of modules that must not import 'vscode' (they also run in plain Node tests:
// the definitions parser, the portal client, the Stage Values host, which the portal's web page
// runs too, ...). They call
// l10n.t(message, ...args) exactly like vscode.l10n.t; activate() binds it to vscode.l10n.t, and
// until then (or in Node) it fills the {n} placeholders into the English text the same way VS Code
// does for its default language. `import * as l10n from '../l10n'` keeps the calls visible to
// @vscode/l10n-dev's extractor. Call it at run time, never at module load (binding comes later).
export type Translate = (message: string, ...args: Array<string | number | boolean>) => string;

/** VS Code's English formatting: each {key} with a matching argument is replaced, anything else stays. */
export const english: Translate = (message, ...args) =>
  args.length === 0 ? message : message.replace(/{([^}]+)}/g, (match, key: string) => {
    const value = (args as Array<string | number | boolean | undefined>)[Number(key)];
    return /^\d+$/.test(key) && value !== undefined ? String(value) : match;
  });

let translate: Translate = english;

export function t(message: string, ...args: Array<string | number | boolean>): string {
  return translate(message, ...args);
}

/** Called once by activate() with vscode.l10n.t; returns a function that restores the previous one. */
export function useTranslator(fn: Translate): () => void {
  const previous = translate;
  translate = fn;
  return () => {
    translate = previous;
  };
}
