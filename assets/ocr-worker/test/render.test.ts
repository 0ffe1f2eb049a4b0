import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closePdf, openPdf, renderPage } from '../src/pdf.ts';
import { fixture } from './helpers/common.ts';

// Each test file runs in a process of its own: the first render below is on a new canvas, the
// later ones on the canvas the renderer keeps from the page before (src/pdf.ts, canvasOfSize).
test('a page rendered on the kept canvas (after other pages, one pixel larger) has the pixels of a fresh render', async () => {
  const scan = await openPdf(new Uint8Array(fixture('pdf/TAMReview.pdf')));
  const form = await openPdf(new Uint8Array(fixture('pdf/160F-2019.pdf')));
  try {
    const page1 = (await renderPage(scan, 1, 300, 36e6)).image; // 2480 x 3509, new canvas
    const formFresh = (await renderPage(form, 1, 300, 36e6)).image; // 2481 x 3508: too wide, new canvas
    await renderPage(scan, 5, 300, 36e6); // 2481 x 3509, new canvas (figures), kept afterwards
    const page1Again = (await renderPage(scan, 1, 300, 36e6)).image; // on the kept 2481 x 3509 canvas
    const formAgain = (await renderPage(form, 1, 300, 36e6)).image; // on the same canvas again
    assert.deepEqual([page1Again.width, page1Again.height], [page1.width, page1.height]);
    assert.ok(Buffer.from(page1Again.data).equals(Buffer.from(page1.data)), 'page 1 differs on the kept canvas');
    assert.deepEqual([formAgain.width, formAgain.height], [formFresh.width, formFresh.height]);
    assert.ok(Buffer.from(formAgain.data).equals(Buffer.from(formFresh.data)), 'the form differs on the kept canvas');
  } finally {
    await closePdf(scan);
    await closePdf(form);
  }
});
