// Re-read every definitions file from disk or its open editor, and the portal status.
import type { Deps } from './deps';

export function refreshCommand(deps: Pick<Deps, 'model' | 'refreshTree' | 'refreshStatus'>) {
  return async (): Promise<void> => {
    await Promise.all(deps.model.all().map((e) => deps.model.reload(e.folder.uri.toString())));
    deps.refreshTree();
    await deps.refreshStatus();
  };
}
