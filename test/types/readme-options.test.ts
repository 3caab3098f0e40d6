// The README's option tables (under "### Server options") list every field of
// ServerOptions, ListenOptions and ClientOptions, inherited ones included, and
// nothing that is not an option: read from the source by the type checker.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import ts from 'typescript';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The first-column names of each table in the README section `heading`, in order. */
function tableNames(markdown: string, heading: string): Array<Set<string>> {
  const lines = markdown.split('\n');
  const start = lines.indexOf(heading);
  const tables: Array<Set<string>> = [];
  let current: Set<string> | null = null;
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('#')) break;
    if (!line.startsWith('|')) {
      current = null;
      continue;
    }
    if (line.startsWith('| Option |') || line.startsWith('| ---')) continue;
    if (current === null) tables.push((current = new Set()));
    const first = line.split('|')[1];
    for (const match of first.matchAll(/`([A-Za-z_$][\w$]*)/g)) current.add(match[1]);
  }
  return tables;
}

/** Every property of the exported interface `name` of src/index.ts, inherited ones included. */
function optionNames(program: ts.Program, name: string): Set<string> {
  const checker = program.getTypeChecker();
  const index = checker.getSymbolAtLocation(program.getSourceFile(path.join(root, 'src/index.ts'))!)!;
  const symbol = checker.getExportsOfModule(index).find((candidate) => candidate.name === name)!;
  const type = checker.getDeclaredTypeOfSymbol(checker.getAliasedSymbol(symbol));
  return new Set(checker.getPropertiesOfType(type).map((property) => property.name));
}

const program = ts.createProgram([path.join(root, 'src/index.ts')], {
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  target: ts.ScriptTarget.ES2022,
  types: ['node'],
  noEmit: true,
});
const tables = tableNames(readFileSync(path.join(root, 'README.md'), 'utf8'), '### Server options');

t.test('the section has the three option tables', async (t) => {
  t.equal(tables.length, 3);
});

(['ServerOptions', 'ListenOptions', 'ClientOptions'] as const).forEach((name, index) => {
  t.test(`every ${name} field is in the README, and nothing else`, async (t) => {
    const fields = optionNames(program, name);
    t.ok(fields.size >= 5, `${name}: ${[...fields].join(', ')}`);
    const listed = tables[index] ?? new Set<string>();
    t.same([...fields].filter((field) => !listed.has(field)), [], 'fields missing from the table');
    t.same([...listed].filter((field) => !fields.has(field)), [], 'names in the table that are no field');
  });
});
