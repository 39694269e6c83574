// The HTTP API's bodies (SPEC §9), typed once. Request bodies are zod schemas that the
// server validates where they enter; responses are types the extension validates
// with the matching schemas below where they enter it.
import { z } from 'zod';
import { appDefinitionsSchema, DEFINITION_FIELDS, type NormalizedSetting } from './definitions';
import { SETTING_TYPES } from './values';

export const API_PREFIX = '/api/v1';

// ---- requests ---------------------------------------------------------------

export const publishRequestSchema = z.strictObject({
  // Shape is checked in two steps (400 for shape, 422 for rules), so this takes any JSON here
  // and the publish route parses it with appDefinitionsSchema.
  definitions: z.unknown(),
  baseRevision: z.number().int().nonnegative().optional(),
  dryRun: z.boolean().optional(),
});
export type PublishRequest = { definitions: z.input<typeof appDefinitionsSchema>; baseRevision?: number; dryRun?: boolean };

export const valueChangeSchema = z.strictObject({
  name: z.string().min(1).max(100),
  value: z.string().nullable(),
  baseVersion: z.number().int().nonnegative(),
});
export const patchValuesRequestSchema = z
  .strictObject({ changes: z.array(valueChangeSchema).max(10_000) })
  .superRefine((body, ctx) => {
    const seen = new Set<string>();
    for (const c of body.changes) {
      if (seen.has(c.name)) ctx.addIssue({ code: 'custom', message: `setting "${c.name}" appears twice in one batch`, path: ['changes'] });
      seen.add(c.name);
    }
  });
export type ValueChange = z.infer<typeof valueChangeSchema>;
export type PatchValuesRequest = z.infer<typeof patchValuesRequestSchema>;

export const ROLES = ['admin', 'developer', 'operator', 'runtime'] as const;
export type Role = (typeof ROLES)[number];
export const scopeSchema = z.union([z.literal('*'), z.array(z.string().min(1).max(100)).max(1000)]);
export type Scope = z.infer<typeof scopeSchema>;
export const createTokenRequestSchema = z.strictObject({
  name: z.string().min(1).max(100),
  role: z.enum(ROLES),
  apps: scopeSchema.optional(),
  stages: scopeSchema.optional(),
});
export type CreateTokenRequest = z.infer<typeof createTokenRequestSchema>;
/** Why an admin token cannot be created with a scope (SPEC §6), for the server and the CLI alike. */
export const ADMIN_SCOPE_REFUSAL = 'an admin token has no scope (an admin may do everything); leave out apps and stages, or create a developer or operator token for a scoped person';

// ---- responses --------------------------------------------------------------

// `store`: which store answers (SPEC §11); `degraded` (with 503) while it cannot be reached.
export const healthResponseSchema = z.object({ status: z.enum(['ok', 'degraded']), version: z.string(), store: z.enum(['sqlite', 'postgres']).optional() });
export type HealthResponse = z.infer<typeof healthResponseSchema>;

export const stageSchema = z.object({ key: z.string(), name: z.string() });
export type Stage = z.infer<typeof stageSchema>;
export const stagesResponseSchema = z.object({ stages: z.array(stageSchema) });
export type StagesResponse = z.infer<typeof stagesResponseSchema>;

export const appSummarySchema = z.object({
  key: z.string(),
  name: z.string(),
  revision: z.number(),
  publishedAt: z.string().nullable(),
});
export type AppSummary = z.infer<typeof appSummarySchema>;
export const appsResponseSchema = z.object({ apps: z.array(appSummarySchema) });
export type AppsResponse = z.infer<typeof appsResponseSchema>;

export const publishedSettingSchema = z.object({
  name: z.string(),
  type: z.enum(SETTING_TYPES),
  description: z.string(),
  defaultValue: z.string().nullable(),
  isSecret: z.boolean(),
  rotationDays: z.number().optional(),
});
export const appResponseSchema = appSummarySchema.extend({
  publishedBy: z.string().nullable(),
  settings: z.array(publishedSettingSchema),
});
export type AppResponse = z.infer<typeof appResponseSchema>;
// The compiler keeps the published definition and the normalized one identical.
export type PublishedSetting = NormalizedSetting;

export const DELETION_REASONS = ['removed', 'secret-to-non-secret', 'non-secret-to-secret', 'invalid-for-type'] as const;
export type DeletionReason = (typeof DELETION_REASONS)[number];
export const publishPlanSchema = z.object({
  added: z.array(z.string()),
  removed: z.array(z.string()),
  changed: z.array(z.object({ name: z.string(), changes: z.array(z.enum(DEFINITION_FIELDS)) })),
  deletions: z.array(z.object({ setting: z.string(), stage: z.string(), reason: z.enum(DELETION_REASONS) })),
});
export type PublishPlan = z.infer<typeof publishPlanSchema>;
export const publishResponseSchema = z.object({
  revision: z.number(),
  changed: z.boolean(),
  dryRun: z.boolean(),
  plan: publishPlanSchema,
});
export type PublishResponse = z.infer<typeof publishResponseSchema>;

export const stageSettingSchema = z.object({
  name: z.string(),
  type: z.enum(SETTING_TYPES),
  description: z.string(),
  isSecret: z.boolean(),
  hasValue: z.boolean(),
  /** The stage's value for a non-secret, "*****" for a secret that has one, null when none. */
  value: z.string().nullable(),
  defaultValue: z.string().nullable(),
  /** true for a secret with no value in this stage. */
  missing: z.boolean(),
  version: z.number(),
  updatedAt: z.string().nullable(),
  updatedBy: z.string().nullable(),
  /** Only for a secret with `rotationDays` (SPEC §13): its value is older than that. */
  dueForRotation: z.boolean().optional(),
});
export type StageSetting = z.infer<typeof stageSettingSchema>;
export const stageSettingsResponseSchema = z.object({
  app: z.string(),
  stage: z.string(),
  revision: z.number(),
  settings: z.array(stageSettingSchema),
});
export type StageSettingsResponse = z.infer<typeof stageSettingsResponseSchema>;

export const runtimeSettingsResponseSchema = z.object({
  app: z.string(),
  stage: z.string(),
  revision: z.number(),
  settings: z.record(z.string(), z.string().nullable()),
});
export type RuntimeSettingsResponse = z.infer<typeof runtimeSettingsResponseSchema>;

export const tokenInfoSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  apps: scopeSchema,
  stages: scopeSchema,
  createdAt: z.string(),
  revokedAt: z.string().nullable(),
});
export type TokenInfo = z.infer<typeof tokenInfoSchema>;
export const createTokenResponseSchema = z.object({ id: z.string(), token: z.string() });
export type CreateTokenResponse = z.infer<typeof createTokenResponseSchema>;

// ---- history, compare, promote (SPEC §12, §13) ------------------------------------------

export const HISTORY_ACTIONS = ['set', 'clear', 'restore'] as const;
export type HistoryAction = (typeof HISTORY_ACTIONS)[number];
export const historyEntrySchema = z.object({
  version: z.number(),
  action: z.enum(HISTORY_ACTIONS),
  at: z.string(),
  by: z.string().nullable(),
  hasValue: z.boolean(),
  /** The value for a non-secret, "*****" for a secret that had one, null when none. */
  value: z.string().nullable(),
  /** The pair's current write. */
  current: z.boolean(),
});
export type HistoryEntry = z.infer<typeof historyEntrySchema>;
export const historyResponseSchema = z.object({
  app: z.string(),
  stage: z.string(),
  name: z.string(),
  isSecret: z.boolean(),
  /** The pair's current version (the baseVersion of a restore). */
  version: z.number(),
  /** Newest first; at most PORTAL_HISTORY_VERSIONS. */
  entries: z.array(historyEntrySchema),
});
export type HistoryResponse = z.infer<typeof historyResponseSchema>;
export const restoreRequestSchema = z.strictObject({
  version: z.number().int().positive(),
  baseVersion: z.number().int().nonnegative(),
});
export type RestoreRequest = z.infer<typeof restoreRequestSchema>;

export const COMPARE_STATUSES = ['own', 'default', 'missing', 'unset'] as const;
export type CompareStatus = (typeof COMPARE_STATUSES)[number];
export const WARNING_KINDS = ['missing', 'same-as-lower-stage', 'rotation-due'] as const;
export type WarningKind = (typeof WARNING_KINDS)[number];
export const stageWarningSchema = z.object({
  setting: z.string(),
  stage: z.string(),
  kind: z.enum(WARNING_KINDS),
  /** For same-as-lower-stage: the lower stage whose secret is the same. */
  lowerStage: z.string().optional(),
  /** What is wrong and what to do; never a value. */
  detail: z.string(),
});
export type StageWarning = z.infer<typeof stageWarningSchema>;
export const compareCellSchema = z.object({
  status: z.enum(COMPARE_STATUSES),
  /** The effective value, non-secrets only. */
  value: z.string().nullable().optional(),
  version: z.number(),
  updatedAt: z.string().nullable(),
  dueForRotation: z.boolean().optional(),
  /** A secret equal to the one in this (earlier) stage among those compared. */
  sameAs: z.string().optional(),
});
export type CompareCell = z.infer<typeof compareCellSchema>;
export const compareResponseSchema = z.object({
  app: z.string(),
  revision: z.number(),
  stages: z.array(z.string()),
  settings: z.array(
    z.object({
      name: z.string(),
      type: z.enum(SETTING_TYPES),
      isSecret: z.boolean(),
      stages: z.record(z.string(), compareCellSchema),
      equal: z.boolean(),
    }),
  ),
  warnings: z.array(stageWarningSchema),
});
export type CompareResponse = z.infer<typeof compareResponseSchema>;

export const promoteRequestSchema = z.strictObject({
  from: z.string().min(1).max(100),
  to: z.string().min(1).max(100),
  settings: z.array(z.string().min(1).max(100)).max(10_000).optional(),
  dryRun: z.boolean().optional(),
  baseVersions: z.record(z.string(), z.number().int().nonnegative()).optional(),
});
export type PromoteRequest = z.infer<typeof promoteRequestSchema>;
export const promoteChangeSchema = z.object({
  name: z.string(),
  isSecret: z.boolean(),
  /** `set`: the target gets the source's value; `clear`: back to the default (the source has none of its own). */
  action: z.enum(['set', 'clear']),
  fromStatus: z.enum(COMPARE_STATUSES),
  toStatus: z.enum(COMPARE_STATUSES),
  /** Non-secrets only: the effective values before (target) and after. */
  fromValue: z.string().nullable().optional(),
  toValue: z.string().nullable().optional(),
});
export type PromoteChange = z.infer<typeof promoteChangeSchema>;
export const promoteResponseSchema = z.object({
  app: z.string(),
  from: z.string(),
  to: z.string(),
  dryRun: z.boolean(),
  changes: z.array(promoteChangeSchema),
  unchanged: z.array(z.string()),
  /** Not promoted: a secret missing in the source (promote never deletes a target's secret). */
  skipped: z.array(z.object({ name: z.string(), reason: z.string() })),
  /** The target's versions the preview was computed against (dry run) or the new ones (apply). */
  baseVersions: z.record(z.string(), z.number()),
});
export type PromoteResponse = z.infer<typeof promoteResponseSchema>;

// ---- errors (RFC 9457) --------------------------------------------------------

export const problemSchema = z.looseObject({
  type: z.string().optional(),
  title: z.string(),
  status: z.number(),
  detail: z.string().optional(),
  conflicts: z.array(z.string()).optional(),
  errors: z.array(z.object({ name: z.string(), detail: z.string(), path: z.string().optional() })).optional(),
  currentRevision: z.number().optional(),
});
export type Problem = z.infer<typeof problemSchema>;
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';
