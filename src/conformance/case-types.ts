/** The shapes of cases and categories, shared by the runner and the case files. */
import type { Session } from './session.js';
import type { Assert } from './recorder.js';
import type { ConformanceTarget, OpenOptions } from './target.js';
import type { ConformanceTransport } from './report-types.js';

export interface CaseEnv {
  target: ConformanceTarget;
  timeoutMs: number;
  maxMessageSize: number;
  maxFrames: number | undefined;
  /** the target declared its limits (category 30 needs them) */
  limitsDeclared: boolean;
  /** accepted close codes for undecompressable data: RFC 7692 names none, so 1002 and 1007 unless the target says */
  invalidDeflateCloseCodes: readonly number[];
  tooManyFramesCloseCode: number;
  deflate: boolean;
}

export interface CaseContext {
  t: Assert;
  env: CaseEnv;
  /** open a connection (default path: the target's) and wrap it in a Session */
  open(opts?: OpenOptions): Promise<Session>;
  /** release this resource when the case ends, however it ends */
  defer(cleanup: () => void): void;
}

export interface CaseDef {
  id: string;
  title: string;
  /** not run, with this reason (capability not declared, limit too small, ...) */
  skip?: string | false;
  /** deadline for the whole case (default: 10 waits) */
  timeoutMs?: number;
  run(c: CaseContext): Promise<void>;
}

export interface Category {
  id: string;
  title: string;
  /** the transports the category applies to (default: all) */
  transports?: readonly ConformanceTransport[];
  cases(env: CaseEnv): CaseDef[];
}

