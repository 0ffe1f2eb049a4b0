/**
 * Processes the tests and the benchmark start and watch: the service as its own process, and the
 * engine's OCR children.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SERVICE_ENV } from '../src/contract.ts';
import { PACKAGE_ROOT } from '../src/paths.ts';
import { processes } from '../src/proc.ts';

export interface SpawnedService { proc: ChildProcess; lines: any[]; exit: Promise<number | null>; stderr: () => string }

/**
 * Spawns the service's entry point (`src/service/main.ts`) on a free loopback port, without waiting
 * for it; its JSON log lines are collected into `lines`. Only `env` and the port settings are added
 * to this process's environment, so the service otherwise runs with its own defaults.
 */
export function spawnProcess(env: Record<string, string> = {}): SpawnedService {
  const proc = spawn(join(PACKAGE_ROOT, 'node_modules', '.bin', 'node'), ['--disable-warning=ExperimentalWarning', join(PACKAGE_ROOT, 'src', 'service', 'main.ts')], {
    cwd: PACKAGE_ROOT,
    env: { ...process.env, [SERVICE_ENV.PORT]: '0', [SERVICE_ENV.HOST]: '127.0.0.1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: any[] = [];
  let buf = '';
  let err = '';
  proc.stdout!.on('data', (b: Buffer) => {
    buf += b.toString();
    let i: number;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      try { lines.push(JSON.parse(line)); } catch { continue; }
    }
  });
  proc.stderr!.on('data', (b: Buffer) => { err = (err + b.toString()).slice(-8192); });
  const exit = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  return { proc, lines, exit, stderr: () => err };
}

/** Resolves with the service's base URL once it listens and its OCR workers are warm; rejects if it exits first. */
export function whenReady(service: Pick<SpawnedService, 'lines' | 'exit' | 'stderr'>): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const poll = setInterval(() => {
      const listening = service.lines.find((l) => l.msg === 'listening');
      if (listening && service.lines.some((l) => l.msg === 'ready')) { clearInterval(poll); resolve(`http://127.0.0.1:${listening.port}`); }
    }, 20);
    void service.exit.then((code) => { clearInterval(poll); reject(new Error(`service exited early (${code}): ${JSON.stringify(service.lines)} ${service.stderr()}`)); });
  });
}

/** Pids of the engine's OCR children (src/child.ts) of a process. */
export function ocrChildPids(parentPid: number = process.pid): number[] {
  return processes().filter((p) => p.fields[1] === String(parentPid)).map((p) => p.pid).filter((pid) => {
    try { return readFileSync(`/proc/${pid}/cmdline`, 'latin1').includes('child.ts'); } catch { return false; } // gone meanwhile
  });
}
