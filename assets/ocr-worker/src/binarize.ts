import type { GreyImage } from './image.ts';

/**
 * ZXing's HybridBinarizer, for an image and its negative in one pass, bit for bit what
 * @zxing/library 0.21 computes for each (a test compares them on corpus photos, rendered pages and
 * noise).
 *
 * Why: the QR search binarises every OCR page twice this way (the image, and its negative for
 * light-on-dark codes). ZXing took 85–110 ms for the two on a 300-dpi A4 page, setting one bit at a
 * time; this takes about half that, because the block statistics of the negative follow from the
 * image's (sum' = 64 * 255 - sum, min' = 255 - max), each row of a block is written as one byte, and
 * a block wholly on one side of its threshold (most of a page) is written without reading its pixels.
 *
 * The algorithm (ZXing's): the image is cut into 8 x 8 blocks. A block's black point is its mean, or,
 * when its range is 24 or less (a flat block), half its minimum, raised to its upper and left
 * neighbours' weighted black point when its minimum is below that. Each block is then thresholded at
 * the mean of the 5 x 5 black points around it (a pixel is dark when it is at or below the
 * threshold). ZXing-js keeps black points in an Int32Array (fractions truncated) and thresholds as
 * floats; so does this. The last block of a row or column is moved inside the image and overlaps its
 * neighbour, whose dark pixels it keeps (ZXing only ever sets bits).
 */

const BLOCK_POWER = 3;
const BLOCK = 1 << BLOCK_POWER;
const MIN_DYNAMIC_RANGE = 24;
/** ZXing's HybridBinarizer falls back to its global binarizer below this size. */
export const HYBRID_MIN_DIMENSION = BLOCK * 5;

/** A bitmap in ZXing's BitMatrix layout: bit x % 32 of word y * rowSize + x / 32 is pixel (x, y), set = dark. */
export interface Bitmap {
  width: number;
  height: number;
  rowSize: number;
  bits: Int32Array;
}

function cap(value: number, min: number, max: number): number {
  return value < min ? min : value > max ? max : value;
}

/** Both binarisations, or null when the image is smaller than ZXing's hybrid binarizer handles. */
export function hybridBinarize(img: GreyImage): { image: Bitmap; negative: Bitmap } | null {
  const { width, height, data } = img;
  if (width < HYBRID_MIN_DIMENSION || height < HYBRID_MIN_DIMENSION) return null;
  const subWidth = (width + BLOCK - 1) >> BLOCK_POWER, subHeight = (height + BLOCK - 1) >> BLOCK_POWER;
  const maxYOffset = height - BLOCK, maxXOffset = width - BLOCK;
  const black = new Int32Array(subWidth * subHeight), blackNeg = new Int32Array(subWidth * subHeight);
  const blockMin = new Uint8Array(subWidth * subHeight), blockMax = new Uint8Array(subWidth * subHeight);
  for (let y = 0; y < subHeight; y++) {
    const yoffset = Math.min(y << BLOCK_POWER, maxYOffset);
    for (let x = 0; x < subWidth; x++) {
      const xoffset = Math.min(x << BLOCK_POWER, maxXOffset);
      let sum = 0, min = 255, max = 0;
      for (let yy = 0, o = yoffset * width + xoffset; yy < BLOCK; yy++, o += width) {
        for (let xx = 0; xx < BLOCK; xx++) {
          const p = data[o + xx];
          sum += p;
          if (p < min) min = p;
          if (p > max) max = p;
        }
      }
      const i = y * subWidth + x;
      blockMin[i] = min;
      blockMax[i] = max;
      if (max - min > MIN_DYNAMIC_RANGE) {
        black[i] = sum >> (2 * BLOCK_POWER);
        blackNeg[i] = (BLOCK * BLOCK * 255 - sum) >> (2 * BLOCK_POWER);
        continue;
      }
      // a flat block: background, unless its neighbours' black points say it is inside a dark area
      let point = min / 2, pointNeg = (255 - max) / 2;
      if (y > 0 && x > 0) {
        const neighbours = (black[i - subWidth] + 2 * black[i - 1] + black[i - subWidth - 1]) / 4;
        if (min < neighbours) point = neighbours;
        const neighboursNeg = (blackNeg[i - subWidth] + 2 * blackNeg[i - 1] + blackNeg[i - subWidth - 1]) / 4;
        if (255 - max < neighboursNeg) pointNeg = neighboursNeg;
      }
      black[i] = point; // Int32Array: truncated, as in ZXing-js
      blackNeg[i] = pointNeg;
    }
  }

  const rowSize = (width + 31) >> 5;
  const bits = new Int32Array(rowSize * height), bitsNeg = new Int32Array(rowSize * height);
  for (let y = 0; y < subHeight; y++) {
    const yoffset = Math.min(y << BLOCK_POWER, maxYOffset);
    const top = cap(y, 2, subHeight - 3);
    for (let x = 0; x < subWidth; x++) {
      const xoffset = Math.min(x << BLOCK_POWER, maxXOffset);
      const left = cap(x, 2, subWidth - 3);
      let sum = 0, sumNeg = 0;
      for (let z = -2; z <= 2; z++) {
        const r = (top + z) * subWidth + left;
        sum += black[r - 2] + black[r - 1] + black[r] + black[r + 1] + black[r + 2];
        sumNeg += blackNeg[r - 2] + blackNeg[r - 1] + blackNeg[r] + blackNeg[r + 1] + blackNeg[r + 2];
      }
      const threshold = sum / 25, thresholdNeg = sumNeg / 25;
      // most blocks of a page lie wholly on one side of both thresholds (from the block's range):
      // then every row of the block is all dark or all light, and no pixel needs reading
      const i = y * subWidth + x, min = blockMin[i], max = blockMax[i];
      const uniform = (max <= threshold || min > threshold) && (255 - min <= thresholdNeg || 255 - max > thresholdNeg);
      const aligned = (xoffset & 31) <= 32 - BLOCK, shift = xoffset & 31, word = xoffset >> 5;
      const fullMask = (1 << BLOCK) - 1;
      const uniformMask = max <= threshold ? fullMask : 0, uniformMaskNeg = 255 - min <= thresholdNeg ? fullMask : 0;
      if (uniform && uniformMask === 0 && uniformMaskNeg === 0) continue;
      for (let yy = 0, o = yoffset * width + xoffset; yy < BLOCK; yy++, o += width) {
        let mask = uniformMask, maskNeg = uniformMaskNeg;
        for (let xx = 0; !uniform && xx < BLOCK; xx++) {
          const p = data[o + xx];
          if (p <= threshold) mask |= 1 << xx;
          if (255 - p <= thresholdNeg) maskNeg |= 1 << xx;
        }
        const row = (yoffset + yy) * rowSize;
        if (aligned) {
          bits[row + word] |= mask << shift;
          bitsNeg[row + word] |= maskNeg << shift;
        } else {
          // the last block of a row, moved inside the image, may straddle two words
          for (let xx = 0; xx < BLOCK; xx++) {
            const px = xoffset + xx;
            if (mask & (1 << xx)) bits[row + (px >> 5)] |= 1 << (px & 31);
            if (maskNeg & (1 << xx)) bitsNeg[row + (px >> 5)] |= 1 << (px & 31);
          }
        }
      }
    }
  }
  return { image: { width, height, rowSize, bits }, negative: { width, height, rowSize, bits: bitsNeg } };
}
