#!/usr/bin/env node
/**
 * Copies the service load-test results (assets/ocr-worker/bench/SERVICE-RESULTS.md, written by
 * `npm run bench:service`) into README.md between <!-- bench-service:start/end -->. The engine's table
 * is written into README by bench.ts itself. Part of `npm run bench`; test/readme.test.ts checks both.
 */
const fs = require('fs');
const path = require('path');

const root = path.join(__dirname, '..');
const results = fs.readFileSync(path.join(root, 'assets', 'ocr-worker', 'bench', 'SERVICE-RESULTS.md'), 'utf8');
const body = results.split('\n').slice(2).join('\n').trim();
const file = path.join(root, 'README.md');
const readme = fs.readFileSync(file, 'utf8');
const start = '<!-- bench-service:start -->';
const end = '<!-- bench-service:end -->';
const a = readme.indexOf(start);
const b = readme.indexOf(end);
if (a < 0 || b < a) throw new Error(`README.md has no ${start} ... ${end} markers`);
fs.writeFileSync(file, `${readme.slice(0, a + start.length)}\n${body}\n${readme.slice(b)}`);
console.log('README service load-test table updated');
