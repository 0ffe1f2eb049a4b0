/**
 * What word geometry and the searchable PDF add per page: CPU (this process: tesseract.js' worker
 * threads, pdf.js and pdf-lib all run in it) and bytes, on the corpus pages of the tests.
 *   node --disable-warning=ExperimentalWarning bench/geometry-bench.ts
 * Writes bench/geometry-results.json and prints a Markdown table for the README.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { PDFDocument } from 'pdf-lib';
import { decodeImageFrame, type GreyImage } from '../src/image.ts';
import { OcrPool } from '../src/ocr.ts';
import { closePdf, openPdf, readTextLayer } from '../src/pdf.ts';
import type { PageResult } from '../src/result.ts';
import { searchablePdf } from '../src/searchable-pdf.ts';
import { PACKAGE_ROOT } from '../src/paths.ts';
import { greyToPng } from '../tools/grey-canvas.ts';

const FIXTURES = join(PACKAGE_ROOT, 'test', 'fixtures');
const ROUNDS = 3;

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

async function measure<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const t0 = cpuMs();
  const value = await work();
  return { ms: cpuMs() - t0, value };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

const pageJsonBytes = (p: Partial<PageResult>): number => Buffer.byteLength(JSON.stringify(p));

async function main(): Promise<void> {
  const results: Record<string, unknown> = { date: new Date().toISOString(), cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, rounds: ROUNDS };

  // 1. OCR pages (tesseract.js): recognition with and without its TSV word boxes
  const pool = new OcrPool(1, 'eng', 'tesseract.js');
  await pool.warm();
  const scans = await Promise.all(['phototest.tif', 'eurotext.tif'].map(async (f) => ({ name: f, bytes: readFileSync(join(FIXTURES, 'ocr', f)), img: await decodeImageFrame(readFileSync(join(FIXTURES, 'ocr', f)), 'image/tiff', 0, 1e9) })));
  const ocr: Array<Record<string, unknown>> = [];
  const ocrPages: Array<{ name: string; img: GreyImage; bytes: Buffer; page: PageResult }> = [];
  for (const s of scans) {
    await pool.recognize(s.img, undefined, false, true); // warm-up
    const without: number[] = [], withGeometry: number[] = [];
    let r = await pool.recognize(s.img, undefined, false, true);
    for (let i = 0; i < ROUNDS; i++) {
      without.push((await measure(() => pool.recognize(s.img, undefined, false, false))).ms);
      const m = await measure(() => pool.recognize(s.img, undefined, false, true));
      withGeometry.push(m.ms);
      r = m.value;
    }
    const page: PageResult = { pageNumber: 1, method: 'ocr', text: r.text, confidence: r.confidence, qrCodes: [], error: null, durationMs: 0, words: r.geometry!.words, lines: r.geometry!.lines };
    const { words: _w, lines: _l, ...textOnly } = page;
    ocr.push({ page: s.name, words: page.words!.length, ocrCpuMs: Math.round(median(without)), geometryCpuMs: Math.round(median(withGeometry) - median(without)),
      jsonBytesWithout: pageJsonBytes(textOnly), jsonBytesAdded: pageJsonBytes(page) - pageJsonBytes(textOnly) });
    ocrPages.push({ name: s.name, img: s.img, bytes: s.bytes, page });
  }
  await pool.close();
  results.ocr = ocr;

  // 2. text-layer pages: pdf.js text items split into words
  const textLayer: Array<Record<string, unknown>> = [];
  for (const f of ['basicapi.pdf', '160F-2019.pdf', 'standard_fonts.pdf']) {
    const h = await openPdf(readFileSync(join(FIXTURES, 'pdf', f)));
    const without: number[] = [], withGeometry: number[] = [];
    let words = 0, added = 0, base = 0;
    for (let i = 0; i < ROUNDS; i++) {
      without.push((await measure(async () => { for (let n = 1; n <= h.numPages; n++) await readTextLayer(h, n, false); })).ms / h.numPages);
      withGeometry.push((await measure(async () => {
        words = 0; added = 0; base = 0;
        for (let n = 1; n <= h.numPages; n++) {
          const tl = await readTextLayer(h, n, true);
          const textOnly = { pageNumber: n, method: 'text-layer', text: tl.text, confidence: null, qrCodes: [], error: null, durationMs: 0 };
          words += tl.geometry!.words.length;
          base += pageJsonBytes(textOnly as Partial<PageResult>);
          added += pageJsonBytes({ ...textOnly, ...tl.geometry } as Partial<PageResult>) - pageJsonBytes(textOnly as Partial<PageResult>);
        }
      })).ms / h.numPages);
    }
    textLayer.push({ document: f, pages: h.numPages, wordsPerPage: Math.round(words / h.numPages), readCpuMsPerPage: Math.round(median(without) * 10) / 10,
      geometryCpuMsPerPage: Math.round((median(withGeometry) - median(without)) * 10) / 10, jsonBytesPerPageWithout: Math.round(base / h.numPages), jsonBytesPerPageAdded: Math.round(added / h.numPages) });
    await closePdf(h);
  }
  results.textLayer = textLayer;

  // 3. searchable PDF: a scanned PDF (the two scans as PNG pages) gains its text layer; each scan as an image input
  const doc = await PDFDocument.create();
  for (const p of ocrPages) {
    const image = await doc.embedPng(greyToPng(p.img));
    const page = doc.addPage([p.img.width * 72 / 300, p.img.height * 72 / 300]);
    page.drawImage(image, { x: 0, y: 0, width: page.getWidth(), height: page.getHeight() });
  }
  const scannedPdf = await doc.save();
  const pdfPages = ocrPages.map((p, i) => ({ ...p.page, pageNumber: i + 1 }));
  const pdfRuns: number[] = [];
  let pdfOut: Uint8Array = new Uint8Array();
  for (let i = 0; i < ROUNDS; i++) {
    const m = await measure(() => searchablePdf(scannedPdf, 'application/pdf', pdfPages, 1e9));
    pdfRuns.push(m.ms);
    pdfOut = m.value;
  }
  const imageInputs: Array<Record<string, unknown>> = [];
  for (const p of ocrPages) {
    const runs: number[] = [];
    let out: Uint8Array = new Uint8Array();
    for (let i = 0; i < ROUNDS; i++) {
      const m = await measure(() => searchablePdf(p.bytes, 'image/tiff', [p.page], 1e9));
      runs.push(m.ms);
      out = m.value;
    }
    imageInputs.push({ input: p.name, inputBytes: p.bytes.length, outputBytes: out.byteLength, cpuMs: Math.round(median(runs)) });
  }
  results.searchablePdf = {
    pdfInput: { pages: pdfPages.length, inputBytes: scannedPdf.byteLength, outputBytes: pdfOut.byteLength, bytesAddedPerPage: Math.round((pdfOut.byteLength - scannedPdf.byteLength) / pdfPages.length),
      cpuMsPerPage: Math.round(median(pdfRuns) / pdfPages.length) },
    imageInputs,
  };

  writeFileSync(join(PACKAGE_ROOT, 'bench', 'geometry-results.json'), JSON.stringify(results, null, 2) + '\n');
  console.log(JSON.stringify(results, null, 2));
}

await main();
