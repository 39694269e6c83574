// The Settings tree's elements: plain data (folder URI string + name), so a node passed to a
// command from a menu still means the right setting after the file changed underneath.

export interface AppNode {
  readonly kind: 'app';
  /** The workspace folder's URI string. */
  readonly folder: string;
}

export interface SettingNode {
  readonly kind: 'setting';
  readonly folder: string;
  readonly name: string;
  /** Position in the file's `settings`, which keeps ids unique even while names clash. */
  readonly index: number;
}

export interface MessageNode {
  readonly kind: 'message';
  readonly folder: string;
  readonly text: string;
}

export type TreeNode = AppNode | SettingNode | MessageNode;

const KINDS = new Set(['app', 'setting', 'message']);

export function isTreeNode(v: unknown): v is TreeNode {
  if (typeof v !== 'object' || v === null) return false;
  const o = v as Record<string, unknown>;
  return typeof o.kind === 'string' && KINDS.has(o.kind) && typeof o.folder === 'string' && (o.kind !== 'setting' || typeof o.name === 'string');
}
