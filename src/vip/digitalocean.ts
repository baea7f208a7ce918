// DigitalOcean Reserved IP (formerly Floating IP) as an AddressProvider.
//
// API followed (v2):
//   https://docs.digitalocean.com/reference/api/digitalocean/#tag/Reserved-IPs
//   https://docs.digitalocean.com/reference/api/digitalocean/#tag/Reserved-IP-Actions
//   - GET  /v2/reserved_ips/{ip}  -> 200 { reserved_ip: { ip, droplet: {id,...} | null, region, locked, project_id } }
//   - POST /v2/reserved_ips/{ip}/actions  { type: "assign", droplet_id }
//        -> 201 { action: { id, status: "in-progress"|"completed"|"errored", type: "assign_ip", ... } }
//   - GET  /v2/reserved_ips/{ip}/actions/{action_id} -> 200 { action: {...} }
//   - errors: { id: "unauthorized"|"not_found"|"unprocessable_entity"|"too_many_requests"|"server_error", message }
//   - rate limits: ratelimit-limit/-remaining/-reset headers; 429 carries Retry-After in seconds
//     (https://docs.digitalocean.com/notes/2023/api-rate-limit).
// Droplet metadata (https://docs.digitalocean.com/reference/api/metadata/droplet-properties/):
//   - GET http://169.254.169.254/metadata/v1/id -> droplet id as plain text.

import { setTimeout as sleepMs } from 'node:timers/promises';
import type { Logger } from '../log/logger.ts';
import { acquireLoop, DEFAULT_RETRY_POLICY, toProviderError, readAction, type CloudAssignOps, type CloudClientOptions, type Holder, type LoopDeps, type RetryPolicy } from './cloud-assign.ts';
import { apiRequest, ApiError, type ErrorBodyParser } from './cloud-http.ts';
import { ApiCallCounts } from './api-call-counts.ts';
import { tokenLoader, type TokenLoader } from './cloud-token.ts';
import { type AcquireResult, type AddressProvider, type VerifyResult } from './provider.ts';

export const DO_API_BASE = 'https://api.digitalocean.com';
export const DO_METADATA_BASE = 'http://169.254.169.254';

export interface DigitalOceanOptions extends CloudClientOptions {
  /** When unset, read from the metadata service once and remembered. */
  dropletId?: number;
}

const parseDoError: ErrorBodyParser = (json) => {
  const o = json as { id?: unknown; message?: unknown } | null;
  return {
    ...(typeof o?.id === 'string' ? { code: o.id } : {}),
    ...(typeof o?.message === 'string' ? { message: o.message } : {}),
  };
};

/** DigitalOcean's action status words (in-progress | completed | errored). */
const DO_ACTION = { done: 'completed', failed: 'errored' };

export class DigitalOceanReservedIp implements AddressProvider {
  readonly name: string;
  readonly ip: string;
  readonly calls = new ApiCallCounts();
  private readonly apiBase: string;
  private readonly metadataBase: string;
  private readonly token: TokenLoader;
  private readonly timeoutMs: number;
  private readonly policy: RetryPolicy;
  private readonly deps: LoopDeps;
  private readonly log: Logger | undefined;
  private dropletId: number | undefined;

  constructor(opts: DigitalOceanOptions) {
    this.ip = opts.ip;
    this.name = `digitalocean ${opts.ip}`;
    this.apiBase = (opts.apiBase ?? DO_API_BASE).replace(/\/+$/, '').replace(/\/v2$/, '');
    this.metadataBase = (opts.metadataBase ?? DO_METADATA_BASE).replace(/\/+$/, '').replace(/\/metadata\/v1$/, '');
    this.token = tokenLoader(this.name, opts, opts.env);
    this.timeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...opts.retry };
    this.dropletId = opts.dropletId;
    this.log = opts.log;
    const now = opts.now ?? Date.now;
    this.deps = {
      sleep: opts.sleep ?? ((ms, signal) => sleepMs(ms, undefined, { signal })),
      random: opts.random ?? Math.random,
      now,
      onRetry: (attempt, reason, delayMs) => this.log?.warn({ provider: this.name, attempt, delayMs }, `floating IP assign attempt failed: ${reason}`),
    };
  }

  async acquire(signal: AbortSignal = new AbortController().signal): Promise<AcquireResult> {
    const token = await this.token();
    const ops: CloudAssignOps = {
      current: async (s) => this.holder(token, await this.droplet(s), s),
      assign: async (s) => {
        const droplet = await this.droplet(s);
        const a = await this.call(token, 'POST', `/v2/reserved_ips/${encodeURIComponent(this.ip)}/actions`, s, { type: 'assign', droplet_id: droplet });
        const action = readAction(a, DO_ACTION, 'reserved IP action');
        return { actionId: action.id, status: action.status };
      },
      action: async (id, s) => {
        const a = await this.call(token, 'GET', `/v2/reserved_ips/${encodeURIComponent(this.ip)}/actions/${id}`, s);
        return { status: readAction(a, DO_ACTION, 'reserved IP action').status };
      },
      describe: () => `${this.ip} to droplet ${this.dropletId ?? '?'}`,
    };
    return acquireLoop(this.name, ops, this.policy, this.deps, signal);
  }

  async verify(): Promise<VerifyResult> {
    const signal = new AbortController().signal;
    const token = await this.token();
    try {
      const h = await this.holder(token, await this.droplet(signal), signal);
      return { ours: h.mine, holder: h.holder };
    } catch (err) {
      throw toProviderError(this.name, err);
    }
  }

  /** Unassign (POST .../actions {type: "unassign"}); does not wait for the action. */
  async release(): Promise<void> {
    const signal = new AbortController().signal;
    const token = await this.token();
    try {
      const h = await this.holder(token, await this.droplet(signal), signal);
      if (!h.mine) return;
      await this.call(token, 'POST', `/v2/reserved_ips/${encodeURIComponent(this.ip)}/actions`, signal, { type: 'unassign' });
    } catch (err) {
      throw toProviderError(this.name, err);
    }
  }

  /** The droplet this node runs on: config, else the metadata service (remembered). */
  async droplet(signal: AbortSignal): Promise<number> {
    if (this.dropletId !== undefined) return this.dropletId;
    const ans = await apiRequest({ method: 'GET', url: `${this.metadataBase}/metadata/v1/id`, timeoutMs: Math.min(this.timeoutMs, 5_000), signal, calls: this.calls }, () => ({}));
    const id = Number(ans.text.trim());
    if (!Number.isSafeInteger(id) || id <= 0) {
      throw new ApiError(`GET /metadata/v1/id: not a droplet id: ${JSON.stringify(ans.text.slice(0, 40))}`, { kind: 'transport' });
    }
    this.dropletId = id;
    this.log?.info({ provider: this.name, dropletId: id }, 'droplet id from metadata service');
    return id;
  }

  private async holder(token: string, droplet: number, signal: AbortSignal): Promise<Holder> {
    const body = await this.call(token, 'GET', `/v2/reserved_ips/${encodeURIComponent(this.ip)}`, signal);
    const rip = (body as { reserved_ip?: { droplet?: { id?: unknown } | null; locked?: unknown } } | undefined)?.reserved_ip;
    if (!rip || typeof rip !== 'object') throw new ApiError(`GET /v2/reserved_ips/${this.ip}: answer has no reserved_ip`, { kind: 'transport' });
    const holderId = rip.droplet && typeof rip.droplet === 'object' ? Number(rip.droplet.id) : null;
    return {
      mine: holderId === droplet,
      holder: holderId === null ? 'nobody' : `droplet ${holderId}`,
      busy: rip.locked === true,
    };
  }

  private async call(token: string, method: 'GET' | 'POST', path: string, signal: AbortSignal, body?: unknown): Promise<unknown> {
    const ans = await apiRequest({ method, url: this.apiBase + path, token, body, timeoutMs: this.timeoutMs, signal, calls: this.calls }, parseDoError, this.deps.now);
    return ans.json;
  }
}
