/**
 * The stable shape of a conformance run, shared by server mode (`trident test
 * <url>`) and client mode (`trident test --serve`), and written as the JSON
 * report (documented in docs/conformance.md; bump `schema` on any breaking change).
 */

/** Autobahn|Testsuite's verdicts, with its meanings. */
export type Verdict = 'OK' | 'NON-STRICT' | 'INFORMATIONAL' | 'UNIMPLEMENTED' | 'FAILED';

export type ConformanceTransport = 'http/1.1' | 'h2' | 'h3';

export interface CaseResult {
  /** Autobahn's number where Autobahn has the case ("7.1.6"), our own numbers beyond. */
  readonly id: string;
  readonly category: string;
  readonly title: string;
  readonly transport: ConformanceTransport;
  readonly verdict: Verdict;
  /** Why the verdict: the rule broken or the behaviour seen. */
  readonly reason: string;
  /** What was observed: frames/bytes (hex, truncated), events, status codes. */
  readonly observed: readonly string[];
  readonly durationMs: number;
}

export interface ConformanceReport {
  readonly schema: 1;
  readonly tool: { readonly name: 'trident test'; readonly version: string };
  readonly mode: 'server' | 'client';
  /** Server mode: the URL tested; client mode: the agent's name. */
  readonly subject: string;
  readonly startedAt: string;
  readonly durationMs: number;
  readonly results: readonly CaseResult[];
}
