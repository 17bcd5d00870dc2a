#!/usr/bin/env bash
# Unpack Debian's bookworm-backports QEMU beside the system one, without
# installing it, for the testbed:
#
#   tools/testbed-qemu.sh [DIR]          (default /opt/qslm-qemu)
#   export QSLM_TESTBED_QEMU=DIR/bin/qemu-system-x86_64
#
# Why: bookworm's QEMU 7.2 loses guest writes in TCG live migrations (the
# destination's memory is behind the source's last output; see
# data/testbed/README.md). The backports QEMU does not. Nothing under /usr
# changes: the packages are unpacked with dpkg -x into DIR/root and a small
# wrapper points QEMU at its own firmware, option ROMs and modules (it
# mounts, so it runs as root, as the testbed does).
set -euo pipefail

DIR=${1:-/opt/qslm-qemu}
SUITE=bookworm-backports
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

cat > "$WORK/backports.sources" <<EOF
Types: deb
URIs: http://deb.debian.org/debian
Suites: $SUITE
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
mkdir -p "$WORK/lists/partial" "$WORK/debs"
APT=(-o "Dir::Etc::sourcelist=$WORK/backports.sources" -o "Dir::Etc::sourceparts=-"
     -o "Dir::State::Lists=$WORK/lists" -o "APT::Sandbox::User=root")
timeout 300 apt-get "${APT[@]}" update -qq
(cd "$WORK/debs" && timeout 600 apt-get "${APT[@]}" download -qq \
    qemu-system-x86 qemu-system-common qemu-system-data)

rm -rf "$DIR.new"
mkdir -p "$DIR.new/bin"
for deb in "$WORK"/debs/*.deb; do
    dpkg -x "$deb" "$DIR.new/root"
done
cat > "$DIR.new/bin/qemu-system-x86_64" <<'EOF'
#!/bin/sh
# QEMU from bookworm-backports, unpacked by qslm-nova's
# tools/testbed-qemu.sh into this directory's ../root.
# QEMU also looks for modules in the system QEMU's directory and aborts
# on one of another build, so that directory shows this QEMU's modules,
# in a mount namespace of its own (unshare and sh exec: same process).
ROOT=$(dirname "$(dirname "$(readlink -f "$0")")")/root
MODS=/usr/lib/x86_64-linux-gnu/qemu
set -- "$ROOT/usr/bin/qemu-system-x86_64" -L "$ROOT/usr/share/qemu" \
    -L /usr/share/seabios "$@"
if [ -d "$MODS" ]; then
    # shellcheck disable=SC2016  # expanded by the inner sh
    exec unshare --mount --propagation private sh -c \
        'mount --bind "$0" "$1" && shift && exec "$@"' \
        "$ROOT$MODS" "$MODS" "$@"
fi
exec "$@"
EOF
chmod 755 "$DIR.new/bin/qemu-system-x86_64"
rm -rf "$DIR"
mv "$DIR.new" "$DIR"
missing=$(ldd "$DIR/root/usr/bin/qemu-system-x86_64" | grep 'not found' || true)
if [ -n "$missing" ]; then
    echo "error: $DIR's QEMU misses libraries: $missing" >&2
    exit 1
fi
"$DIR/bin/qemu-system-x86_64" --version | head -1
echo "export QSLM_TESTBED_QEMU=$DIR/bin/qemu-system-x86_64"
