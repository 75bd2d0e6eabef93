#!/usr/bin/env bash
# Build the root Dockerfile with podman, run the image, and play one full episode against it.
#
#   scripts/container-smoke.sh            (root; needs podman, runc, and debootstrap without a registry)
#
# Base image: $BASE_IMAGE if set; else python:3.11-slim-bookworm when a registry answers; else a
# Debian 12 base made here with debootstrap (scripts/make-base-image.sh, cached).
# The container shares the host's network (--network host) and its server binds 127.0.0.1 on a
# free port, so it answers on loopback only and nothing is ever sent to a bridge address.
# Prints `key: value` lines (tests/container/test_image.py checks them); exits non-zero on any
# failure. Environment: IMAGE (tag to build), PYTHON (a python with python_env installed),
# PIP_CA (CA bundle for a TLS-intercepting proxy, default the host's), KEEP=1 (leave the container).
set -euo pipefail
cd "$(dirname "$0")/.."
image=${IMAGE:-localhost/python-env:smoke}
python=${PYTHON:-.venv/bin/python}
ca=${PIP_CA:-/etc/ssl/certs/ca-certificates.crt}
name=python-env-smoke-$$
# crun (podman's default when installed) fails on a cgroup v1 hybrid host; runc works. An
# explicit nofile/nproc because podman's default (the host's hard limit) is refused there too.
podman=(podman --runtime runc)
limits=(--ulimit nofile=1024:1024 --ulimit nproc=4096:4096)

log_dir=$(mktemp -d)
cleanup() {
    [ "${KEEP:-0}" = 1 ] || "${podman[@]}" rm --force --time 5 "$name" >/dev/null 2>&1 || true
    rm -rf "$log_dir"
}
trap cleanup EXIT
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

base=${BASE_IMAGE:-}
if [ -z "$base" ]; then
    started=$(now)
    if timeout 120 podman pull --quiet docker.io/library/python:3.11-slim-bookworm >/dev/null 2>&1; then
        base=docker.io/library/python:3.11-slim-bookworm
    else
        base=$(scripts/make-base-image.sh)
    fi
    echo "base image: $base ($(since "$started") s)"
fi

secret=()
[ -s "$ca" ] && secret=(--secret "id=pip_ca,src=$ca")
started=$(now)
# --format docker keeps HEALTHCHECK (OCI images drop it); --network host: no bridge for RUN steps.
"${podman[@]}" build --quiet --format docker --network host "${secret[@]}" \
    --build-arg "BASE_IMAGE=$base" --tag "$image" . >/dev/null
echo "build: $(since "$started") s"
echo "image size: $(podman image inspect --format '{{.Size}}' "$image" \
    | awk '{ printf "%.0f MB", $1 / 1e6 }')"

# What the image holds: no tests, caches or VCS files (looked for as root, who sees all of
# /root); the server runs as uid 1000.
echo "image user: $(podman image inspect --format '{{.Config.User}}' "$image")"
strays=$("${podman[@]}" run --rm --network none --no-healthcheck --user 0 "${limits[@]}" \
    --entrypoint /bin/sh "$image" -c \
    'find /app /opt/venv/lib/python3.11/site-packages/python_env /root /home \
        \( -name tests -o -name .git -o -name .pytest_cache -o -name .mypy_cache \
           -o -name .ruff_cache -o -name .cache -o -name "*.egg-info" \) -print 2>/dev/null;
     ls /app/src 2>/dev/null' || true)
echo "image strays: ${strays:--}"

port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
url=http://127.0.0.1:$port
started=$(now)
# ENABLE_WEB_INTERFACE=true: what `openenv push` sets for a Space (python_env's page takes /web).
# podman's stderr is kept aside: without systemd it logs an error about healthcheck timers.
"${podman[@]}" run --detach --name "$name" --network host "${limits[@]}" \
    --env HOST=127.0.0.1 --env PORT="$port" --env ENABLE_WEB_INTERFACE=true "$image" \
    >/dev/null 2>"$log_dir/run.err" || { cat "$log_dir/run.err" >&2; exit 1; }
healthy=""
for _ in $(seq 1 1200); do
    if [ "$(podman inspect --format '{{.State.Running}}' "$name" 2>/dev/null)" != true ]; then
        break
    fi
    if curl --silent --fail --max-time 2 --output /dev/null "$url/health"; then
        healthy=$(since "$started")
        break
    fi
    sleep 0.05
done
# The answer must come from this container (another process could hold a port we just freed).
logs=$(podman logs "$name" 2>&1 || true)
if [ -z "$healthy" ] || ! grep -q "Uvicorn running on $url" <<<"$logs"; then
    echo "the container did not become healthy on $url; its log:" >&2
    grep -v systemd <<<"$logs" | tail -40 >&2
    exit 1
fi
echo "cold start to healthy: $healthy s"
# The image's own HEALTHCHECK command, run inside the container.
"${podman[@]}" healthcheck run "$name" >/dev/null 2>&1 && echo "healthcheck: healthy" \
    || echo "healthcheck: unhealthy"
echo "container log: $(grep -m1 -o 'sandbox: tier .*' <<<"$logs" || echo '-')"
echo "web ui: $(curl --silent --location --output /dev/null --write-out '%{http_code}' "$url/web/")"

"$python" scripts/smoke_episode.py "$url"
"${podman[@]}" stop --time 10 "$name" >/dev/null 2>&1
echo "stopped: exit code $(podman inspect --format '{{.State.ExitCode}}' "$name")"
