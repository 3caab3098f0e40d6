export interface InteropCell {
  peer: string;
  version?: string;
  direction: string;
  transport: string;
  deflate?: string;
  variant?: string;
  deviation?: string;
  result: 'pass' | 'fail' | 'skip';
}
export interface ParsedInterop {
  cells: InteropCell[];
  files: Array<{ file: string; result: 'pass' | 'fail' | 'skip' }>;
}
export const DEVIATIONS: Record<string, string>;
export function parseTap(text: string): ParsedInterop;
export function renderReport(parsed: ParsedInterop, meta: { date: string; commit: string; node: string; deviationNotes?: string[]; notes?: string[] }): string;
