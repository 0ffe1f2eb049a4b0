import { OcrError } from './errors.ts';

export type MediaType =
  | 'application/pdf'
  | 'image/png'
  | 'image/jpeg'
  | 'image/tiff'
  | 'image/gif'
  | 'image/webp'
  | 'image/bmp'
  | 'image/x-portable-anymap';

export const SUPPORTED_MEDIA_TYPES: readonly MediaType[] = [
  'application/pdf', 'image/png', 'image/jpeg', 'image/tiff', 'image/gif', 'image/webp', 'image/bmp',
  'image/x-portable-anymap',
];

function startsWith(b: Uint8Array, sig: number[], at = 0): boolean {
  if (b.length < at + sig.length) return false;
  for (let i = 0; i < sig.length; i++) if (b[at + i] !== sig[i]) return false;
  return true;
}

/** Detects the media type from the content (magic numbers), never from the file name. */
export function sniffMediaType(bytes: Uint8Array): MediaType | null {
  // PDF: "%PDF-" within the first 1024 bytes (readers tolerate leading junk)
  const head = Buffer.from(bytes.buffer, bytes.byteOffset, Math.min(bytes.length, 1024)).toString('latin1');
  if (head.includes('%PDF-')) return 'application/pdf';
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) || startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a])) return 'image/tiff';
  if (startsWith(bytes, [0x47, 0x49, 0x46, 0x38])) return 'image/gif';
  if (startsWith(bytes, [0x52, 0x49, 0x46, 0x46]) && startsWith(bytes, [0x57, 0x45, 0x42, 0x50], 8)) return 'image/webp';
  if (startsWith(bytes, [0x42, 0x4d]) && bytes.length > 26) return 'image/bmp';
  if (bytes.length > 3 && bytes[0] === 0x50 && bytes[1] >= 0x31 && bytes[1] <= 0x36 && /\s/.test(String.fromCharCode(bytes[2]))) {
    return 'image/x-portable-anymap';
  }
  return null;
}

export function detectMediaType(bytes: Uint8Array): MediaType {
  if (bytes.length === 0) throw new OcrError('EMPTY_INPUT', 'The document is empty (0 bytes).');
  const t = sniffMediaType(bytes);
  if (!t) {
    throw new OcrError('UNSUPPORTED_MEDIA_TYPE',
      `Unsupported content (first bytes ${Buffer.from(bytes.subarray(0, 8)).toString('hex')}); supported: ${SUPPORTED_MEDIA_TYPES.join(', ')}.`);
  }
  return t;
}
