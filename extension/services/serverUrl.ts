// Checks a portal URL before a token is ever sent to it: plain http only to loopback,
// unless the user turned on odcSettings.allowInsecureHttp.
import * as l10n from '../l10n';

export type ServerUrlCheck = { ok: true; url: string } | { ok: false; message: string };

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

export function checkServerUrl(text: string, allowInsecureHttp: boolean): ServerUrlCheck {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    return { ok: false, message: l10n.t('Enter a URL such as http://127.0.0.1:4650') };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, message: l10n.t('The portal URL must start with http:// or https://') };
  if (url.username || url.password) return { ok: false, message: l10n.t('Put no credentials in the URL; the token is asked for next') };
  if (url.protocol === 'http:' && !LOOPBACK.test(url.hostname) && !allowInsecureHttp) {
    return { ok: false, message: l10n.t('Plain http to {0} would send your token unencrypted. Use https, or turn on the setting "odcSettings.allowInsecureHttp".', url.hostname) };
  }
  return { ok: true, url: url.origin + url.pathname.replace(/\/+$/, '') };
}

/** Which settings layer a server URL comes from: a URL a repository ships is the one to be wary of. */
export type ServerUrlOrigin = 'workspace-folder' | 'workspace' | 'user' | 'default';

export interface InspectedSetting {
  defaultValue?: string;
  globalValue?: string;
  workspaceValue?: string;
  workspaceFolderValue?: string;
}

/** The layer that wins (VS Code's order: folder, workspace, user, default). */
export function serverUrlOrigin(inspected: InspectedSetting | undefined): ServerUrlOrigin {
  if (inspected?.workspaceFolderValue) return 'workspace-folder';
  if (inspected?.workspaceValue) return 'workspace';
  if (inspected?.globalValue) return 'user';
  return 'default';
}

export function isFromWorkspace(origin: ServerUrlOrigin): boolean {
  return origin === 'workspace' || origin === 'workspace-folder';
}

/** Shown next to the URL wherever a token is about to be sent to it. */
export function describeOrigin(origin: ServerUrlOrigin): string {
  switch (origin) {
    case 'workspace-folder':
      return l10n.t("from this folder's settings");
    case 'workspace':
      return l10n.t("from this workspace's settings");
    case 'user':
      return l10n.t('from your user settings');
    case 'default':
      return l10n.t('the default');
  }
}
