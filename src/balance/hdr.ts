// HAProxy "balance hdr(name)": the value of one request header picks the server; when the
// header is absent or empty, round robin applies (HAProxy's documented fallback).

import type { PickRequest } from './policy.ts';
import { ConsistentHashPolicy, NO_KEY } from './consistent-hash.ts';
import { hashString } from './hash.ts';

export class HeaderHashPolicy extends ConsistentHashPolicy {
  readonly name: string;
  private readonly header: string;

  constructor(header: string) {
    super();
    if (header.length === 0) throw new Error('balance hdr(): header name is empty');
    this.header = header.toLowerCase();
    this.name = `hdr(${this.header})`;
  }

  protected keyHash(req: PickRequest): number {
    const value = req.header === undefined ? undefined : req.header(this.header);
    return value === undefined || value.length === 0 ? NO_KEY : hashString(value);
  }
}
