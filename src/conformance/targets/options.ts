import type { ConformanceTarget } from '../target.js';

/** What every transport's target factory accepts besides the address. */
export interface TargetOptions {
  /** shown in reports */
  name?: string;
  /** request path of the echo endpoint, default '/echo' */
  path?: string;
  limits?: ConformanceTarget['limits'];
  expect?: ConformanceTarget['expect'];
  capabilities?: ConformanceTarget['capabilities'];
  /** per-wait timeout, default 2000 ms */
  timeoutMs?: number;
}

/** The transport-independent fields of a target, without undefined-valued keys. */
export function targetBase(o: TargetOptions, defaultName: string): Omit<ConformanceTarget, 'transport' | 'open' | 'raw'> {
  return {
    name: o.name ?? defaultName,
    ...(o.limits ? { limits: o.limits } : {}),
    ...(o.expect ? { expect: o.expect } : {}),
    ...(o.capabilities ? { capabilities: o.capabilities } : {}),
    ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
  };
}
