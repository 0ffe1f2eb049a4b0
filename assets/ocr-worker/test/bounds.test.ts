import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { createEngine, type Engine } from '../src/index.ts';
import { decodeImageFrame, type GreyImage } from '../src/image.ts';
import { closePdf, openPdf, renderPage } from '../src/pdf.ts';
import { procStat } from '../src/proc.ts';
import { assertValid, fixture } from './helpers/common.ts';
import { ocrChildPids } from '../tools/processes.ts';
import { multiPageTiff } from '../tools/tiff.ts';
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

describe('documents sharing a child at the boundary (the next one starts while the last pages are OCRed)', () => {
  test('GIVEN three documents at once on one child WHEN processed THEN they overlap at the boundaries and each result is its own', async () => {
    const one = createEngine({ workers: 1, timeoutSeconds: 120, memoryMb: 2048 });
    try {
      const scans = multiPageTiff([await decodeImageFrame(fixture('ocr/phototest.tif'), 'image/tiff', 0, 1e9), await decodeImageFrame(fixture('ocr/eurotext.tif'), 'image/tiff', 0, 1e9)]);
      const [a, b, c] = await Promise.all([
        one.process(scans, { name: 'scans.tif' }),
        one.process(fixture('pdf/two_paragraphs.pdf'), { name: 'two_paragraphs.pdf' }),
        one.process(fixture('ocr/phototest.tif'), { name: 'phototest.tif' }),
      ]);
      for (const r of [a, b, c]) { assertValid(r); assert.equal(r.status, 'SUCCEEDED', JSON.stringify(r.error)); }
      assert.equal(a.pages.length, 2);
      assert.match(a.pages[0].text, /quick brown dog/);
      assert.equal(b.source, 'two_paragraphs.pdf');
      assert.equal(b.pages[0].method, 'text-layer');
      assert.match(c.text, /quick brown dog/);
      assert.equal(c.pages.length, 1);
      const s = one.stats();
      assert.ok(s.documentsJoined >= 1, JSON.stringify(s));
      assert.equal(s.documentsRerun, 0);
      assert.equal(s.childrenStarted, 1);
    } finally { await one.close(); }
  });

  test('GIVEN a memory bomb joining a child that is finishing a good document WHEN the child overruns THEN the bomb alone fails and the good document succeeds', async () => {
    const one = createEngine({ workers: 1, timeoutSeconds: 120, memoryMb: 900 });
    try {
      // four 300-dpi pages: after the last one is handed to the single worker, seconds of OCR remain
      const h = await openPdf(fixture('pdf/TAMReview.pdf'));
      const pages: GreyImage[] = [];
      for (const n of [1, 2]) pages.push((await renderPage(h, n, 300, 1e9)).image);
      await closePdf(h);
      const good = multiPageTiff([...pages, ...pages]);
      const [g, bomb] = await Promise.all([
        one.process(good, { name: 'good.tif' }),
        one.process(hugePagePdf(), { name: 'huge-page.pdf', options: { maxPagePixels: 300_000_000 } }),
      ]);
      assertValid(g);
      assertValid(bomb);
      assert.equal(bomb.error?.code, 'RESOURCE_LIMIT');
      assert.equal(g.status, 'SUCCEEDED', JSON.stringify(g.error));
      assert.equal(g.pages.length, 4);
      assert.ok(g.pages.every((p) => !p.error && p.text.length > 100));
      const s = one.stats();
      assert.ok(s.documentsJoined >= 1, 'the bomb joined the child of the good document');
      assert.ok(s.documentsRerun >= 1, 'the overrun could not be pinned on one document: both ran again, alone');
    } finally { await one.close(); }
  });
});

describe('a child that died a moment ago (its exit not yet seen by the parent)', () => {
  /** The one child a new engine starts when warmed. */
  async function warmOne(e: Engine): Promise<number> {
    const others = new Set(ocrChildPids());
    await e.warm();
    const started = ocrChildPids().filter((pid) => !others.has(pid));
    assert.equal(started.length, 1);
    return started[0];
  }
  /**
   * SIGKILL, then wait without yielding to the event loop until the kernel has it dead: a zombie whose
   * threads are all gone (the leader turns Z first; the open files, the IPC socket among them, close
   * with the last thread). The parent has not seen the exit yet.
   */
  function killUnseen(pid: number): void {
    process.kill(pid, 'SIGKILL');
    const until = Date.now() + 5000;
    const dead = (): boolean => procStat(`/proc/${pid}/stat`).fields[0] === 'Z' && readdirSync(`/proc/${pid}/task`).length <= 1;
    while (!dead()) if (Date.now() > until) throw new Error(`child ${pid} did not die`);
  }

  test('GIVEN such a child WHEN a document is handed to it THEN the document runs again on a new child and succeeds', async () => {
    const e = createEngine({ workers: 1, timeoutSeconds: 30 });
    try {
      killUnseen(await warmOne(e));
      const r = await e.process(fixture('pdf/two_paragraphs.pdf'), { name: 'two_paragraphs.pdf' });
      assertValid(r);
      assert.equal(r.status, 'SUCCEEDED', JSON.stringify(r.error));
      assert.equal(e.stats().documentsRerun, 1);
    } finally { await e.close(); }
  });

  test('GIVEN such a child WHEN the engine is closed THEN close resolves (no unhandled IPC error)', async () => {
    const e = createEngine({ workers: 1 });
    const pid = await warmOne(e);
    killUnseen(pid);
    await e.close();
    assert.equal(e.state, 'closed');
    assert.ok(!existsSync(`/proc/${pid}`), 'close() waited for the exit (the parent reaped the child)');
  });
});
