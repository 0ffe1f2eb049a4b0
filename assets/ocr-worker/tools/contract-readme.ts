/**
 * README.md's "Container contract" section, made from src/contract.ts (its tables and their doc
 * comments), so that the contract is written down once. `node tools/contract-readme.ts` rewrites the
 * section; test/contract.test.ts fails while README.md differs from it.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { PACKAGE_ROOT } from '../src/paths.ts';

export const CONTRACT_PATH = join(PACKAGE_ROOT, 'src', 'contract.ts');
export const README_PATH = join(PACKAGE_ROOT, 'README.md');
export const SECTION_START = '<!-- container-contract:start -->';
export const SECTION_END = '<!-- container-contract:end -->';

/** How each table is shown: its heading and the header of its name column (test/contract.test.ts checks that every table is listed). */
const TABLES: Array<{ name: string; heading: string; column: string }> = [
  { name: 'BATCH_ENV', heading: 'Environment, Batch mode', column: 'variable' },
  { name: 'SERVICE_ENV', heading: 'Environment, service mode', column: 'variable' },
  { name: 'SERVICE_MODE', heading: 'Values of `OCR_MODE`', column: 'value' },
  { name: 'COMMON_ENV', heading: 'Environment, both modes', column: 'variable' },
  { name: 'PLATFORM_ENV', heading: 'Environment set by the platform', column: 'variable' },
  { name: 'DEBUG_ENV', heading: 'Environment for debugging', column: 'variable' },
  { name: 'INTERNAL_ENV', heading: 'Internal environment (the engine and its OCR processes)', column: 'variable' },
  { name: 'PROGRAM_ENV', heading: 'Environment the worker sets for the programs it runs', column: 'variable' },
  { name: 'EXIT', heading: 'Exit codes of a Batch run', column: 'code' },
  { name: 'RESULT_LAYOUT', heading: 'Result locations', column: 'name' },
];

interface Entry { value: string; doc: string }
interface Table { doc: string; entries: Entry[] }

function docOf(node: ts.Node): string {
  return ts.getJSDocCommentsAndTags(node)
    .filter(ts.isJSDoc)
    .map((d) => ts.getTextOfJSDocComment(d.comment) ?? '')
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/** The `export const NAME = { ... } as const` tables of contract.ts, with their doc comments. */
export function contractTables(source = readFileSync(CONTRACT_PATH, 'utf8')): Map<string, Table> {
  const file = ts.createSourceFile(CONTRACT_PATH, source, ts.ScriptTarget.ES2022, true);
  const tables = new Map<string, Table>();
  for (const statement of file.statements) {
    if (!ts.isVariableStatement(statement)) continue;
    for (const decl of statement.declarationList.declarations) {
      let init = decl.initializer;
      if (init && ts.isAsExpression(init)) init = init.expression;
      if (!init || !ts.isObjectLiteralExpression(init) || !ts.isIdentifier(decl.name)) continue;
      const entries = init.properties.filter(ts.isPropertyAssignment).map((p) => ({
        value: ts.isStringLiteral(p.initializer) || ts.isNumericLiteral(p.initializer) ? p.initializer.text : p.initializer.getText(file),
        doc: docOf(p),
      }));
      tables.set(decl.name.text, { doc: docOf(statement), entries });
    }
  }
  return tables;
}

/** The section's markdown, between its markers. */
export function contractSection(tables = contractTables()): string {
  const cell = (text: string): string => text.replace(/\|/g, '\\|');
  const parts = [
    SECTION_START,
    '## Container contract',
    '',
    'What the constructs set and read, and what the worker reads and writes (`src/contract.ts`; the',
    "library's `src/common/worker-contract.ts` and `OcrServiceEnvironment` declare the same names).",
  ];
  for (const { name, heading, column } of TABLES) {
    const table = tables.get(name);
    if (!table) throw new Error(`src/contract.ts has no table ${name}`);
    parts.push('', `### ${heading}`, '', cell(table.doc), '', `| ${column} | meaning |`, '|---|---|');
    for (const e of table.entries) parts.push(`| \`${e.value}\` | ${cell(e.doc)} |`);
  }
  parts.push(SECTION_END);
  return parts.join('\n');
}

/** The section as README.md has it, or null without its markers. */
export function readmeSection(readme = readFileSync(README_PATH, 'utf8')): string | null {
  const start = readme.indexOf(SECTION_START);
  const end = readme.indexOf(SECTION_END);
  if (start < 0 || end < start) return null;
  return readme.slice(start, end + SECTION_END.length);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const readme = readFileSync(README_PATH, 'utf8');
  const current = readmeSection(readme);
  if (current === null) throw new Error(`README.md has no ${SECTION_START} ... ${SECTION_END} section`);
  writeFileSync(README_PATH, readme.replace(current, contractSection()));
}
