/**
 * A greyscale image (as the worker decodes pages) drawn on a canvas, and encoded as PNG or JPEG:
 * for tests, benchmarks and pictures that need a page in another image format, or to draw on it.
 */
import { createCanvas, type Canvas } from '@napi-rs/canvas';
import type { GreyImage } from '../src/image.ts';

export function greyCanvas(img: GreyImage): Canvas {
  const canvas = createCanvas(img.width, img.height);
  const ctx = canvas.getContext('2d');
  const data = ctx.createImageData(img.width, img.height);
  for (let i = 0; i < img.data.length; i++) {
    data.data[4 * i] = data.data[4 * i + 1] = data.data[4 * i + 2] = img.data[i];
    data.data[4 * i + 3] = 255;
  }
  ctx.putImageData(data, 0, 0);
  return canvas;
}

export const greyToPng = (img: GreyImage): Buffer => greyCanvas(img).encodeSync('png');
export const greyToJpeg = (img: GreyImage, quality = 95): Buffer => greyCanvas(img).encodeSync('jpeg', quality);
