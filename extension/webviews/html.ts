// The Stage Values webview's HTML and Content-Security-Policy. Pure (no vscode import), so the
// Chromium tests load the same page, under the same policy, as VS Code does.
import { randomBytes } from 'node:crypto';
import * as l10n from '../l10n';

/** A fresh nonce per page load, from the OS's CSPRNG. */
export function makeNonce(): string {
  return randomBytes(18).toString('base64');
}

export interface WebviewPageOptions {
  /** webview.cspSource: the origin the webview's own files are served from. */
  cspSource: string;
  nonce: string;
  /** URIs (as strings) of the built assets in dist/webview. */
  scriptUri: string;
  styleUri: string;
  codiconsUri: string;
  title: string;
  /** How long the webview waits for an answer to a request (default 30 s; the portal client's own timeout is 15 s). */
  requestTimeoutMs?: number;
}

/**
 * The policy: nothing by default; scripts only with this load's nonce; styles and fonts only
 * from the webview's own files. vscode-elements styles its shadow roots with constructable
 * stylesheets and sets inline styles through the CSSOM, neither of which needs 'unsafe-inline'
 * (the Chromium tests fail on any CSP violation, so this stays checked).
 */
export function contentSecurityPolicy(cspSource: string, nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src ${cspSource}`,
    `font-src ${cspSource}`,
    `img-src ${cspSource}`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');
}

const escapeAttr = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function stageValuesHtml(o: WebviewPageOptions): string {
  const a = {
    csp: escapeAttr(contentSecurityPolicy(o.cspSource, o.nonce)),
    nonce: escapeAttr(o.nonce),
    script: escapeAttr(o.scriptUri),
    style: escapeAttr(o.styleUri),
    codicons: escapeAttr(o.codiconsUri),
    title: escapeAttr(o.title),
    loading: escapeAttr(l10n.t('Loading stage values…')),
    timeout: String(Math.max(1, Math.floor(o.requestTimeoutMs ?? 30_000))),
  };
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${a.csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${a.codicons}" id="vscode-codicon-stylesheet">
<link rel="stylesheet" href="${a.style}">
<title>${a.title}</title>
</head>
<body data-request-timeout-ms="${a.timeout}">
<main id="app" aria-busy="true"><p class="loading">${a.loading}</p></main>
<script nonce="${a.nonce}" src="${a.script}"></script>
</body>
</html>`;
}
