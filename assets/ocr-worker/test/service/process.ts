/**
 * The service as its own process (`node src/service/main.ts`, local mode with a data directory), as an
 * operator runs it: a crash of the service ends only that process, never the test, and signals,
 * SIGKILL and restarts on the same data directory are the real thing. Listens on 127.0.0.1 only.
 */
import assert from 'node:assert/strict';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeImageFrame } from '../../src/image.ts';
import { spawnProcess, whenReady, type SpawnedService } from '../../tools/processes.ts';
import { fixture } from '../helpers/common.ts';
import { imagePdf, PdfWriter } from '../../tools/pdfwriter.ts';

export interface ServiceProcess {
  proc: ChildProcess;
  url: string;
  /** The service's JSON log lines so far. */
  lines: any[];
  /** Resolves with the exit code (null when ended by a signal). */
  exit: Promise<number | null>;
  dataDir: string;
  /** SIGKILL if still running and wait for the exit (a live service could write into a removed folder). */
  kill(): Promise<void>;
}

/** The settings the tests run the service with unless they say otherwise: one OCR worker, short requests. */
const TEST_DEFAULTS = { OCR_WORKERS: '1', OCR_REQUEST_TIMEOUT_SECONDS: '5' };

/** `spawnProcess` with the tests' defaults. */
export function spawnService(env: Record<string, string> = {}): SpawnedService {
  return spawnProcess({ ...TEST_DEFAULTS, ...env });
}

/** Starts the service on a free loopback port and waits for 'ready' (workers warm). A new data directory unless OCR_DATA_DIR is given. */
export async function startService(env: Record<string, string> = {}): Promise<ServiceProcess> {
  const dataDir = env.OCR_DATA_DIR ?? mkdtempSync(join(tmpdir(), 'ocr-svc-'));
  const service = spawnService({ ...env, OCR_DATA_DIR: dataDir });
  const { proc, lines, exit } = service;
  const url = await whenReady(service);
  const kill = async (): Promise<void> => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
    await exit;
  };
  return { proc, url, lines, exit, dataDir, kill };
}

/** Stops the service (SIGKILL if needed) and removes its data directory. */
export async function removeService(svc: ServiceProcess): Promise<void> {
  await svc.kill();
  rmSync(svc.dataDir, { recursive: true, force: true });
}

/** The status item of a document as the local store keeps it on disk. */
export function storedItem(dataDir: string, id: string): any {
  return JSON.parse(readFileSync(join(dataDir, 'status', `${encodeURIComponent(id)}.json`), 'utf8'));
}

/** The scratch folders engines made for their OCR children. */
export function childScratchFolders(): string[] {
  return readdirSync(tmpdir()).filter((f) => f.startsWith('ocr-child-')).map((f) => join(tmpdir(), f));
}

/** Several scanned pages as one PDF: OCR keeps one worker busy for a few seconds. */
export async function scannedPdf(pages: number): Promise<Buffer> {
  const img = await decodeImageFrame(fixture('ocr/phototest.tif'), 'image/tiff', 0, 1e9);
  const one = imagePdf(img, 150);
  // the same page n times: rebuild with n page objects sharing one image
  const src = one.toString('latin1');
  const imageStream = /(\d+) 0 obj\n<< \/Type \/XObject[\s\S]*?endstream/.exec(src);
  assert.ok(imageStream, 'image object found');
  const w = new PdfWriter();
  const catalog = w.reserve();
  const pagesId = w.reserve();
  const imgObj = imageStream[0].slice(imageStream[0].indexOf('\n') + 1);
  const imgId = w.add(Buffer.from(imgObj, 'latin1'));
  const mb = /\/MediaBox \[([^\]]+)\]/.exec(src)![1].trim().split(/\s+/).map(Number);
  const content = w.stream(`q ${mb[2]} 0 0 ${mb[3]} 0 0 cm /Im0 Do Q`);
  const kids: number[] = [];
  for (let i = 0; i < pages; i++) kids.push(w.add(`<< /Type /Page /Parent ${pagesId} 0 R /MediaBox [${mb.join(' ')}] /Resources << /XObject << /Im0 ${imgId} 0 R >> >> /Contents ${content} 0 R >>`));
  w.set(pagesId, `<< /Type /Pages /Kids [${kids.map((k) => `${k} 0 R`).join(' ')}] /Count ${pages} >>`);
  w.set(catalog, `<< /Type /Catalog /Pages ${pagesId} 0 R >>`);
  return w.build(catalog);
}
