/**
 * Draws a result's word and line boxes over its page: the README's picture, made from a real result.
 *   node --disable-warning=ExperimentalWarning tools/word-boxes-picture.ts [IMAGE] [OUT.png]
 * Runs the engine on IMAGE (default samples/scanned-page.tif, turned upside down so that the boxes
 * show auto-orientation undone), then draws each line's box in blue and each word's in red, with the
 * word's confidence, on the page as given. Default output: bench/word-boxes.png.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { greyCanvas } from './grey-canvas.ts';
import { createEngine } from '../src/index.ts';
import { decodeImageFrame, rotateGrey, toPGM } from '../src/image.ts';
import { detectMediaType } from '../src/media.ts';
import { PACKAGE_ROOT } from '../src/paths.ts';

const input = process.argv[2] ?? join(PACKAGE_ROOT, 'samples', 'scanned-page.tif');
const output = process.argv[3] ?? join(PACKAGE_ROOT, 'bench', 'word-boxes.png');

const bytes = readFileSync(input);
const mediaType = detectMediaType(bytes);
if (!mediaType || mediaType === 'application/pdf') throw new Error(`${input}: an image is needed`);
// the page as the engine is given it: the sample turned 180 degrees when it is the default sample
const page = await decodeImageFrame(bytes, mediaType, 0, 1e9);
const given = process.argv[2] ? page : rotateGrey(page, 180);

const engine = createEngine({ workers: 1 });
const result = await engine.process(toPGM(given), { name: 'page.pgm' });
await engine.close();
const p = result.pages[0];
if (!p?.words) throw new Error(`no words: ${JSON.stringify(result.error ?? p?.error)}`);

const canvas = greyCanvas(given);
const ctx = canvas.getContext('2d');
const box = (b: { left: number; top: number; width: number; height: number }, pad = 0): [number, number, number, number] =>
  [b.left * given.width - pad, b.top * given.height - pad, b.width * given.width + 2 * pad, b.height * given.height + 2 * pad];
ctx.lineWidth = 2;
ctx.strokeStyle = 'rgba(30, 90, 220, 0.9)';
for (const line of p.lines ?? []) ctx.strokeRect(...box(line.bbox, 3));
ctx.lineWidth = 1;
ctx.strokeStyle = 'rgba(220, 30, 30, 0.9)';
ctx.fillStyle = 'rgba(220, 30, 30, 0.9)';
ctx.font = '9px sans-serif';
for (const w of p.words) {
  const [x, y, wd, ht] = box(w.bbox);
  ctx.strokeRect(x, y, wd, ht);
  ctx.fillText(String(Math.round(w.confidence)), x, y + ht + 9);
}
writeFileSync(output, canvas.encodeSync('png'));
console.log(`${output}: ${p.words.length} words, ${p.lines?.length ?? 0} lines, page turned ${p.rotation} degrees to be read`);
