// How log lines look (issue 17): JSON lines for machines (pino's own output, the default when
// stderr is a file or a pipe), one readable line per event for people (the default on a terminal).
import * as fs from 'node:fs';

export const LOG_FORMATS = ['pretty', 'json'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export function isLogFormat(text: string): text is LogFormat {
  return (LOG_FORMATS as readonly string[]).includes(text);
}

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const COLOURS: Record<number, string> = { 10: '90', 20: '90', 30: '32', 40: '33', 50: '31', 60: '35' };

/** A field's value as it reads on the line: bare when it is one word, JSON otherwise. */
function fieldText(value: unknown): string {
  if (typeof value === 'string') return /^[^\s"=]+$/.test(value) ? value : JSON.stringify(value);
  if (value !== null && typeof value === 'object') {
    const obj = value as Record<string, unknown>;
    return Object.keys(obj)
      .filter((k) => obj[k] !== undefined)
      .map((k) => `${k}:${fieldText(obj[k])}`)
      .join(',');
  }
  return String(value);
}

/** One pino JSON line as "12:00:01.234 INFO  message key=value ..." (pid and hostname left out). */
export function prettyLine(jsonLine: string, colour = false): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(jsonLine) as Record<string, unknown>;
  } catch {
    return jsonLine.endsWith('\n') ? jsonLine : `${jsonLine}\n`;
  }
  const { level, time, msg, pid: _pid, hostname: _hostname, ...fields } = record;
  const stamp = typeof time === 'number' ? new Date(time).toISOString().slice(11, 23) : '';
  const name = (LEVELS[level as number] ?? String(level)).padEnd(5);
  const shownLevel = colour ? `\x1b[${COLOURS[level as number] ?? '0'}m${name}\x1b[0m` : name;
  const rest = Object.entries(fields)
    .filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k}=${fieldText(v)}`)
    .join(' ');
  return `${stamp} ${shownLevel} ${typeof msg === 'string' ? msg : ''}${rest ? ` ${rest}` : ''}\n`;
}

/** A pino destination that writes each record to stderr as a pretty line, synchronously like pino's own. */
export function prettyStderr(colour: boolean): { write(line: string): void } {
  return { write: (line: string) => void fs.writeSync(2, prettyLine(line.trimEnd(), colour)) };
}
