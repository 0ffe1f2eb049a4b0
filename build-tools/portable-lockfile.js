#!/usr/bin/env node
/**
 * Adds the lockfile entries npm leaves out when the registry serves a package's per-platform optional
 * builds only for some platforms (e.g. `@unrs/resolver-binding-darwin-arm64`, used by jest and eslint's
 * TypeScript resolver). Without them `npm ci` stops with "Missing: ... from lock file".
 *
 * Each added entry is what npm needs to skip the package on other platforms: its version from the
 * parent's `optionalDependencies`, `optional: true`, and the os / cpu / libc read from its name. No
 * integrity: the package is never downloaded where it does not apply. Plain JavaScript so that it runs
 * before anything is compiled. Usage: node build-tools/portable-lockfile.js [package-lock.json]
 */
const fs = require('fs');
const path = require('path');

const file = path.resolve(process.argv[2] || path.join(__dirname, '..', 'package-lock.json'));
const lock = JSON.parse(fs.readFileSync(file, 'utf8'));
const packages = lock.packages;

const OS = ['android', 'darwin', 'freebsd', 'linux', 'openharmony', 'win32', 'sunos', 'aix', 'netbsd', 'openbsd'];
const CPU = { 'arm-eabi': 'arm', 'arm-gnueabihf': 'arm', 'arm-musleabihf': 'arm', arm64: 'arm64', x64: 'x64', ia32: 'ia32', loong64: 'loong64', ppc64: 'ppc64', riscv64: 'riscv64', s390x: 's390x', wasm32: 'wasm32', universal: undefined };

/** { os, cpu, libc } from a name such as `@unrs/resolver-binding-linux-arm-musleabihf`, or undefined. */
function platformOf(name) {
  const m = new RegExp(`-(${OS.join('|')})-(.+)$`).exec(name);
  if (!m) return undefined;
  const rest = m[2].replace(/-(msvc|gnu|musl)$/, (_, abi) => `|${abi}`);
  const [arch, abi] = rest.split('|');
  if (!(arch in CPU)) return undefined;
  const out = { os: [m[1]] };
  if (CPU[arch]) out.cpu = [CPU[arch]];
  if (m[1] === 'linux') {
    if (abi === 'gnu' || arch === 'arm-gnueabihf') out.libc = ['glibc'];
    if (abi === 'musl' || arch === 'arm-musleabihf') out.libc = ['musl'];
  }
  return out;
}

let added = 0;
for (const [location, entry] of Object.entries(packages)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies || {})) {
    const base = location === '' ? '' : `${location}/`;
    const candidates = [`${base}node_modules/${dep}`, `node_modules/${dep}`];
    if (candidates.some((c) => packages[c])) continue;
    const platform = platformOf(dep);
    if (!platform) continue; // not a per-platform build: leave it to npm
    packages[`node_modules/${dep}`] = { version, optional: true, ...platform };
    added++;
  }
}

if (added > 0) {
  // Keep npm's order (sorted by location) so diffs stay small.
  const sorted = {};
  for (const key of Object.keys(packages).sort((a, b) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b)))) sorted[key] = packages[key];
  lock.packages = sorted;
  fs.writeFileSync(file, JSON.stringify(lock, null, 2) + '\n');
}
console.log(`portable-lockfile: ${added} per-platform optional entr${added === 1 ? 'y' : 'ies'} added to ${path.relative(process.cwd(), file) || file}`);
