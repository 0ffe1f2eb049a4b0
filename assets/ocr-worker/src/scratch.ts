/**
 * Scratch folders of the engine's OCR children: `<TMPDIR>/ocr-child-<pid>-<start>-XXXXXX`, named after
 * the engine's process. The engine removes a child's folder when the child exits, and a child whose
 * parent died removes its own; only when both are killed (a crashed container, kill -9 of the process
 * group) is a folder left behind. The next engine to start removes those: a folder whose process is no
 * longer running. The process is known by its pid and its start time, so a pid used again by another
 * process (a restarted container often has the same) is not taken for the one that made the folder.
 *
 * Where /proc cannot tell (not Linux) folders carry no process and nothing is removed. TMPDIR is
 * assumed to be this host's or this container's: a process in another pid namespace sharing it would
 * look gone.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { procStat } from './proc.ts';

const PREFIX = 'ocr-child-';
const OWNED = /^ocr-child-(\d+)-(\d+)-[A-Za-z0-9]{6}$/;

/**
 * `<pid>-<start time in clock ticks since boot>` of a running process; undefined when it is not running
 * (a zombie has ended: nobody reaped it yet) or /proc cannot tell.
 */
export function processTag(pid: number): string | undefined {
  try {
    const { fields } = procStat(`/proc/${pid}/stat`);
    return fields[0] === 'Z' ? undefined : `${pid}-${fields[19]}`;
  } catch {
    return undefined;
  }
}

/** A new scratch folder for an OCR child of this process. */
export function makeChildScratch(): string {
  const self = processTag(process.pid);
  return mkdtempSync(join(os.tmpdir(), self ? `${PREFIX}${self}-` : PREFIX));
}

/** Removes the children's scratch folders whose process is no longer running; returns them. */
export function removeOrphanedChildScratch(): string[] {
  if (!processTag(process.pid)) return [];
  let names: string[];
  try { names = readdirSync(os.tmpdir()); } catch { return []; }
  const removed: string[] = [];
  for (const name of names) {
    const m = OWNED.exec(name);
    if (!m || processTag(Number(m[1])) === `${m[1]}-${m[2]}`) continue;
    const folder = join(os.tmpdir(), name);
    try {
      rmSync(folder, { recursive: true, force: true });
      removed.push(folder);
    } catch {
      // another engine removing it at the same moment, or not ours to remove: left as it is
    }
  }
  return removed;
}
