/** Reading /proc (Linux): process memory and stat lines, for the engine's bounds and the benchmark. */
import { readdirSync, readFileSync } from 'node:fs';

/** VmRSS of a process in bytes; 0 when it is gone. */
export function readRss(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/**
 * The fields of a /proc/<pid>/stat or /proc/<pid>/task/<tid>/stat line after the command name
 * (which may contain spaces): [0] state, [1] ppid, [2] pgrp, [11] utime, [12] stime, [13] cutime,
 * [14] cstime (clock ticks, 100 per second), [19] starttime (clock ticks since boot). Also the command name itself. Throws when it is gone.
 */
export function procStat(path: string): { name: string; fields: string[] } {
  const st = readFileSync(path, 'utf8');
  return { name: st.slice(st.indexOf('(') + 1, st.lastIndexOf(')')), fields: st.slice(st.lastIndexOf(')') + 2).split(' ') };
}

/** Every process now running, with its stat line read by procStat (one that exits meanwhile is left out). */
export function processes(): Array<{ pid: number; name: string; fields: string[] }> {
  let entries: string[];
  try { entries = readdirSync('/proc'); } catch { return []; }
  return entries.flatMap((e) => {
    const c = e.charCodeAt(0);
    if (c < 48 || c > 57) return []; // not a pid
    try {
      return [{ pid: Number(e), ...procStat(`/proc/${e}/stat`) }];
    } catch { return []; } // gone meanwhile
  });
}
