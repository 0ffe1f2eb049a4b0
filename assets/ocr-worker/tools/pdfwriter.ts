import { deflateSync } from 'node:zlib';

/** A minimal PDF writer for generated test inputs: objects are strings or streams. */
export class PdfWriter {
  private objects: Array<Buffer | null> = [];

  reserve(): number {
    this.objects.push(null);
    return this.objects.length;
  }

  set(id: number, body: string | Buffer): void {
    this.objects[id - 1] = Buffer.isBuffer(body) ? body : Buffer.from(body, 'latin1');
  }

  add(body: string | Buffer): number {
    const id = this.reserve();
    this.set(id, body);
    return id;
  }

  stream(data: Buffer | string, dict = '', compress = true): number {
    const raw = Buffer.isBuffer(data) ? data : Buffer.from(data, 'latin1');
    const body = compress ? deflateSync(raw, { level: 9 }) : raw;
    return this.add(Buffer.concat([
      Buffer.from(`<< ${dict} /Length ${body.length}${compress ? ' /Filter /FlateDecode' : ''} >>\nstream\n`, 'latin1'),
      body,
      Buffer.from('\nendstream', 'latin1'),
    ]));
  }

  /** Serialises with a correct cross-reference table; `root` is the catalog object id. */
  build(root: number): Buffer {
    const parts: Buffer[] = [Buffer.from('%PDF-1.7\n%\xe2\xe3\xcf\xd3\n', 'latin1')];
    let offset = parts[0].length;
    const offsets: number[] = [];
    this.objects.forEach((body, i) => {
      if (!body) throw new Error(`object ${i + 1} reserved but never set`);
      const chunk = Buffer.concat([Buffer.from(`${i + 1} 0 obj\n`, 'latin1'), body, Buffer.from('\nendobj\n', 'latin1')]);
      offsets.push(offset);
      offset += chunk.length;
      parts.push(chunk);
    });
    let xref = `xref\n0 ${this.objects.length + 1}\n0000000000 65535 f \n`;
    for (const o of offsets) xref += `${String(o).padStart(10, '0')} 00000 n \n`;
    xref += `trailer\n<< /Size ${this.objects.length + 1} /Root ${root} 0 R >>\nstartxref\n${offset}\n%%EOF\n`;
    parts.push(Buffer.from(xref, 'latin1'));
    return Buffer.concat(parts);
  }
}

function pdfString(s: string): string {
  return '(' + s.replace(/[\\()]/g, (c) => '\\' + c) + ')';
}

/** A born-digital PDF: each page's lines drawn in Helvetica 12 pt (a standard 14 font). */
export function textPdf(pages: string[][]): Buffer {
  const w = new PdfWriter();
  const catalog = w.reserve();
  const pagesId = w.reserve();
  const font = w.add('<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>');
  const kids: number[] = [];
  for (const lines of pages) {
    let content = 'BT /F1 12 Tf 14 TL 72 720 Td\n';
    for (const l of lines) content += `${pdfString(l)} '\n`;
    content += 'ET\n';
    const c = w.stream(content);
    kids.push(w.add(`<< /Type /Page /Parent ${pagesId} 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 ${font} 0 R >> >> /Contents ${c} 0 R >>`));
  }
  w.set(pagesId, `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${kids.length} >>`);
  w.set(catalog, `<< /Type /Catalog /Pages ${pagesId} 0 R >>`);
  return w.build(catalog);
}

/** A PDF page that shows a greyscale image (8 bpc) scaled to the page: a "scanned" PDF. */
export function imagePdf(grey: { width: number; height: number; data: Uint8Array }, dpi = 300): Buffer {
  const w = new PdfWriter();
  const catalog = w.reserve();
  const pagesId = w.reserve();
  const pw = (grey.width * 72) / dpi, ph = (grey.height * 72) / dpi;
  const img = w.stream(Buffer.from(grey.data), `/Type /XObject /Subtype /Image /Width ${grey.width} /Height ${grey.height} /ColorSpace /DeviceGray /BitsPerComponent 8`);
  const c = w.stream(`q ${pw.toFixed(2)} 0 0 ${ph.toFixed(2)} 0 0 cm /Im1 Do Q\n`);
  const page = w.add(`<< /Type /Page /Parent ${pagesId} 0 R /MediaBox [0 0 ${pw.toFixed(2)} ${ph.toFixed(2)}] /Resources << /XObject << /Im1 ${img} 0 R >> >> /Contents ${c} 0 R >>`);
  w.set(pagesId, `<< /Type /Pages /Kids [${page} 0 R] /Count 1 >>`);
  w.set(catalog, `<< /Type /Catalog /Pages ${pagesId} 0 R >>`);
  return w.build(catalog);
}
