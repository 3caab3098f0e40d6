export declare const LAYERS: Record<string, string[]>;
export declare function checkImports(srcDir: string): { files: number; problems: string[] };
