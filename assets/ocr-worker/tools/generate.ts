import { createRequire } from 'node:module';
import { toPGM, type GreyImage } from '../src/image.ts';

const require = createRequire(import.meta.url);
const ZX = require('@zxing/library');

/** Draws QR codes (module size in px) on a white page of width x height px; returns greyscale. */
export function qrPage(width: number, height: number, codes: Array<{ text: string; x: number; y: number; module: number }>): GreyImage {
  const data = new Uint8Array(width * height).fill(255);
  const writer = new ZX.QRCodeWriter();
  for (const c of codes) {
    const m = writer.encode(c.text, ZX.BarcodeFormat.QR_CODE, 0, 0, new Map());
    const n = m.getWidth();
    for (let my = 0; my < n; my++) {
      for (let mx = 0; mx < n; mx++) {
        if (!m.get(mx, my)) continue;
        for (let dy = 0; dy < c.module; dy++) {
          const row = (c.y + my * c.module + dy) * width + c.x + mx * c.module;
          data.fill(0, row, row + c.module);
        }
      }
    }
  }
  return { width, height, data };
}

export function pgm(img: GreyImage): Buffer {
  return toPGM(img);
}

/**
 * A photo placed on a page: on `background` (a copy is changed) or on white, at (x, y), cropped at
 * the page's edge; `negative` pastes the photo's negative (a light-on-dark code).
 */
export function placeOnPage(photo: GreyImage, page: GreyImage | { width: number; height: number }, x: number, y: number,
  negative = false): GreyImage {
  const { width, height } = page;
  const data = 'data' in page ? new Uint8Array(page.data) : new Uint8Array(width * height).fill(255);
  for (let r = 0; r < photo.height && y + r < height; r++) {
    for (let c = 0; c < photo.width && x + c < width; c++) {
      const v = photo.data[r * photo.width + c];
      data[(y + r) * width + x + c] = negative ? 255 - v : v;
    }
  }
  return { width, height, data };
}
