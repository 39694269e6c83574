// Importing a .env file into one stage (SPEC §16): the preview (set / change / unchanged /
// refused, with reasons) and the one all-or-nothing change list, shared by `odc-portal values
// import` and the extension's "Import .env into Stage…". The caller parses the file (dotenv's
// parse, so quoting, escapes and multi-line values are exactly dotenv's). Rows carry names,
// actions and reasons, never a value: the preview can be printed or logged as it is.
import type { StageSetting, ValueChange } from './api';
import { indexSettingsByEnv } from './envNames';
import { checkValue } from './values';

export type ImportAction = 'set' | 'change' | 'unchanged' | 'refused';

export interface ImportRow {
  /** The variable as written in the file. */
  variable: string;
  /** The setting it maps to (absent when refused as unknown). */
  setting?: string;
  isSecret?: boolean;
  action: ImportAction;
  /** Why it is refused, or a note (e.g. a secret cannot be compared); never the value. */
  reason?: string;
}

export interface ImportPreview {
  rows: ImportRow[];
  /** The write: one change per set/change row, each based on the version it was planned against. */
  changes: ValueChange[];
  refused: number;
}

type StageSettingLike = Pick<StageSetting, 'name' | 'type' | 'isSecret' | 'hasValue' | 'value' | 'version'>;

export function previewDotenvImport(entries: Record<string, string>, settings: readonly StageSettingLike[], prefix = ''): ImportPreview {
  const { byVariable } = indexSettingsByEnv(
    settings.map((s) => s.name),
    prefix,
  );
  const byName = new Map(settings.map((s) => [s.name, s]));
  const rows: ImportRow[] = [];
  const changes: ValueChange[] = [];
  for (const [variable, value] of Object.entries(entries)) {
    const names = byVariable.get(variable);
    if (!names) {
      rows.push({ variable, action: 'refused', reason: prefix && !variable.startsWith(prefix) ? `no setting maps to ${variable} (names need the prefix ${prefix})` : `no setting maps to ${variable}` });
      continue;
    }
    if (names.length > 1) {
      rows.push({ variable, action: 'refused', reason: `settings ${names.map((n) => `"${n}"`).join(' and ')} both map to ${variable}` });
      continue;
    }
    const setting = byName.get(names[0]!)!;
    const base = { variable, setting: setting.name, isSecret: setting.isSecret };
    const problem = checkValue(setting.type, value, setting.isSecret);
    if (problem) {
      rows.push({ ...base, action: 'refused', reason: `the value ${problem} (${setting.type})` });
      continue;
    }
    if (!setting.hasValue) {
      rows.push({ ...base, action: 'set' });
    } else if (!setting.isSecret && setting.value === value) {
      rows.push({ ...base, action: 'unchanged' });
      continue;
    } else {
      rows.push({ ...base, action: 'change', reason: setting.isSecret ? 'replaces the stored secret (secrets are never compared)' : undefined });
    }
    changes.push({ name: setting.name, value, baseVersion: setting.version });
  }
  const refused = rows.filter((r) => r.action === 'refused').length;
  return { rows, changes: refused ? [] : changes, refused };
}

/** One line per row, for a terminal or a confirmation dialog. */
export function formatImportRow(row: ImportRow): string {
  const target = row.setting ? ` -> ${row.setting}${row.isSecret ? ' (secret)' : ''}` : '';
  return `${row.action.padEnd(9)} ${row.variable}${target}${row.reason ? `: ${row.reason}` : ''}`;
}

export function summarizeImport(preview: ImportPreview): string {
  const count = (a: ImportAction) => preview.rows.filter((r) => r.action === a).length;
  return `${count('set')} to set, ${count('change')} to change, ${count('unchanged')} unchanged, ${preview.refused} refused`;
}
