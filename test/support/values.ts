// Small helpers for the tests of values across writes and stages (history, compare, promote,
// check): publish an app, write values based on the current versions, read a stage.
import assert from 'node:assert/strict';
import { defsFor, type Portal } from './portal';

export interface StageSettingBody {
  name: string;
  isSecret: boolean;
  hasValue: boolean;
  value: string | null;
  missing: boolean;
  version: number;
  updatedAt: string | null;
  updatedBy: string | null;
  dueForRotation?: boolean;
}

export async function publishApp(p: Pick<Portal, 'api'>, app: string, settings: unknown[]): Promise<void> {
  const res = await p.api('POST', `/apps/${app}/publish`, { body: { definitions: defsFor(app, settings) } });
  assert.equal(res.status, 200, res.text);
}

export async function stageView(p: Pick<Portal, 'api'>, app: string, stage: string, token?: string): Promise<Map<string, StageSettingBody>> {
  const res = await p.api('GET', `/apps/${app}/stages/${stage}/settings`, token === undefined ? {} : { token });
  assert.equal(res.status, 200, res.text);
  return new Map((res.body.settings as StageSettingBody[]).map((s) => [s.name, s]));
}

/** Writes values (null clears) based on the versions the stage has now. */
export async function setValues(p: Pick<Portal, 'api'>, app: string, stage: string, values: Record<string, string | null>, token?: string): Promise<void> {
  const current = await stageView(p, app, stage, token);
  const changes = Object.entries(values).map(([name, value]) => ({ name, value, baseVersion: current.get(name)!.version }));
  const res = await p.api('PATCH', `/apps/${app}/stages/${stage}/settings`, { body: { changes }, ...(token === undefined ? {} : { token }) });
  assert.equal(res.status, 200, res.text);
}
