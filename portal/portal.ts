// The portal's web page (served at / by server/web/pages.ts). The same vscode-elements
// components as the Stage Values webview, and that editor itself (see browserHost.ts).
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-option/index.js';
import '@vscode-elements/elements/dist/vscode-single-select/index.js';
import '@vscode-elements/elements/dist/vscode-tab-header/index.js';
import '@vscode-elements/elements/dist/vscode-tab-panel/index.js';
import '@vscode-elements/elements/dist/vscode-tabs/index.js';
import './portal.css';
import { currentSession } from './api';
import { route } from './pages';

// Restored from the back-forward cache (after a sign-out, say): load it afresh from the server.
addEventListener('pageshow', (e) => {
  if (e.persisted) location.reload();
});

async function boot(): Promise<void> {
  const root = document.getElementById('portal');
  if (!root) return;
  const path = location.pathname;
  const session = path === '/signin' ? null : await currentSession();
  await route({ root, session, path, query: new URLSearchParams(location.search) });
}

boot().catch((err: unknown) => {
  const root = document.getElementById('portal');
  if (!root) return;
  root.removeAttribute('aria-busy');
  const p = document.createElement('p');
  p.setAttribute('role', 'alert');
  p.textContent = `The portal could not start this page: ${err instanceof Error ? err.message : String(err)} Reload to try again.`;
  root.replaceChildren(p);
});
