import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, copyFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { validateResult } from '../src/index.ts';
import { FIXTURES, PKG } from './helpers/common.ts';

const OCR = join(PKG, 'bin', 'ocr');

test('bin/ocr from another directory, relative paths, JSON lines, one per FILE even when it cannot be read, exit 1 when one fails', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'ocr-cli-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  copyFileSync(join(FIXTURES, 'pdf/two_paragraphs.pdf'), join(dir, 'doc.pdf'));
  writeFileSync(join(dir, 'notes.txt'), 'not a document');
  mkdirSync(join(dir, 'scans'));
  const r = spawnSync(OCR, ['--workers', '1', 'doc.pdf', 'notes.txt', 'missing.pdf', 'scans'], { cwd: dir, encoding: 'utf8' });
  assert.equal(r.status, 1, r.stderr);
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.deepEqual(lines.map((l) => l.source), ['doc.pdf', 'notes.txt', 'missing.pdf', 'scans']);
  for (const l of lines) assert.deepEqual(validateResult(l), []);
  assert.equal(lines[0].status, 'SUCCEEDED');
  assert.equal(lines[1].error.code, 'UNSUPPORTED_MEDIA_TYPE');
  assert.deepEqual([lines[2].status, lines[2].error.code, lines[2].error.message], ['FAILED', 'INPUT_NOT_FOUND', 'missing.pdf does not exist.']);
  assert.deepEqual([lines[3].status, lines[3].error.code], ['FAILED', 'INPUT_UNREADABLE']);
  assert.match(lines[3].error.message, /^scans cannot be read: EISDIR/);
  assert.match(r.stderr, /\[1\/4\] doc\.pdf/);
  assert.match(r.stderr, /page 1 done \(1\/1\)/);
});

test('bin/ocr exit 0 on the samples; 2 on usage errors', () => {
  // the README demo: bin/ocr samples/*
  const samples = readdirSync(join(PKG, 'samples')).sort().map((f) => join(PKG, 'samples', f));
  const ok = spawnSync(OCR, ['--workers', '2', ...samples], { encoding: 'utf8' });
  assert.equal(ok.status, 0, ok.stderr);
  const res = ok.stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(res.length, samples.length);
  assert.equal(res.find((r) => r.source.endsWith('qr-photo.png')).qrCodes.length, 1);
  assert.equal(spawnSync(OCR, [], { encoding: 'utf8' }).status, 2);
  assert.equal(spawnSync(OCR, ['--dpi', 'abc', 'x.pdf'], { encoding: 'utf8' }).status, 2);
  assert.equal(spawnSync(OCR, ['--bogus', 'x.pdf'], { encoding: 'utf8' }).status, 2);
  const noData = spawnSync(OCR, ['--lang', 'eng+fra', 'x.pdf'], { encoding: 'utf8' });
  assert.equal(noData.status, 2);
  assert.match(noData.stderr, /No language data for 'fra' in this worker: install the npm package @tesseract\.js-data\/fra/);
  const badEngine = spawnSync(OCR, ['--ocr-engine', 'ocrad', 'x.pdf'], { encoding: 'utf8' });
  assert.equal(badEngine.status, 2);
  assert.match(badEngine.stderr, /--ocr-engine must be one of 'tesseract.js', 'tesseract', got 'ocrad'/);
});
