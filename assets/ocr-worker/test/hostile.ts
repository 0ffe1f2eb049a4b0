/**
 * Generator of hostile inputs for the bounds tests (and for trying the bounds by hand):
 *   node test/hostile.ts OUTDIR   writes huge-page.pdf, endless.pdf, endless.tif, bomb.png
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { PdfWriter } from '../tools/pdfwriter.ts';

/** One page of 20,000 x 20,000 pt (about 7 metres square) with a little text and a filled box. */
export function hugePagePdf(): Buffer {
  const w = new PdfWriter();
  const catalog = w.reserve();
  const pagesId = w.reserve();
  const font = w.add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>');
  const c = w.stream('0.5 g 1000 1000 18000 18000 re f\n');
  const page = w.add(`<< /Type /Page /Parent ${pagesId} 0 R /MediaBox [0 0 20000 20000] /Resources << /Font << /F1 ${font} 0 R >> >> /Contents ${c} 0 R >>`);
  w.set(pagesId, `<< /Type /Pages /Kids [${page} 0 R] /Count 1 >>`);
  w.set(catalog, `<< /Type /Catalog /Pages ${pagesId} 0 R >>`);
  return w.build(catalog);
}

/**
 * A document that never finishes: `pages` pages (default 100,000) that all share one content
 * stream drawing a dense pattern and no text, so every page must be rendered and OCRed. Memory stays
 * flat (pages are processed one after another); only the time limit stops it.
 */
export function endlessPdf(pages = 100_000): Buffer {
  const w = new PdfWriter();
  const catalog = w.reserve();
  const pagesId = w.reserve();
  let content = '0 g\n';
  for (let y = 0; y < 60; y++) for (let x = 0; x < 40; x++) if ((x * 7 + y * 13) % 3 === 0) content += `${36 + x * 13} ${36 + y * 12} 9 7 re\n`;
  content += 'f\n';
  const c = w.stream(content);
  // a balanced page tree: intermediate nodes of 1,000 kids
  const leafParents: number[] = [];
  const perNode = 1000;
  const nodes = Math.ceil(pages / perNode);
  for (let i = 0; i < nodes; i++) leafParents.push(w.reserve());
  for (let i = 0; i < nodes; i++) {
    const n = Math.min(perNode, pages - i * perNode);
    const kids: number[] = [];
    for (let k = 0; k < n; k++) kids.push(w.add(`<< /Type /Page /Parent ${leafParents[i]} 0 R /MediaBox [0 0 612 792] /Contents ${c} 0 R >>`));
    w.set(leafParents[i], `<< /Type /Pages /Parent ${pagesId} 0 R /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${n} >>`);
  }
  w.set(pagesId, `<< /Type /Pages /Kids [${leafParents.map((k) => `${k} 0 R`).join(' ')}] /Count ${pages} >>`);
  w.set(catalog, `<< /Type /Catalog /Pages ${pagesId} 0 R >>`);
  return w.build(catalog);
}

function crc32(buf: Buffer): number {
  let c, crc = 0xffffffff;
  for (let n = 0; n < buf.length; n++) {
    c = (crc ^ buf[n]) & 0xff;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    crc = (crc >>> 8) ^ c;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

function chunk(type: string, data: Buffer): Buffer {
  const len = Buffer.alloc(4); len.writeUInt32BE(data.length);
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const crc = Buffer.alloc(4); crc.writeUInt32BE(crc32(td));
  return Buffer.concat([len, td, crc]);
}

/** A decompression bomb: a 40,000 x 40,000 greyscale PNG (1.6 gigapixels) of a few hundred KiB. */
export function bombPng(side = 40_000): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(side, 0); ihdr.writeUInt32BE(side, 4); ihdr[8] = 8; ihdr[9] = 0; ihdr[10] = 0; ihdr[11] = 0; ihdr[12] = 0;
  // a single zero row repeated, compressed as one stream (filter byte 0 + zeros)
  const row = Buffer.alloc(side + 1, 0);
  const rows = Buffer.concat(Array.from({ length: 256 }, () => row));
  const deflated = deflateSync(rows); // only 256 rows of data: truncated but the header claims 40,000
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflated), chunk('IEND', Buffer.alloc(0))]);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const out = process.argv[2] ?? 'hostile-out';
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, 'huge-page.pdf'), hugePagePdf());
  writeFileSync(join(out, 'endless.pdf'), endlessPdf());
  writeFileSync(join(out, 'bomb.png'), bombPng());
  process.stdout.write(`wrote huge-page.pdf, endless.pdf, bomb.png to ${out}\n`);
}
