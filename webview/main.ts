// The Stage Values webview's entry (bundled to dist/webview/main.js, an iife for the browser).
// Only the vscode-elements components used here are imported, to keep the bundle small.
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-tab-header/index.js';
import '@vscode-elements/elements/dist/vscode-tab-panel/index.js';
import '@vscode-elements/elements/dist/vscode-tabs/index.js';
import './styles.css';
import { StageValuesApp } from './app';
import { HostConnection } from './host';

const root = document.getElementById('app');
if (root) {
  const timeoutMs = Number(document.body.dataset.requestTimeoutMs) || 30_000;
  const host = new HostConnection(acquireVsCodeApi(), timeoutMs);
  new StageValuesApp(root, host).start();
}
