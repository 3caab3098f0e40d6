// docs/migrating-from-ws.md is complete and tested:
// - every member of `ws` 8's public types (from @types/ws: the options
//   interfaces, the WebSocket and Server classes, their event names, the
//   module's functions) has a row in its section;
// - every row that is not "not supported" has a test named after it in
//   test/migration/*.test.ts (`row(section, name, ...)`), and every such test
//   names a supported row.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import ts from 'typescript';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const STATUSES = new Set(['same', 'differs', 'not supported']);

interface GuideRow {
  section: string;
  /** The names in the row's first cell; the first one names the row. */
  names: string[];
  status: string;
  line: number;
}

/** The rows of every table in the guide, with the `## ` section they sit under. */
export function guideRows(markdown: string): GuideRow[] {
  const rows: GuideRow[] = [];
  let section = '';
  markdown.split('\n').forEach((text, index) => {
    if (text.startsWith('## ')) section = text.slice(3).trim();
    if (!text.startsWith('| ') || text.startsWith('| `ws` 8 |') || text.startsWith('| ---')) return;
    const cells = text.split('|').slice(1, -1).map((cell) => cell.trim());
    const names = [...cells[0].matchAll(/`'?([A-Za-z_$][\w$-]*)/g)].map((match) => match[1]);
    rows.push({ section, names, status: cells[2], line: index + 1 });
  });
  return rows;
}

/** The rows the tests in test/migration register with row(section, name, ...). */
function testedRows(): Set<string> {
  const dir = path.join(root, 'test/migration');
  const names = new Set<string>();
  for (const file of readdirSync(dir).filter((name) => name.endsWith('.test.ts'))) {
    const source = readFileSync(path.join(dir, file), 'utf8');
    for (const match of source.matchAll(/^row\('([^']+)', '([^']+)'/gm)) names.add(`${match[1]}: ${match[2]}`);
  }
  return names;
}

/** `ws` 8's public names per guide section, read from @types/ws with the TypeScript compiler. */
function wsSurface(): Map<string, Set<string>> {
  const file = path.join(root, 'node_modules/@types/ws/index.d.ts');
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
  const surface = new Map<string, Set<string>>();
  const add = (section: string, name: string) => {
    if (!surface.has(section)) surface.set(section, new Set());
    surface.get(section)!.add(name);
  };
  const EVENT_METHODS = new Set(['on', 'once', 'off', 'addListener', 'removeListener']);
  const classMembers = (node: ts.ClassDeclaration, members: string, events: string) => {
    for (const member of node.members) {
      if (ts.isConstructorDeclaration(member) || !member.name) continue;
      const name = member.name.getText(source);
      if (!EVENT_METHODS.has(name)) {
        add(members, name);
        continue;
      }
      // The event names are the string literal types of the first parameter.
      const type = (member as ts.MethodDeclaration).parameters[0]?.type;
      const literals = type && ts.isUnionTypeNode(type) ? type.types : type ? [type] : [];
      for (const literal of literals) {
        if (ts.isLiteralTypeNode(literal) && ts.isStringLiteral(literal.literal)) add(events, literal.literal.text);
      }
    }
  };
  const interfaces: Record<string, string> = {
    ServerOptions: 'WebSocketServer options',
    ClientOptions: 'WebSocket client options',
    PerMessageDeflateOptions: 'perMessageDeflate options',
  };
  const visit = (node: ts.Node): void => {
    if (ts.isClassDeclaration(node) && node.name?.text === 'WebSocket') {
      classMembers(node, 'WebSocket methods and properties', 'WebSocket events');
    } else if (ts.isClassDeclaration(node) && node.name?.text === 'Server') {
      classMembers(node, 'WebSocketServer methods and properties', 'WebSocketServer events');
    } else if (ts.isInterfaceDeclaration(node) && interfaces[node.name.text]) {
      for (const member of node.members) if (member.name) add(interfaces[node.name.text], member.name.getText(source));
    } else if (ts.isFunctionDeclaration(node) && node.name) {
      add('Module exports', node.name.text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return surface;
}

const guide = readFileSync(path.join(root, 'docs/migrating-from-ws.md'), 'utf8');
const rows = guideRows(guide);
const keyOf = (row: GuideRow) => `${row.section}: ${row.names[0]}`;

t.test('the guide has its tables', async (t) => {
  t.ok(rows.length >= 80, `${rows.length} rows`);
  for (const row of rows) {
    t.ok(row.names.length > 0, `line ${row.line} names something in backticks`);
    t.ok(STATUSES.has(row.status), `line ${row.line}: status "${row.status}"`);
  }
  const keys = rows.map(keyOf);
  t.same(keys.filter((key, index) => keys.indexOf(key) !== index), [], 'no row twice');
});

t.test("every public name of ws 8 has a row in its section", async (t) => {
  const surface = wsSurface();
  t.ok((surface.get('WebSocketServer options')?.size ?? 0) >= 15, 'read @types/ws');
  for (const [section, names] of surface) {
    const covered = new Set(rows.filter((row) => row.section === section).flatMap((row) => row.names));
    const missing = [...names].filter((name) => !covered.has(name));
    t.same(missing, [], `${section}: every name has a row`);
  }
});

t.test('every supported row has a test, and every test names a supported row', async (t) => {
  const tested = testedRows();
  const supported = rows.filter((row) => row.status !== 'not supported').map(keyOf);
  t.ok(supported.length >= 50, `${supported.length} supported rows`);
  t.same(supported.filter((key) => !tested.has(key)), [], 'supported rows without a test');
  t.same([...tested].filter((key) => !supported.includes(key)), [], 'tests that name no supported row');
});

t.test('the row parser reads names and statuses (negative cases)', async (t) => {
  const sample = [
    '## S',
    '| `ws` 8 | trident-ws | Status | Notes |',
    '| --- | --- | --- | --- |',
    "| `'close'` (code, reason) | x | differs | |",
    '| `a`, `b` | — | not supported | |',
    '| no code | — | maybe | |',
  ].join('\n');
  const parsed = guideRows(sample);
  t.same(parsed.map((row) => [row.section, row.names, row.status]), [
    ['S', ['close'], 'differs'],
    ['S', ['a', 'b'], 'not supported'],
    ['S', [], 'maybe'],
  ]);
});
