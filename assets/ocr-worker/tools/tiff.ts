import type { GreyImage } from '../src/image.ts';

/**
 * Writes an uncompressed 8-bit greyscale multi-page TIFF (little endian), one IFD per page, at `dpi`
 * (or `{ x, y }` for axes that differ, as a fax's); with
 * `orientation` (2-8), each page has that Orientation tag (274), its pixels stored as they are given.
 */
export function multiPageTiff(pages: GreyImage[], dpi: number | { x: number; y: number } = 300, orientation?: number): Buffer {
  const { x: xDpi, y: yDpi } = typeof dpi === 'number' ? { x: dpi, y: dpi } : dpi;
  const entries = orientation === undefined ? 11 : 12;
  const ifdSize = 2 + entries * 12 + 4 + 16; // + two RATIONALs (x/y resolution)
  let size = 8;
  const layout = pages.map((p) => {
    const ifd = size; size += ifdSize;
    const data = size; size += p.width * p.height;
    if (size % 2) size++;
    return { ifd, data };
  });
  const b = Buffer.alloc(size);
  b.write('II', 0, 'latin1'); b.writeUInt16LE(42, 2); b.writeUInt32LE(layout[0]?.ifd ?? 0, 4);
  pages.forEach((p, i) => {
    const { ifd, data } = layout[i];
    let o = ifd;
    b.writeUInt16LE(entries, o); o += 2;
    const rat = ifd + 2 + entries * 12 + 4;
    const tag = (t: number, type: number, count: number, value: number): void => {
      b.writeUInt16LE(t, o); b.writeUInt16LE(type, o + 2); b.writeUInt32LE(count, o + 4);
      if (type === 3 && count === 1) b.writeUInt16LE(value, o + 8); else b.writeUInt32LE(value, o + 8);
      o += 12;
    };
    tag(256, 4, 1, p.width); tag(257, 4, 1, p.height); tag(258, 3, 1, 8); tag(259, 3, 1, 1); tag(262, 3, 1, 1);
    tag(273, 4, 1, data); if (orientation !== undefined) tag(274, 3, 1, orientation); tag(277, 3, 1, 1); tag(278, 4, 1, p.height); tag(279, 4, 1, p.width * p.height);
    tag(282, 5, 1, rat); tag(283, 5, 1, rat + 8);
    b.writeUInt32LE(i + 1 < pages.length ? layout[i + 1].ifd : 0, o);
    b.writeUInt32LE(xDpi, rat); b.writeUInt32LE(1, rat + 4); b.writeUInt32LE(yDpi, rat + 8); b.writeUInt32LE(1, rat + 12);
    Buffer.from(p.data.buffer, p.data.byteOffset, p.data.byteLength).copy(b, data);
  });
  return b;
}
