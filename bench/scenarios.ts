// What wrk asks for in each scenario.
import type { Mode } from './contestants.ts';
import { LARGE_PATH } from './nginx-backends.ts';

export interface Scenario {
  id: string;
  label: string;
  mode: Mode;
  path: string;
}

export const scenarios: readonly Scenario[] = [
  { id: 'http-small', label: 'HTTP, small body', mode: 'http', path: '/' },
  { id: 'http-64k', label: 'HTTP, 64 KiB body', mode: 'http', path: LARGE_PATH },
  { id: 'tcp-small', label: 'TCP mode, small body', mode: 'tcp', path: '/' },
];
