// The extension's client of the portal API (SPEC §9). Every answer is validated with the
// shared schema where it enters; every failure becomes a PortalError whose message is the
// server's problem detail (or a clear network message) and never carries a request body.
import axios, { type AxiosInstance } from 'axios';
import type { z } from 'zod';
import {
  API_PREFIX,
  appResponseSchema,
  appsResponseSchema,
  compareResponseSchema,
  healthResponseSchema,
  historyResponseSchema,
  promoteResponseSchema,
  problemSchema,
  publishResponseSchema,
  stageSettingsResponseSchema,
  stagesResponseSchema,
  type AppResponse,
  type AppsResponse,
  type CompareResponse,
  type HealthResponse,
  type HistoryResponse,
  type PromoteRequest,
  type PromoteResponse,
  type Problem,
  type PublishRequest,
  type PublishResponse,
  type StageSettingsResponse,
  type StagesResponse,
  type ValueChange,
} from '../../common/api';
import * as l10n from '../l10n';
import { PortalError } from './portalError';

// PortalError lives in its own small module so that code which only checks `instanceof PortalError`
// does not pull this client (axios, the response schemas) into the extension's activation path.
export { PortalError, type PortalErrorKind } from './portalError';

export interface PortalClientOptions {
  serverUrl: string;
  token: string | undefined;
  timeoutMs?: number;
}

export class PortalClient {
  private readonly http: AxiosInstance;
  constructor(private readonly opts: PortalClientOptions) {
    this.http = axios.create({
      baseURL: opts.serverUrl.replace(/\/+$/, '') + API_PREFIX,
      timeout: opts.timeoutMs ?? 15_000,
      validateStatus: () => true,
      // The portal never redirects; following one could send the token elsewhere.
      maxRedirects: 0,
      headers: opts.token ? { authorization: `Bearer ${opts.token}` } : {},
      // Take the body as text and parse it here, so a non-JSON answer is a clear error.
      responseType: 'text',
      transformResponse: [(d: unknown) => d],
    });
  }

  get serverUrl(): string {
    return this.opts.serverUrl;
  }

  private async call<S extends z.ZodType>(method: 'GET' | 'POST' | 'PATCH', route: string, schema: S, body?: unknown): Promise<z.infer<S>> {
    let res;
    try {
      res = await this.http.request<string>({ method, url: route, data: body === undefined ? undefined : JSON.stringify(body), headers: body === undefined ? {} : { 'content-type': 'application/json' } });
    } catch (err) {
      const e = err as { code?: string };
      if (e.code === 'ECONNABORTED' || e.code === 'ETIMEDOUT') {
        throw new PortalError('timeout', l10n.t('The portal at {0} did not answer in time. Check that it is running and reachable.', this.opts.serverUrl));
      }
      throw new PortalError('unreachable', l10n.t('Cannot reach the portal at {0} ({1}). Is the server running? Start it with "npm start" or check odcSettings.serverUrl.', this.opts.serverUrl, e.code ?? l10n.t('network error')));
    }
    let json: unknown;
    try {
      json = res.data === '' ? undefined : JSON.parse(res.data);
    } catch {
      throw new PortalError('invalid-response', l10n.t('The server at {0} answered {1} with something that is not JSON; is odcSettings.serverUrl the portal?', this.opts.serverUrl, res.status), res.status);
    }
    if (res.status < 200 || res.status >= 300) {
      const problem = problemSchema.safeParse(json);
      const detail = problem.success ? (problem.data.detail ?? problem.data.title) : `HTTP ${res.status}`;
      throw new PortalError('http', detail, res.status, problem.success ? problem.data : undefined);
    }
    const parsed = schema.safeParse(json);
    if (!parsed.success) throw new PortalError('invalid-response', l10n.t("The portal's answer to {0} {1} was not in the expected form; is the server a compatible version?", method, route), res.status);
    return parsed.data;
  }

  health(): Promise<HealthResponse> {
    return this.call('GET', '/health', healthResponseSchema);
  }
  stages(): Promise<StagesResponse> {
    return this.call('GET', '/stages', stagesResponseSchema);
  }
  apps(): Promise<AppsResponse> {
    return this.call('GET', '/apps', appsResponseSchema);
  }
  app(key: string): Promise<AppResponse> {
    return this.call('GET', `/apps/${encodeURIComponent(key)}`, appResponseSchema);
  }
  publish(key: string, body: PublishRequest): Promise<PublishResponse> {
    return this.call('POST', `/apps/${encodeURIComponent(key)}/publish`, publishResponseSchema, body);
  }
  stageSettings(app: string, stage: string): Promise<StageSettingsResponse> {
    return this.call('GET', `/apps/${encodeURIComponent(app)}/stages/${encodeURIComponent(stage)}/settings`, stageSettingsResponseSchema);
  }
  history(app: string, stage: string, name: string): Promise<HistoryResponse> {
    return this.call('GET', `/apps/${encodeURIComponent(app)}/stages/${encodeURIComponent(stage)}/settings/${encodeURIComponent(name)}/history`, historyResponseSchema);
  }
  restore(app: string, stage: string, name: string, version: number, baseVersion: number): Promise<StageSettingsResponse> {
    return this.call('POST', `/apps/${encodeURIComponent(app)}/stages/${encodeURIComponent(stage)}/settings/${encodeURIComponent(name)}/restore`, stageSettingsResponseSchema, {
      version,
      baseVersion,
    });
  }
  compare(app: string, stages: string[]): Promise<CompareResponse> {
    return this.call('GET', `/apps/${encodeURIComponent(app)}/compare?stages=${stages.map(encodeURIComponent).join(',')}`, compareResponseSchema);
  }
  promote(app: string, body: PromoteRequest): Promise<PromoteResponse> {
    return this.call('POST', `/apps/${encodeURIComponent(app)}/promote`, promoteResponseSchema, body);
  }
  patchStage(app: string, stage: string, changes: ValueChange[]): Promise<StageSettingsResponse> {
    return this.call('PATCH', `/apps/${encodeURIComponent(app)}/stages/${encodeURIComponent(stage)}/settings`, stageSettingsResponseSchema, { changes });
  }
}
