// Hetzner Cloud Floating IP as an AddressProvider.
//
// API followed (https://docs.hetzner.cloud/reference/cloud):
//   - GET  /v1/floating_ips/{id} -> 200 { floating_ip: { id, ip, server: number | null, blocked, ... } }
//   - GET  /v1/floating_ips?page=&per_page= -> { floating_ips: [...], meta: { pagination: { next_page } } }
//       (the list has no filter by address, so we page through it once and remember the id)
//   - POST /v1/floating_ips/{id}/actions/assign { server } -> 201 { action: { id, command: "assign_floating_ip",
//       status: "running"|"success"|"error", progress, error: {code, message} | null } }
//   - POST /v1/floating_ips/{id}/actions/unassign -> 201 { action }
//   - GET  /v1/actions/{id} -> 200 { action }
//   - errors (https://docs.hetzner.cloud/reference/cloud#errors): { error: { code, message, details } } with codes
//       unauthorized (401), forbidden (403), not_found (404), invalid_input (400), locked (423),
//       rate_limit_exceeded (429), service_error / unavailable (5xx)
//   - rate limits (#rate-limiting): RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset (Unix seconds)
// Server metadata (https://docs.hetzner.cloud/reference/cloud#server-metadata):
//   - GET http://169.254.169.254/hetzner/v1/metadata/instance-id -> server id as plain text.

import { setTimeout as sleepMs } from 'node:timers/promises';
import type { Logger } from '../log/logger.ts';
import { acquireLoop, DEFAULT_RETRY_POLICY, toProviderError, readAction, type CloudAssignOps, type CloudClientOptions, type Holder, type LoopDeps, type RetryPolicy } from './cloud-assign.ts';
import { apiRequest, ApiError, type ErrorBodyParser } from './cloud-http.ts';
import { ApiCallCounts } from './api-call-counts.ts';
import { tokenLoader, type TokenLoader } from './cloud-token.ts';
import { ProviderError, type AcquireResult, type AddressProvider, type VerifyResult } from './provider.ts';

export const HETZNER_API_BASE = 'https://api.hetzner.cloud';
export const HETZNER_METADATA_BASE = 'http://169.254.169.254';

export interface HetznerOptions extends CloudClientOptions {
  /** When unset, found by paging through GET /v1/floating_ips once. */
  floatingIpId?: number;
  /** When unset, read from the metadata service once and remembered. */
  serverId?: number;
}

const parseHetznerError: ErrorBodyParser = (json) => {
  const e = (json as { error?: { code?: unknown; message?: unknown } } | null)?.error;
  return {
    ...(typeof e?.code === 'string' ? { code: e.code } : {}),
    ...(typeof e?.message === 'string' ? { message: e.message } : {}),
  };
};

const MAX_LIST_PAGES = 20;
/** Hetzner's action status words (running | success | error). */
const HETZNER_ACTION = { done: 'success', failed: 'error' };

export class HetznerFloatingIp implements AddressProvider {
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
  private floatingIpId: number | undefined;
  private serverId: number | undefined;

  constructor(opts: HetznerOptions) {
    this.ip = opts.ip;
    this.name = `hetzner ${opts.ip}`;
    this.apiBase = (opts.apiBase ?? HETZNER_API_BASE).replace(/\/+$/, '').replace(/\/v1$/, '');
    this.metadataBase = (opts.metadataBase ?? HETZNER_METADATA_BASE).replace(/\/+$/, '').replace(/\/hetzner\/v1\/metadata$/, '');
    this.token = tokenLoader(this.name, opts, opts.env);
    this.timeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.policy = { ...DEFAULT_RETRY_POLICY, ...opts.retry };
    this.floatingIpId = opts.floatingIpId;
    this.serverId = opts.serverId;
    this.log = opts.log;
    this.deps = {
      sleep: opts.sleep ?? ((ms, signal) => sleepMs(ms, undefined, { signal })),
      random: opts.random ?? Math.random,
      now: opts.now ?? Date.now,
      onRetry: (attempt, reason, delayMs) => this.log?.warn({ provider: this.name, attempt, delayMs }, `floating IP assign attempt failed: ${reason}`),
    };
  }

  async acquire(signal: AbortSignal = new AbortController().signal): Promise<AcquireResult> {
    const token = await this.token();
    const ops: CloudAssignOps = {
      current: async (s) => this.holder(token, s),
      assign: async (s) => {
        const [id, server] = [await this.fipId(token, s), await this.server(s)];
        const body = await this.call(token, 'POST', `/v1/floating_ips/${id}/actions/assign`, s, { server });
        const a = readAction(body, HETZNER_ACTION, 'floating IP action');
        return { actionId: a.id, status: a.status };
      },
      action: async (id, s) => ({ status: readAction(await this.call(token, 'GET', `/v1/actions/${id}`, s), HETZNER_ACTION, 'floating IP action').status }),
      describe: () => `${this.ip} to server ${this.serverId ?? '?'}`,
    };
    return acquireLoop(this.name, ops, this.policy, this.deps, signal);
  }

  async verify(): Promise<VerifyResult> {
    const signal = new AbortController().signal;
    const token = await this.token();
    try {
      const h = await this.holder(token, signal);
      return { ours: h.mine, holder: h.holder };
    } catch (err) {
      throw toProviderError(this.name, err);
    }
  }

  /** Unassign when the address is here; does not wait for the action. */
  async release(): Promise<void> {
    const signal = new AbortController().signal;
    const token = await this.token();
    try {
      const h = await this.holder(token, signal);
      if (!h.mine) return;
      await this.call(token, 'POST', `/v1/floating_ips/${await this.fipId(token, signal)}/actions/unassign`, signal);
    } catch (err) {
      throw toProviderError(this.name, err);
    }
  }

  async server(signal: AbortSignal): Promise<number> {
    if (this.serverId !== undefined) return this.serverId;
    const ans = await apiRequest({ method: 'GET', url: `${this.metadataBase}/hetzner/v1/metadata/instance-id`, timeoutMs: Math.min(this.timeoutMs, 5_000), signal, calls: this.calls }, () => ({}));
    const id = Number(ans.text.trim());
    if (!Number.isSafeInteger(id) || id <= 0) {
      throw new ApiError(`GET /hetzner/v1/metadata/instance-id: not a server id: ${JSON.stringify(ans.text.slice(0, 40))}`, { kind: 'transport' });
    }
    this.serverId = id;
    this.log?.info({ provider: this.name, serverId: id }, 'server id from metadata service');
    return id;
  }

  private async fipId(token: string, signal: AbortSignal): Promise<number> {
    if (this.floatingIpId !== undefined) return this.floatingIpId;
    for (let page = 1; page <= MAX_LIST_PAGES; page++) {
      const body = (await this.call(token, 'GET', `/v1/floating_ips?page=${page}&per_page=50`, signal)) as
        | { floating_ips?: { id?: unknown; ip?: unknown }[]; meta?: { pagination?: { next_page?: unknown } } }
        | undefined;
      const hit = body?.floating_ips?.find((f) => f.ip === this.ip || (typeof f.ip === 'string' && f.ip.split('/')[0] === this.ip));
      if (hit && typeof hit.id === 'number') {
        this.floatingIpId = hit.id;
        this.log?.info({ provider: this.name, floatingIpId: hit.id }, 'floating IP id found by address');
        return hit.id;
      }
      if (typeof body?.meta?.pagination?.next_page !== 'number') break;
    }
    throw new ProviderError(this.name, `no floating IP with address ${this.ip} in this project (set floating_ip_id?)`, { fatal: true, status: 404, code: 'not_found' });
  }

  private async holder(token: string, signal: AbortSignal): Promise<Holder> {
    const id = await this.fipId(token, signal);
    const body = await this.call(token, 'GET', `/v1/floating_ips/${id}`, signal);
    const fip = (body as { floating_ip?: { server?: unknown } } | undefined)?.floating_ip;
    if (!fip || typeof fip !== 'object') throw new ApiError(`GET /v1/floating_ips/${id}: answer has no floating_ip`, { kind: 'transport' });
    const holder = typeof fip.server === 'number' ? fip.server : null;
    const me = await this.server(signal);
    return { mine: holder === me, holder: holder === null ? 'nobody' : `server ${holder}`, busy: false };
  }

  private async call(token: string, method: 'GET' | 'POST', path: string, signal: AbortSignal, body?: unknown): Promise<unknown> {
    const ans = await apiRequest({ method, url: this.apiBase + path, token, body, timeoutMs: this.timeoutMs, signal, calls: this.calls }, parseHetznerError, this.deps.now);
    return ans.json;
  }
}
