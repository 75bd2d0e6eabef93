#!/usr/bin/env bash
# Make a Debian 12 base image with python3 (3.11) and its venv module, for building the
# Dockerfile where no container registry is reachable: debootstrap from the Debian mirror, then
# `podman import`. Prints the image name. Needs root, debootstrap and podman.
#
# Cached twice: in podman's storage (the image), and as a root file system tarball under
# $PYTHON_ENV_BASE_CACHE (default /var/tmp/python-env-base), one per suite and month, so a
# machine debootstraps at most once a month (about 1-2.5 minutes) and otherwise imports (~5 s).
set -euo pipefail
suite=${DEBIAN_SUITE:-bookworm}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
cache=${PYTHON_ENV_BASE_CACHE:-/var/tmp/python-env-base}
image=localhost/python-env-base:$suite-$(date +%Y%m)
tarball=$cache/$suite-$(date +%Y%m).tar

if podman image exists "$image"; then
    echo "$image"
    exit 0
fi
if [ ! -s "$tarball" ]; then
    mkdir -p "$cache"
    rootfs=$(mktemp -d "$cache/rootfs.XXXXXX")
    trap 'rm -rf "$rootfs"' EXIT
    echo "debootstrap $suite from $mirror (once a month)..." >&2
    debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
        "$suite" "$rootfs" "$mirror" >"$cache/debootstrap.log" 2>&1 \
        || { tail -20 "$cache/debootstrap.log" >&2; exit 1; }
    # The suites python:3.11-slim has too, so the Dockerfile's pinned packages resolve alike.
    cat >"$rootfs/etc/apt/sources.list" <<SOURCES
deb $mirror $suite main
deb $mirror $suite-updates main
deb ${mirror%/debian}/debian-security $suite-security main
SOURCES
    rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/* "$rootfs"/tmp/*
    tar --numeric-owner -C "$rootfs" -cf "$tarball.part" .
    mv "$tarball.part" "$tarball"
fi
podman import --quiet --change 'CMD ["/bin/bash"]' --change 'ENV LANG=C.UTF-8' \
    "$tarball" "$image" >/dev/null
echo "$image"
