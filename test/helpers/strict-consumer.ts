import ts from 'typescript';

/** How an application written in strict TypeScript for Node compiles: what the README examples and the packed package are checked under. */
export const STRICT_CONSUMER: Readonly<ts.CompilerOptions> = Object.freeze({
  strict: true,
  noEmit: true,
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  lib: ['lib.es2022.d.ts'],
  types: ['node'],
  skipLibCheck: true,
});
