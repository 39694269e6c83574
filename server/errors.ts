// Typed errors that the one error handler turns into problem details (RFC 9457).
// A detail says what to do; it never carries a value, a token or key material.

export interface ProblemExtras {
  conflicts?: string[];
  errors?: Array<{ name: string; detail: string; path?: string }>;
  currentRevision?: number;
}

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly extras: ProblemExtras = {},
  ) {
    super(`${status} ${title}: ${detail}`);
    this.name = 'HttpProblem';
  }
}

export const badRequest = (detail: string, extras?: ProblemExtras) => new HttpProblem(400, 'Bad Request', detail, extras);
export const unauthorized = (detail: string) => new HttpProblem(401, 'Unauthorized', detail);
export const forbidden = (detail: string) => new HttpProblem(403, 'Forbidden', detail);
export const notFound = (detail: string) => new HttpProblem(404, 'Not Found', detail);
export const conflict = (detail: string, extras?: ProblemExtras) => new HttpProblem(409, 'Conflict', detail, extras);
export const unprocessable = (detail: string, extras?: ProblemExtras) => new HttpProblem(422, 'Unprocessable Content', detail, extras);
export const tooManyRequests = (detail: string) => new HttpProblem(429, 'Too Many Requests', detail);
