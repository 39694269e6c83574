// How a setting's name becomes an environment variable's, the one mapping shared by
// `odc-portal run`, `odc-portal values import` and the extension's code intelligence (SPEC §10, §15).

/** PaymentApiKey -> PAYMENT_API_KEY, maxRetries -> MAX_RETRIES, HTTPTimeout -> HTTP_TIMEOUT. */
export function envName(setting: string, prefix = ''): string {
  return (
    prefix +
    setting
      .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
      .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
      .toUpperCase()
  );
}

/**
 * A setting name for an environment variable (without its prefix): PAYMENT_API_KEY -> PaymentApiKey.
 * Falls back to the variable itself when the Pascal-case form would not map back to it.
 */
export function settingNameForEnv(variable: string): string {
  const pascal = variable
    .toLowerCase()
    .split('_')
    .filter((part) => part !== '')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
  return pascal !== '' && /^[A-Za-z]/.test(pascal) && envName(pascal) === variable ? pascal : variable;
}

/** Upper case with underscores removed: names that differ only in case or underscores compare equal. */
export function looseEnvKey(variable: string): string {
  return variable.replace(/_/g, '').toUpperCase();
}

/** Variables every program may read that are never app settings (no warning, no quick fix). */
export const WELL_KNOWN_ENV = new Set([
  'PATH', 'HOME', 'USER', 'USERNAME', 'SHELL', 'PWD', 'TMPDIR', 'TEMP', 'TMP', 'LANG', 'LC_ALL', 'TZ', 'TERM', 'HOSTNAME',
  'NODE_ENV', 'NODE_OPTIONS', 'NODE_PATH', 'DEBUG', 'CI', 'PORT', 'HOST', 'PYTHONPATH', 'PYTHONUNBUFFERED', 'VIRTUAL_ENV',
  'MODE', 'DEV', 'PROD', 'SSR', 'BASE_URL', 'APPDATA', 'LOCALAPPDATA', 'USERPROFILE', 'COMSPEC', 'SYSTEMROOT',
  'XDG_CONFIG_HOME', 'XDG_DATA_HOME', 'XDG_CACHE_HOME', 'HTTP_PROXY', 'HTTPS_PROXY', 'NO_PROXY',
]);

export interface EnvSettingIndex {
  /** Variable -> the setting names mapping to it (more than one is a clash). */
  byVariable: Map<string, string[]>;
  /** looseEnvKey(variable) -> variables. */
  byLooseKey: Map<string, string[]>;
}

export function indexSettingsByEnv(settingNames: readonly string[], prefix = ''): EnvSettingIndex {
  const byVariable = new Map<string, string[]>();
  const byLooseKey = new Map<string, string[]>();
  for (const name of settingNames) {
    const variable = envName(name, prefix);
    const list = byVariable.get(variable);
    if (list) list.push(name);
    else {
      byVariable.set(variable, [name]);
      const key = looseEnvKey(variable);
      byLooseKey.set(key, [...(byLooseKey.get(key) ?? []), variable]);
    }
  }
  return { byVariable, byLooseKey };
}
