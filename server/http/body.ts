// Request bodies: JSON only (415 otherwise), at most 1 MiB (413), valid UTF-8 and
// well-formed JSON (400), no prototype-polluting keys and no absurd nesting (400).
// Then each route's zod schema replaces req.body with the parsed value.
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { IncomingMessage } from 'node:http';
import type { z } from 'zod';
import { badRequest, HttpProblem } from '../errors';

export const MAX_BODY_BYTES = 1024 * 1024;
const MAX_DEPTH = 32;
const FORBIDDEN_KEYS = new Set(['__proto__', 'constructor', 'prototype']);
const utf8 = new TextDecoder('utf-8', { fatal: true });

function isJsonType(req: Request): boolean {
  const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
  return type === 'application/json' || /^application\/[a-z0-9.+-]+\+json$/.test(type);
}

/** Whether a request comes with a body (then jsonBody parses or refuses it). */
export function hasBody(req: IncomingMessage): boolean {
  return req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
}

const parseJson = express.json({
  limit: MAX_BODY_BYTES,
  strict: false,
  type: () => true,
  verify: (_req, _res, buf) => {
    try {
      utf8.decode(buf);
    } catch {
      throw badRequest('the body is not valid UTF-8; send JSON encoded as UTF-8');
    }
  },
});

/** A lone UTF-16 surrogate: JSON's \\ud800 escapes can carry one; UTF-8 (SQLite) cannot store it. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const notUnicode = () =>
  badRequest('the body holds text that is not well-formed Unicode (a lone surrogate escape such as \\ud800); send text as valid UTF-8 or escape whole surrogate pairs');

/**
 * Checks keys and depth without recursion, so a deeply nested body cannot exhaust the stack,
 * and that every string is well-formed Unicode: stored data must never differ from what was
 * accepted, and a lone surrogate would be stored as U+FFFD.
 */
export function checkJsonTree(value: unknown): void {
  const stack: Array<{ v: unknown; depth: number }> = [{ v: value, depth: 0 }];
  while (stack.length > 0) {
    const { v, depth } = stack.pop()!;
    if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) throw notUnicode();
      continue;
    }
    if (v === null || typeof v !== 'object') continue;
    if (depth > MAX_DEPTH) throw badRequest(`the body is nested more than ${MAX_DEPTH} levels deep`);
    // Only objects, arrays and strings go on the stack: other primitives need no check.
    if (Array.isArray(v)) {
      for (const item of v) if (typeof item === 'string' || (item !== null && typeof item === 'object')) stack.push({ v: item, depth: depth + 1 });
    } else {
      for (const key of Object.keys(v)) {
        if (FORBIDDEN_KEYS.has(key)) throw badRequest(`the key "${key}" is not allowed in a request body`);
        if (LONE_SURROGATE.test(key)) throw notUnicode();
        const child = (v as Record<string, unknown>)[key];
        if (typeof child === 'string' || (child !== null && typeof child === 'object')) stack.push({ v: child, depth: depth + 1 });
      }
    }
  }
}

/** Parses a JSON body for POST/PATCH/PUT; anything else about the body is refused clearly. */
export const jsonBody: RequestHandler = (req: Request, res: Response, next: NextFunction) => {
  if (!hasBody(req)) {
    req.body = undefined;
    return next();
  }
  if (!isJsonType(req)) {
    return next(new HttpProblem(415, 'Unsupported Media Type', 'send the body as JSON with Content-Type: application/json'));
  }
  parseJson(req, res, (err?: unknown) => {
    if (err) return next(mapParserError(err));
    try {
      checkJsonTree(req.body);
    } catch (e) {
      return next(e);
    }
    next();
  });
};

function mapParserError(err: unknown): unknown {
  if (err instanceof HttpProblem) return err;
  const e = err as { type?: string; status?: number };
  switch (e.type) {
    case 'entity.too.large':
      return new HttpProblem(413, 'Content Too Large', `the body is larger than ${MAX_BODY_BYTES} bytes (1 MiB)`);
    case 'entity.parse.failed':
      return badRequest('the body is not valid JSON');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new HttpProblem(415, 'Unsupported Media Type', 'send the body as JSON encoded as UTF-8');
    case 'request.aborted':
      return badRequest('the request was aborted before its body arrived');
    default:
      if (e.status && e.status >= 400 && e.status < 500) return badRequest('the body could not be read');
      return err;
  }
}

/** Validates req.body against a schema and replaces it with the parsed value (400 on shape errors). */
export function validateBody<S extends z.ZodType>(schema: S): RequestHandler {
  return (req, _res, next) => {
    if (req.body === undefined) return next(badRequest('a JSON body is required'));
    const parsed = schema.safeParse(req.body);
    if (!parsed.success) {
      const first = parsed.error.issues.slice(0, 5).map(describeShapeIssue).join('; ');
      return next(badRequest(`the body does not have the expected shape: ${first}`));
    }
    req.body = parsed.data;
    next();
  };
}

export function describeShapeIssue(issue: z.core.$ZodIssue): string {
  const where = issue.path.length ? issue.path.map(String).join('.') : 'body';
  if (issue.code === 'unrecognized_keys') return `${where}: unknown field(s) ${issue.keys.join(', ')}`;
  if (issue.code === 'invalid_type') return `${where}: expected ${issue.expected}`;
  // zod's own messages for these codes describe the rule, not the input.
  return `${where}: ${issue.message}`;
}
