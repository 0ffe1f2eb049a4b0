import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createEngine } from '../src/index.ts';
import { assertValid, fixture } from './helpers/common.ts';
import { bombPng, endlessPdf, hugePagePdf } from './hostile.ts';

// 4 s per document, 900 MiB per document
const engine = createEngine({ workers: 2, timeoutSeconds: 4, memoryMb: 900 });
after(async () => { await engine.close(); });

test('a document that never finishes is stopped with TIMEOUT; the next document is fine', async () => {
  const t0 = Date.now();
  const r = await engine.process(endlessPdf(), { name: 'endless.pdf' });
  assertValid(r);
  assert.equal(r.status, 'FAILED');
  assert.equal(r.error?.code, 'TIMEOUT');
  assert.ok(Date.now() - t0 < 20_000);
  const next = await engine.process(fixture('pdf/two_paragraphs.pdf'), { name: 'two_paragraphs.pdf' });
  assert.equal(next.status, 'SUCCEEDED');
});

test('a 20,000 x 20,000 pt page is rendered within the pixel budget (lower DPI)', async () => {
  const big = createEngine({ workers: 1, timeoutSeconds: 60, memoryMb: 2048 });
  try {
    const r = await big.process(hugePagePdf(), { name: 'huge-page.pdf' });
    assertValid(r);
    assert.equal(r.status, 'SUCCEEDED');
    assert.ok((r.pages[0].dpi ?? 300) < 30, `dpi ${r.pages[0].dpi}`);
  } finally { await big.close(); }
});

test('the same page with no pixel budget overruns the memory limit: RESOURCE_LIMIT, process killed', async () => {
  const r = await engine.process(hugePagePdf(), { name: 'huge-page.pdf', options: { maxPagePixels: 300_000_000 } });
  assertValid(r);
  assert.equal(r.error?.code, 'RESOURCE_LIMIT');
  const next = await engine.process(fixture('pdf/two_paragraphs.pdf'), { name: 'after.pdf' });
  assert.equal(next.status, 'SUCCEEDED');
});

test('a decompression-bomb PNG is refused before decoding', async () => {
  const r = await engine.process(bombPng(), { name: 'bomb.png' });
  assertValid(r);
  assert.equal(r.error?.code, 'RESOURCE_LIMIT');
});
