// One row of the bench table, and its JSON form in bench-results/latest.json.
export interface Row {
  id: string;
  measure: string;
  subject: string;
  baseline: string;
  ratio: string;
  goal: string;
  /** 'pass' | 'miss' | 'not measured' | 'info' */
  status: 'pass' | 'miss' | 'not measured' | 'info';
  note?: string;
  /** Raw numbers (rounds, latencies, sizes) for the JSON. */
  data?: Record<string, unknown>;
}

export function notMeasured(id: string, measure: string, goal: string, reason: string): Row {
  return { id, measure, subject: '-', baseline: '-', ratio: '-', goal, status: 'not measured', note: `not measured: ${reason}` };
}

export const fmt = {
  rps: (x: number) => `${Math.round(x).toLocaleString('en-US')} req/s`,
  ms: (x: number) => `${x < 10 ? x.toFixed(1) : Math.round(x)} ms`,
  mb: (x: number) => `${Math.round(x)} MB`,
  x: (r: number) => `${r.toFixed(2)}x`,
};
