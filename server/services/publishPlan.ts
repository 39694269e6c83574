// The publish plan (SPEC §3): what a new set of definitions changes against the
// published revision, and which stored stage values it deletes and why. Pure.
import { changedFields, type NormalizedDefinitions, type NormalizedSetting } from '../../common/definitions';
import type { PublishPlan, DeletionReason } from '../../common/api';
import { checkValue } from '../../common/values';

export interface StoredValueRef {
  stage: string;
  name: string;
  /** Reads the plaintext (decrypting a secret) only when the plan needs it: a type change. */
  read(): string;
}

export interface PlanResult {
  plan: PublishPlan;
  /** true when the normalized definitions differ in any way, order and app name included. */
  changed: boolean;
}

export function computePlan(
  published: { name: string; settings: NormalizedSetting[] } | null,
  next: NormalizedDefinitions,
  values: StoredValueRef[],
  stageOrder: string[],
): PlanResult {
  const before = new Map((published?.settings ?? []).map((s) => [s.name, s]));
  const after = new Map(next.settings.map((s) => [s.name, s]));
  const plan: PublishPlan = { added: [], removed: [], changed: [], deletions: [] };

  for (const s of next.settings) {
    const old = before.get(s.name);
    if (!old) plan.added.push(s.name);
    else {
      const fields = changedFields(old, s);
      if (fields.length > 0) plan.changed.push({ name: s.name, changes: fields });
    }
  }
  for (const s of published?.settings ?? []) if (!after.has(s.name)) plan.removed.push(s.name);

  const valuesBySetting = new Map<string, StoredValueRef[]>();
  for (const v of values) {
    const list = valuesBySetting.get(v.name) ?? [];
    list.push(v);
    valuesBySetting.set(v.name, list);
  }
  const stageRank = new Map(stageOrder.map((s, i) => [s, i]));
  const deletionsFor = (name: string, reason: (v: StoredValueRef) => DeletionReason | null) => {
    // Stages no longer configured (they can still hold values) come after the configured ones.
    const rank = (stage: string) => stageRank.get(stage) ?? stageOrder.length;
    const list = [...(valuesBySetting.get(name) ?? [])].sort((a, b) => rank(a.stage) - rank(b.stage) || a.stage.localeCompare(b.stage));
    for (const v of list) {
      const r = reason(v);
      if (r) plan.deletions.push({ setting: name, stage: v.stage, reason: r });
    }
  };
  // Deletions in the order of the old definitions, then stages in configured order.
  for (const old of published?.settings ?? []) {
    const s = after.get(old.name);
    if (!s) deletionsFor(old.name, () => 'removed');
    else if (old.isSecret && !s.isSecret) deletionsFor(old.name, () => 'secret-to-non-secret');
    else if (!old.isSecret && s.isSecret) deletionsFor(old.name, () => 'non-secret-to-secret');
    else if (old.type !== s.type) deletionsFor(old.name, (v) => (checkValue(s.type, v.read(), s.isSecret) ? 'invalid-for-type' : null));
  }

  const changed =
    published === null ||
    published.name !== next.app.name ||
    published.settings.length !== next.settings.length ||
    plan.added.length + plan.removed.length + plan.changed.length > 0 ||
    published.settings.some((s, i) => next.settings[i]?.name !== s.name);
  return { plan, changed };
}
