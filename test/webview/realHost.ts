// The webview in Chromium wired to the REAL host side (StageValuesController with the real
// PortalClient) against a REAL portal: the stand-in host only carries messages both ways, so
// what the page shows is what the extension host computes from the portal's answers.
import { PROTOCOL_VERSION, requestParamSchemas, type HostToWebview, type RequestMethod } from '../../common/protocol';
import { PortalClient } from '../../extension/services/portalClient';
import { StageValuesController, type StageValuesControllerOptions } from '../../extension/webviews/stageValuesController';
import type { StandInHost } from './standin';

export function bridgeToController(
  host: StandInHost,
  opts: { appKey: string; serverUrl: string; token: string } & Pick<StageValuesControllerOptions, 'initialStage' | 'initialSettings'>,
): StageValuesController {
  let nextId = 1;
  const pending = new Map<number, (m: Extract<HostToWebview, { kind: 'response' }>) => void>();
  const client = new PortalClient({ serverUrl: opts.serverUrl, token: opts.token });
  const controller = new StageValuesController({
    appKey: opts.appKey,
    client: async () => client,
    ...(opts.initialStage ? { initialStage: opts.initialStage } : {}),
    ...(opts.initialSettings ? { initialSettings: opts.initialSettings } : {}),
    post: (m) => {
      if (m.kind === 'response') {
        pending.get(m.id)?.(m);
        pending.delete(m.id);
      } else void host.notify(m.method, m.params as never);
    },
  });
  void controller.handle({ kind: 'notification', method: 'webview/ready', params: { protocol: PROTOCOL_VERSION } });
  for (const method of Object.keys(requestParamSchemas) as RequestMethod[]) {
    host.on(method, (params) =>
      new Promise((resolve) => {
        const id = nextId++;
        pending.set(id, (m) => resolve((m.ok ? m.result : { error: m.error }) as never));
        void controller.handle({ kind: 'request', id, method, params });
      }),
    );
  }
  return controller;
}
