/**
 * The container contract is written down once: README.md's "Container contract" section is made
 * from src/contract.ts (tools/contract-readme.ts), and the README names no OCR_ variable the
 * contract does not declare.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as contract from '../src/contract.ts';
import { ERROR_CODES } from '../src/errors.ts';
import { EXIT } from '../src/batch.ts';
import { contractSection, contractTables, README_PATH, readmeSection } from '../tools/contract-readme.ts';

test('README.md has the Container contract section src/contract.ts makes (run `node tools/contract-readme.ts` after changing the contract)', () => {
  const section = readmeSection();
  assert.ok(section, 'README.md has no container-contract section');
  assert.equal(section, contractSection());
});

test('every table of src/contract.ts and every entry of each is described, and shown in the section', () => {
  const tables = contractTables();
  const exported = Object.entries(contract).filter(([, v]) => typeof v === 'object');
  assert.deepEqual([...tables.keys()].sort(), exported.map(([k]) => k).sort());
  const section = contractSection(tables);
  for (const [name, table] of tables) {
    assert.ok(table.doc.length > 0, `${name} has no description`);
    assert.equal(table.entries.length, Object.keys((contract as Record<string, object>)[name]).length, `${name}: every entry is a plain literal`);
    for (const e of table.entries) {
      assert.ok(e.doc.length > 0, `${name} ${e.value} has no description`);
      assert.ok(section.includes(`| \`${e.value}\` |`), `${name} ${e.value} is missing from the section`);
    }
  }
});

test('README.md names no OCR_ environment variable the contract does not declare', () => {
  const declared = new Set(Object.values(contract).flatMap((v) => (typeof v === 'object' ? Object.values(v).map(String) : [])));
  const other = new Set<string>([...ERROR_CODES, 'OCR_CORPUS' /* the benchmark's corpus folder, see "Tests and benchmark" */]);
  const named = new Set(readFileSync(README_PATH, 'utf8').match(/\bOCR_[A-Z0-9_]+\b/g));
  assert.ok(named.size > 20);
  assert.deepEqual([...named].filter((n) => !declared.has(n) && !other.has(n)), []);
});

test('the Batch entry point exits with the contract\'s codes', () => {
  assert.equal(EXIT, contract.EXIT);
});
