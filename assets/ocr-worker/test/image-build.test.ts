/**
 * The worker image, built for real and run: build-tools/worker-image.sh builds the Dockerfile with
 * buildah (both OCR engines, linux/amd64), then every check runs inside the built image's own file
 * system as the image's configuration says (its USER, ENV, WORKDIR and CMD, read from the image),
 * the way the constructs run it: root file system read-only, only a fresh /tmp writable, no network.
 *
 * The sandbox is buildah's mount of a container made from the image, bind-mounted read-only in a
 * mount namespace of its own with a tmpfs on /tmp, entered with chroot as the image's user, inside a
 * network namespace with only a loopback interface (where the S3 stand-in of the Batch test and the
 * client of the service test run too).
 *
 * Needs root, buildah and debootstrap (.ci/run installs them); nothing is skipped without them.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { validateResult } from '../src/index.ts';
import { cer } from '../src/cer.ts';
import { decodeImageFrame } from '../src/image.ts';
import { FIXTURES, PKG, fixture } from './helpers/common.ts';
import { imagePdf } from '../tools/pdfwriter.ts';

const REPO = join(PKG, '..', '..');
const BUILD = join(REPO, 'build-tools', 'worker-image.sh');
const ENGINES = ['tesseract.js', 'tesseract'] as const;
type EngineName = typeof ENGINES[number];
const TAG_PREFIX = 'localhost/ocr-worker-test';
const SAMPLES = join(PKG, 'samples');
const PHOTOTEST = readFileSync(join(FIXTURES, 'ocr/phototest.txt'), 'utf8');
const QR_TEXT = readFileSync(join(FIXTURES, 'qr/qrcode-1-1.txt'), 'utf8');
/** samples/scanned-page.tif as a scanned PDF page (300 dpi): a PDF whose page is rendered for OCR. */
const SCANNED_PDF = imagePdf(await decodeImageFrame(fixture('ocr/phototest.tif'), 'image/tiff', 0, 1e9), 300);

const work = mkdtempSync(join(tmpdir(), 'ocr-image-build-'));
const netns = `ocr-image-test-${process.pid}`;

function sh(cmd: string, args: string[], opts: { timeout?: number } = {}): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: opts.timeout ?? 120_000 });
}

/** Builds with the script; returns its exit status and stderr (buildah's output). */
function build(args: string[]): { status: number | null; stderr: string } {
  const r = spawnSync(BUILD, args, { encoding: 'utf8', timeout: 30 * 60_000, maxBuffer: 64 << 20 });
  return { status: r.status, stderr: r.stderr + (r.error ? String(r.error) : '') };
}

interface Image {
  tag: string;
  /** the image's root file system (buildah mount of a container made from it) */
  root: string;
  container: string;
  uid: number;
  gid: number;
  home: string;
  env: Record<string, string>;
  workdir: string;
  cmd: string[];
  config: any;
}

const opened: Image[] = [];

function openImage(tag: string): Image {
  const container = sh('buildah', ['from', '--pull=never', '--quiet', tag]).trim();
  const root = sh('buildah', ['mount', container]).trim();
  const config = JSON.parse(sh('buildah', ['inspect', '--type', 'image', tag])).OCIv1.config;
  const [user, group] = String(config.User ?? '').split(':');
  const passwd = readFileSync(join(root, 'etc/passwd'), 'utf8').split('\n').map((l) => l.split(':'));
  const entry = passwd.find((p) => p[0] === user || p[2] === user);
  assert.ok(entry, `the image's user ${config.User} is in its /etc/passwd`);
  const env = Object.fromEntries((config.Env as string[]).map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
  const image: Image = {
    tag, root, container, config, env,
    uid: Number(entry[2]), gid: group ? Number(group) : Number(entry[3]), home: entry[5],
    workdir: config.WorkingDir || '/', cmd: config.Cmd,
  };
  opened.push(image);
  return image;
}

/**
 * argv for a process in the image: a private mount namespace, the image's root read-only, /dev /proc
 * /sys from the host, a fresh /tmp (mode 1777 like the image's) holding copies of `inputs`, then chroot
 * to the image's user with only the image's ENV (plus HOME, as container runtimes set it) and `env`.
 */
function inImage(img: Image, argv: string[], env: Record<string, string> = {}, inputs: Record<string, string | Buffer> = {}): string[] {
  const sandbox = mkdtempSync(join(work, 'sandbox-'));
  const mnt = join(sandbox, 'root');
  const staged = join(sandbox, 'in');
  mkdirSync(mnt);
  mkdirSync(staged);
  for (const [name, content] of Object.entries(inputs)) writeFileSync(join(staged, name), typeof content === 'string' ? readFileSync(content) : content);
  const vars = Object.entries({ ...img.env, HOME: img.home, ...env }).map(([k, v]) => `${k}=${v}`);
  const script = [
    'set -e',
    'mount --bind "$IMG" "$MNT"',
    'mount -o remount,ro,bind "$MNT"',
    'mount -t tmpfs -o mode=1777 tmpfs "$MNT/tmp"',
    'mkdir "$MNT/tmp/in" && cp -r "$STAGED/." "$MNT/tmp/in/" && chmod -R a+rX "$MNT/tmp/in"',
    'mount --rbind /dev "$MNT/dev"',
    'mount -t proc proc "$MNT/proc"',
    'mount --rbind /sys "$MNT/sys"',
    `exec chroot --userspec=${img.uid}:${img.gid} --groups=${img.gid} "$MNT" /usr/bin/env -i "$@"`,
  ].join('\n');
  return ['ip', 'netns', 'exec', netns, 'env', `IMG=${img.root}`, `MNT=${mnt}`, `STAGED=${staged}`,
    'unshare', '--mount', 'sh', '-c', script, 'sandbox',
    ...vars, '/bin/sh', '-c', 'cd "$0" && exec "$@"', img.workdir, ...argv];
}

function runInImage(img: Image, argv: string[], env: Record<string, string> = {}, inputs: Record<string, string | Buffer> = {}) {
  const [cmd, ...args] = inImage(img, argv, env, inputs);
  return spawnSync(cmd, args, { encoding: 'utf8', timeout: 300_000, maxBuffer: 64 << 20 });
}

/** A process of the test's own (host Node) in the sandbox's network namespace. */
function inNetns(args: string[]): ChildProcess {
  return spawn('ip', ['netns', 'exec', netns, process.execPath, '--disable-warning=ExperimentalWarning', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
}

async function firstLine(child: ChildProcess): Promise<string> {
  const rl = createInterface({ input: child.stdout! });
  for await (const line of rl) return line;
  throw new Error('no output');
}

async function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

/** An HTTP request from inside the network namespace (the service listens on its loopback). */
function nsFetch(url: string, init: { method?: string; file?: string; fields?: Record<string, string> } = {}): { status: number; body: any } {
  const code = `
    const { url, method, file, fields } = JSON.parse(process.argv[1]);
    let body;
    if (file) {
      body = new FormData();
      for (const [k, v] of Object.entries(fields ?? {})) body.append(k, v);
      body.append('file', new Blob([require('node:fs').readFileSync(file)]), require('node:path').basename(file));
    }
    fetch(url, { method: method ?? (file ? 'POST' : 'GET'), body }).then(async (r) => {
      const text = await r.text();
      process.stdout.write(JSON.stringify({ status: r.status, text }));
    }, (e) => process.stdout.write(JSON.stringify({ status: 0, text: String(e.cause ?? e) })));`;
  const out = execFileSync('ip', ['netns', 'exec', netns, process.execPath, '-e', code, JSON.stringify({ url, ...init })], { encoding: 'utf8', timeout: 60_000 });
  const { status, text } = JSON.parse(out);
  let body: any = text;
  try { body = JSON.parse(text); } catch { /* not JSON */ }
  return { status, body };
}

const images = {} as Record<EngineName, Image>;

before(() => {
  assert.equal(spawnSync('buildah', ['--version']).status, 0,
    'buildah is not installed: the image test builds the worker image with it (Debian/Ubuntu: apt-get install buildah debootstrap; .ci/run installs them)');
  assert.equal(process.getuid?.(), 0, 'the image test runs as root (buildah\'s storage, mount and network namespaces)');
  execFileSync('ip', ['netns', 'add', netns]);
  execFileSync('ip', ['netns', 'exec', netns, 'ip', 'link', 'set', 'lo', 'up']);
});

after(() => {
  for (const img of opened) spawnSync('buildah', ['rm', img.container], { stdio: 'ignore' });
  spawnSync('ip', ['netns', 'del', netns], { stdio: 'ignore' });
  rmSync(work, { recursive: true, force: true });
});

test('build-tools/worker-image.sh builds both images (OCR_ENGINE=tesseract.js, tesseract) with buildah', { timeout: 40 * 60_000 }, () => {
  const r = build(['--tag-prefix', TAG_PREFIX]);
  assert.equal(r.status, 0, r.stderr.slice(-4000));
  for (const engine of ENGINES) images[engine] = openImage(`${TAG_PREFIX}:${engine}`);
});

test('the image: the Node version the worker is tested on, non-root user, VOLUME /tmp, Batch CMD, nothing but production files', () => {
  const pkg = JSON.parse(readFileSync(join(PKG, 'package.json'), 'utf8'));
  const lock = JSON.parse(readFileSync(join(PKG, 'package-lock.json'), 'utf8'));
  for (const engine of ENGINES) {
    const img = images[engine];
    assert.ok(img, 'the image was built');
    assert.equal(img.env.NODE_VERSION, pkg.devDependencies.node, 'the image\'s Node is the version the worker is tested on');
    assert.equal(img.env.OCR_ENGINE, engine);
    assert.notEqual(img.uid, 0, `runs as a non-root user (USER ${img.config.User})`);
    assert.ok(Object.keys(img.config.Volumes ?? {}).includes('/tmp'), 'VOLUME /tmp: a task volume there starts with the image\'s mode 1777');
    assert.equal(statSync(join(img.root, 'tmp')).mode & 0o7777, 0o1777);
    assert.deepEqual(img.cmd.slice(0, 1), ['node']);
    assert.ok(img.cmd.at(-1) === 'src/batch.ts', `CMD is the Batch mode: ${img.cmd.join(' ')}`);
    const app = join(img.root, img.workdir);
    assert.equal(statSync(app).uid, 0, 'the application belongs to root: read-only to the image\'s user');
    // no dev dependency (the lockfile marks them), no tests, benchmarks or source maps
    const dev = Object.entries<any>(lock.packages).filter(([p, m]) => p.startsWith('node_modules/') && m.dev).map(([p]) => p);
    assert.ok(dev.length > 0);
    const present = dev.filter((p) => existsSync(join(app, p)));
    assert.deepEqual(present, [], 'no dev dependencies in the image');
    assert.deepEqual(readdirSync(app).sort(), ['bin', 'node_modules', 'package.json', 'schema', 'src']);
    const maps = sh('find', [app, '-name', '*.map', '-type', 'f']).trim();
    assert.equal(maps, '', 'no source maps in the image');
    // only the relaxed-SIMD Tesseract builds are kept (the CLI test proves one of them loads)
    const cores = readdirSync(join(app, 'node_modules/tesseract.js-core')).filter((f) => f.startsWith('tesseract-core')).sort();
    assert.deepEqual(cores, ['tesseract-core-relaxedsimd-lstm.js', 'tesseract-core-relaxedsimd-lstm.wasm', 'tesseract-core-relaxedsimd.js', 'tesseract-core-relaxedsimd.wasm']);
    assert.ok(existsSync(join(app, 'node_modules/@tesseract.js-data/eng/4.0.0_best_int/eng.traineddata.gz')), 'English language data in the image');
    // what is never loaded is not shipped: one build of ZXing (the CLI, Batch and service tests load it)
    assert.deepEqual(readdirSync(join(app, 'node_modules/@zxing/library')).filter((f) => statSync(join(app, 'node_modules/@zxing/library', f)).isDirectory()), ['cjs']);
    assert.deepEqual(['legacy/web', 'legacy/image_decoders', 'build', 'web'].filter((d) => existsSync(join(app, 'node_modules/pdfjs-dist', d))), []);
    // the native engine's image has Debian's Tesseract and Poppler; the default one has neither
    assert.equal(existsSync(join(img.root, 'usr/bin/tesseract')), engine === 'tesseract');
    assert.equal(existsSync(join(img.root, 'usr/bin/pdftoppm')), engine === 'tesseract');
  }
});

test('in the image (read-only root, non-root, no network): only /tmp is writable, nothing is reachable', () => {
  const img = images['tesseract.js'];
  const probe = `
    const fs = require('node:fs');
    const out = {};
    for (const p of ['/app/x', '/x', process.env.HOME + '/x', '/tmp/x']) {
      try { fs.writeFileSync(p, '1'); out[p] = 'written'; } catch (e) { out[p] = e.code; }
    }
    out.uid = process.getuid();
    fetch('https://registry.npmjs.org/').then(() => { out.network = 'reached'; }, (e) => { out.network = e.cause?.code ?? String(e); })
      .finally(() => console.log(JSON.stringify(out)));`;
  const r = runInImage(img, ['node', '-e', probe]);
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout);
  assert.equal(out.uid, img.uid);
  assert.deepEqual([out['/app/x'], out['/x'], out[`${img.home}/x`], out['/tmp/x']], ['EROFS', 'EROFS', 'EROFS', 'written']);
  assert.notEqual(out.network, 'reached');
});

for (const engine of ENGINES) {
  test(`${engine} image: the CLI on the samples (scanned page, born-digital PDF, QR photo) and a scanned PDF`, { timeout: 300_000 }, () => {
    const img = images[engine];
    const inputs = {
      'scanned-page.tif': join(SAMPLES, 'scanned-page.tif'),
      'born-digital.pdf': join(SAMPLES, 'born-digital.pdf'),
      'qr-photo.png': join(SAMPLES, 'qr-photo.png'),
      'scanned.pdf': SCANNED_PDF,
    };
    const r = runInImage(img, ['bin/ocr', '--workers', '2', ...Object.keys(inputs).map((f) => `/tmp/in/${f}`)], {}, inputs);
    assert.equal(r.status, 0, r.stderr);
    const [scan, doc, qr, scannedPdf] = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    for (const x of [scan, doc, qr, scannedPdf]) assert.deepEqual(validateResult(x), []);
    assert.equal(scan.engine.ocr, engine, 'the OCR backend the image was built for');
    assert.ok(cer(scan.text, PHOTOTEST) < 0.03, scan.text);
    assert.equal(doc.pages[0].method, 'text-layer');
    assert.equal(doc.text, 'The first paragraph.\nThe second paragraph.');
    assert.equal(qr.qrCodes[0].text, QR_TEXT);
    assert.equal(scannedPdf.pages[0].method, 'ocr');
    assert.equal(scannedPdf.pages[0].renderer, engine === 'tesseract' ? 'poppler' : 'pdf.js', 'the native backend\'s image renders with Poppler');
    assert.ok(cer(scannedPdf.text, PHOTOTEST) < 0.03, scannedPdf.text);
  });
}

/** The Batch mode (the image's CMD) on a manifest of the samples, against the S3 stand-in. */
async function batchRun(img: Image): Promise<void> {
  const s3dir = mkdtempSync(join(work, 's3-'));
  const put = (key: string, body: Buffer | string) => {
    mkdirSync(join(s3dir, key, '..'), { recursive: true });
    writeFileSync(join(s3dir, key), body);
  };
  put('in/docs/scanned-page.tif', readFileSync(join(SAMPLES, 'scanned-page.tif')));
  put('in/docs/born-digital.pdf', readFileSync(join(SAMPLES, 'born-digital.pdf')));
  put('in/docs/qr-photo.png', readFileSync(join(SAMPLES, 'qr-photo.png')));
  const keys = ['docs/scanned-page.tif', 'docs/born-digital.pdf', 'docs/qr-photo.png'];
  put('out/manifests/job-7.json', JSON.stringify({ schemaVersion: 1, jobId: 'job-7', documents: keys.map((key) => ({ key })) }));
  const s3 = inNetns([join(PKG, 'test/helpers/s3-standin.ts'), s3dir]);
  try {
    const port = await firstLine(s3);
    const env = {
      OCR_INPUT_BUCKET: 'in', OCR_OUTPUT_BUCKET: 'out', OCR_JOB_ID: 'job-7', OCR_MANIFEST_KEY: 'manifests/job-7.json', OCR_WORKERS: '2',
      AWS_ENDPOINT_URL_S3: `http://127.0.0.1:${port}`, AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_EC2_METADATA_DISABLED: 'true',
    };
    const [cmd, ...args] = inImage(img, img.cmd, env);
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout!.on('data', (d) => { output += d; });
    child.stderr!.on('data', (d) => { output += d; });
    const code = await exited(child);
    assert.equal(code, 0, output);
    const results = keys.map((_, i) => JSON.parse(readFileSync(join(s3dir, `out/results/job-7/results/0000${i}.json`), 'utf8')));
    for (const r of results) assert.deepEqual(validateResult(r), []);
    assert.deepEqual(results.map((r) => r.source), keys);
    assert.ok(cer(readFileSync(join(s3dir, 'out/results/job-7/results/00000.txt'), 'utf8'), PHOTOTEST) < 0.03);
    assert.equal(readFileSync(join(s3dir, 'out/results/job-7/results/00001.txt'), 'utf8'), 'The first paragraph.\nThe second paragraph.');
    assert.equal(results[2].qrCodes[0].text, QR_TEXT);
    const summary = JSON.parse(readFileSync(join(s3dir, 'out/results/job-7/summaries/00000.json'), 'utf8'));
    assert.deepEqual(summary.counts, { succeeded: 3, failed: 0, byErrorCode: {} });
    // without its configuration the Batch mode stops at once with exit 1 (no retry)
    const bad = runInImage(img, img.cmd);
    assert.equal(bad.status, 1, bad.stdout + bad.stderr);
    assert.match(bad.stdout + bad.stderr, /invalid configuration.*Set exactly one of OCR_INPUT_KEY and OCR_MANIFEST_KEY/);
  } finally {
    s3.kill('SIGTERM');
    await exited(s3);
  }
}

for (const engine of ENGINES) {
  test(`${engine} image: Batch mode (CMD) reads a manifest from S3 and writes results and a summary`, { timeout: 300_000 }, async () => {
    await batchRun(images[engine]);
  });
}

for (const engine of ENGINES) {
  test(`${engine} image: the HTTP service in local mode (health, extract, status, result), drained by SIGTERM`, { timeout: 300_000 }, async () => {
    const img = images[engine];
    const [cmd, ...args] = inImage(img, ['node', '--experimental-strip-types', '--disable-warning=ExperimentalWarning', 'src/service/main.ts'], { PORT: '8000', OCR_WORKERS: '2' });
    const service = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    service.stdout!.on('data', (d) => { output += d; });
    service.stderr!.on('data', (d) => { output += d; });
    try {
      const base = 'http://127.0.0.1:8000';
      let health = nsFetch(`${base}/health`);
      for (let i = 0; i < 120 && health.status !== 200 && service.exitCode === null; i++) {
        await new Promise((r) => setTimeout(r, 500));
        health = nsFetch(`${base}/health`);
      }
      assert.equal(health.status, 200, `health: ${JSON.stringify(health)}\n${output}`);
      assert.equal(health.body.status, 'ok');
      const docs = { doc1: join(SAMPLES, 'born-digital.pdf'), scan1: join(SAMPLES, 'scanned-page.tif'), qr1: join(SAMPLES, 'qr-photo.png') };
      for (const [id, file] of Object.entries(docs)) {
        const accepted = nsFetch(`${base}/extract`, { file, fields: { document_id: id } });
        assert.equal(accepted.status, 202, JSON.stringify(accepted));
        assert.equal(accepted.body.document_id, id);
      }
      for (const id of Object.keys(docs)) {
        let status = nsFetch(`${base}/check-status/${id}`);
        for (let i = 0; i < 240 && ['PENDING', 'PROCESSING'].includes(status.body.status); i++) {
          await new Promise((r) => setTimeout(r, 500));
          status = nsFetch(`${base}/check-status/${id}`);
        }
        assert.equal(status.status, 200);
        assert.equal(status.body.status, 'SUCCEEDED', JSON.stringify(status.body));
      }
      const doc = nsFetch(`${base}/result/doc1`);
      assert.equal(doc.status, 200);
      assert.deepEqual(validateResult(doc.body), []);
      assert.equal(doc.body.text, 'The first paragraph.\nThe second paragraph.');
      const scan = nsFetch(`${base}/result/scan1`);
      assert.equal(scan.body.engine.ocr, engine);
      assert.ok(cer(scan.body.text, PHOTOTEST) < 0.03);
      assert.equal(nsFetch(`${base}/result/qr1`).body.qrCodes[0].text, QR_TEXT);
      service.kill('SIGTERM');
      assert.equal(await exited(service), 0, output);
    } finally {
      service.kill('SIGKILL');
    }
  });
}

test('a broken Dockerfile fails: a COPY of a missing or ignored path, a failing RUN step, another Node major, no lockfile, an unknown OCR_ENGINE, a wrong CMD', { timeout: 20 * 60_000 }, async () => {
  const dockerfile = readFileSync(join(PKG, 'Dockerfile'), 'utf8');
  const variant = (name: string, from: string | RegExp, to: string): string => {
    const text = dockerfile.replace(from, to);
    assert.notEqual(text, dockerfile, `${name}: the breakage applies`);
    const file = join(work, `Dockerfile.${name}`);
    writeFileSync(file, text);
    return file;
  };
  const failures: Array<[string, string[], RegExp]> = [
    ['copy-missing', ['--file', variant('copy-missing', 'COPY bin ./bin', 'COPY bin-missing ./bin')], /building at STEP "COPY bin-missing \.\/bin".*no such file or directory/],
    ['copy-ignored', ['--file', variant('copy-ignored', 'COPY bin ./bin', 'COPY bin ./bin\nCOPY test ./test')], /building at STEP "COPY test \.\/test".*filtered out using .*\.dockerignore/],
    ['run-fails', ['--file', variant('run-fails', 'COPY bin ./bin', 'COPY bin ./bin\nRUN test -x bin/no-such-command')], /building at STEP "RUN test -x bin\/no-such-command": exit status 1/],
    ['node-major', ['--file', variant('node-major', /node:24-bookworm-slim/g, 'node:22-bookworm-slim')], /base node:22-bookworm-slim is Node 22 but the worker pins node 24\./],
    ['no-npm-lockfile', ['--file', variant('no-npm-lockfile', 'COPY package.json package-lock.json ./', 'COPY package.json ./')], /npm error[\s\S]*building at STEP "RUN npm ci /],
  ];
  for (const [name, args, why] of failures) {
    const r = build([...args, '--engine', 'tesseract.js', '--tag-prefix', `localhost/ocr-worker-broken-${name}`]);
    assert.notEqual(r.status, 0, `${name}: the build must fail`);
    assert.match(r.stderr, why, `${name}: ${r.stderr.slice(-2000)}`);
  }
  // an OCR_ENGINE the Dockerfile does not know stops the build at its engine step
  const badEngine = build(['--engine', 'ocrad', '--tag-prefix', 'localhost/ocr-worker-broken-engine']);
  assert.notEqual(badEngine.status, 0);
  assert.match(badEngine.stderr, /OCR_ENGINE must be tesseract.js or tesseract, got 'ocrad'/);
  // a wrong CMD builds, and the Batch test run on that image fails
  const wrongCmd = variant('wrong-cmd', '"src/batch.ts"]', '"src/batches.ts"]');
  const built = build(['--file', wrongCmd, '--engine', 'tesseract.js', '--tag-prefix', 'localhost/ocr-worker-broken-cmd']);
  assert.equal(built.status, 0, built.stderr.slice(-2000));
  await assert.rejects(batchRun(openImage('localhost/ocr-worker-broken-cmd:tesseract.js')), /Cannot find module|ERR_MODULE_NOT_FOUND|batches/);
  for (const name of [...failures.map(([n]) => n), 'engine', 'cmd']) {
    spawnSync('buildah', ['rmi', '--force', ...['tesseract.js', 'ocrad'].map((t) => `localhost/ocr-worker-broken-${name}:${t}`)], { stdio: 'ignore' });
  }
});

test('OCR_LANGUAGES=eng+deu: both images hold the German model (nothing fetched at run time) and the CLI reads with eng+deu and deu; a bad code fails the build', { timeout: 30 * 60_000 }, () => {
  const pkg = JSON.parse(readFileSync(join(PKG, 'package.json'), 'utf8'));
  const built = build(['--languages', 'eng+deu', '--tag-prefix', `${TAG_PREFIX}-deu`]);
  assert.equal(built.status, 0, built.stderr.slice(-4000));
  // eurotext.tif has a German line; in the sandbox (no network) the German model comes from the image
  const inputs = { 'eurotext.tif': join(FIXTURES, 'ocr/eurotext.tif') };
  for (const engine of ENGINES) {
    const img = openImage(`${TAG_PREFIX}-deu:${engine}`);
    const data = join(img.root, img.workdir, 'node_modules/@tesseract.js-data');
    assert.deepEqual(readdirSync(data).sort(), ['deu', 'eng']);
    for (const lang of ['deu', 'eng']) {
      // the version the worker pins for eng, and only the model the worker reads (4.0.0 is removed)
      assert.equal(JSON.parse(readFileSync(join(data, lang, 'package.json'), 'utf8')).version, pkg.dependencies['@tesseract.js-data/eng']);
      assert.deepEqual(readdirSync(join(data, lang)).filter((f) => statSync(join(data, lang, f)).isDirectory()), ['4.0.0_best_int']);
      assert.ok(existsSync(join(data, lang, `4.0.0_best_int/${lang}.traineddata.gz`)));
    }
    const r = runInImage(img, ['bin/ocr', '--lang', 'eng+deu', '/tmp/in/eurotext.tif'], {}, inputs);
    assert.equal(r.status, 0, r.stderr);
    const result = JSON.parse(r.stdout.trim());
    assert.deepEqual(validateResult(result), []);
    assert.equal(result.engine.ocr, engine);
    assert.deepEqual(result.engine.languages, ['eng', 'deu']);
    assert.ok(cer(result.text, readFileSync(join(FIXTURES, 'ocr/eurotext.txt'), 'utf8')) < 0.05, result.text);
    // German alone: the German model reads the umlaut that the English one takes for 'ii'
    const german = runInImage(img, ['bin/ocr', '--lang', 'deu', '/tmp/in/eurotext.tif'], {}, inputs);
    assert.equal(german.status, 0, german.stderr);
    const deu = JSON.parse(german.stdout.trim());
    assert.deepEqual(deu.engine.languages, ['deu']);
    assert.match(deu.text, /braune Fuchs springt\s+über den faulen Hund/, deu.text);
  }
  // the default image (cached from the first test's build) has no German data: refused before any work
  assert.equal(build(['--engine', 'tesseract.js', '--tag-prefix', TAG_PREFIX]).status, 0);
  const without = runInImage(openImage(`${TAG_PREFIX}:tesseract.js`), ['bin/ocr', '--lang', 'eng+deu', '/tmp/in/eurotext.tif'], {}, inputs);
  assert.equal(without.status, 2, without.stdout + without.stderr);
  assert.match(without.stderr, /No language data for 'deu'/);
  // a language argument that is not tesseract codes stops the build at the languages step, naming it
  const bad = build(['--engine', 'tesseract.js', '--languages', 'eng+de-u', '--tag-prefix', 'localhost/ocr-worker-broken-languages']);
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /OCR_LANGUAGES must hold tesseract language codes \(a-z and _, such as eng or chi_sim\) separated by '\+' or spaces, got 'de-u' in 'eng\+de-u'/);
  spawnSync('buildah', ['rmi', '--force', ...ENGINES.map((e) => `${TAG_PREFIX}-deu:${e}`), 'localhost/ocr-worker-broken-languages:tesseract.js'], { stdio: 'ignore' });
});
