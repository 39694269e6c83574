// The webview's end of the protocol (common/protocol.ts): typed requests with a timeout,
// notifications both ways. Types only from the protocol module, so zod stays out of the bundle.
import type {
  ErrorCode,
  HostNotifications,
  HostToWebview,
  ProtocolError,
  RequestMethod,
  RequestParams,
  RequestResult,
  WebviewNotifications,
  WebviewToHost,
} from '../common/protocol';

export interface VsCodeApi {
  postMessage(message: unknown): void;
}
declare global {
  function acquireVsCodeApi(): VsCodeApi;
}

/** A failed request: the host's `{ ok: false, error }`, or a timeout here. */
export class HostError extends Error {
  readonly code: ErrorCode | 'no-answer';
  readonly status: number | undefined;
  constructor(error: ProtocolError | { code: 'no-answer'; message: string }) {
    super(error.message);
    this.name = 'HostError';
    this.code = error.code;
    this.status = 'status' in error ? error.status : undefined;
  }
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: ReturnType<typeof setTimeout>; method: string };
type Listener<K extends keyof HostNotifications> = (params: HostNotifications[K]) => void;

export class HostConnection {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private readonly listeners: { [K in keyof HostNotifications]?: Array<Listener<K>> } = {};

  constructor(
    private readonly api: VsCodeApi,
    private readonly timeoutMs: number,
    target: Pick<Window, 'addEventListener'> = window,
  ) {
    target.addEventListener('message', (e: Event) => this.receive((e as MessageEvent).data));
  }

  request<M extends RequestMethod>(method: M, params: RequestParams<M>): Promise<RequestResult<M>> {
    const id = this.nextId++;
    return new Promise<RequestResult<M>>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new HostError({ code: 'no-answer', message: `The extension did not answer in time (${method}). Try again; if it keeps happening, reopen the panel.` }));
      }, this.timeoutMs);
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer, method });
      this.post({ kind: 'request', id, method, params } as WebviewToHost);
    });
  }

  notify<K extends keyof WebviewNotifications>(method: K, params: WebviewNotifications[K]): void {
    this.post({ kind: 'notification', method, params } as WebviewToHost);
  }

  on<K extends keyof HostNotifications>(method: K, listener: Listener<K>): void {
    const list = (this.listeners[method] ??= []) as Array<Listener<K>>;
    list.push(listener);
  }

  private post(message: WebviewToHost): void {
    this.api.postMessage(message);
  }

  private receive(data: unknown): void {
    if (typeof data !== 'object' || data === null) return;
    const m = data as HostToWebview;
    if (m.kind === 'response' && typeof m.id === 'number') {
      const p = this.pending.get(m.id);
      if (!p) return; // timed out already
      this.pending.delete(m.id);
      clearTimeout(p.timer);
      if (m.ok) p.resolve(m.result);
      else p.reject(new HostError(m.error ?? { code: 'internal', message: 'The extension answered with an error.' }));
    } else if (m.kind === 'notification' && typeof m.method === 'string') {
      const list = this.listeners[m.method] as Array<(p: unknown) => void> | undefined;
      for (const l of list ?? []) l(m.params);
    }
  }
}
