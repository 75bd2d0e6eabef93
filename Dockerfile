# python_env server image (Hugging Face Space ready): one image for every task, no run-time
# downloads, runs as uid 1000. Build: podman build -t python-env . (or docker build).
# BASE_IMAGE: any Debian 12 image with python3 (3.11) and its venv module. The default comes from
# Docker Hub; scripts/container-smoke.sh builds on a debootstrap'd base where no registry is
# reachable. Dependencies are pinned in requirements.lock (scripts/lock-image-requirements.sh).
ARG BASE_IMAGE=python:3.11-slim-bookworm

FROM ${BASE_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python3 -m venv /opt/venv
WORKDIR /src
COPY requirements.lock ./
# pip_ca (optional build secret): a CA bundle for a TLS-intercepting proxy between the build and
# PyPI. It is mounted for this step only and is in no layer of the image.
RUN --mount=type=secret,id=pip_ca \
    if [ -s /run/secrets/pip_ca ]; then export PIP_CERT=/run/secrets/pip_ca; fi \
    && /opt/venv/bin/pip install --requirement requirements.lock
COPY pyproject.toml README.md LICENSE NOTICE ./
COPY src ./src
# No network here: the build backend is already installed from the lock.
RUN /opt/venv/bin/pip install --no-deps --no-build-isolation --no-index . \
    && /opt/venv/bin/pip uninstall --yes setuptools

FROM ${BASE_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LANG=C.UTF-8 \
    PATH=/opt/venv/bin:$PATH \
    HOST=0.0.0.0 \
    PORT=8000 \
    WORKERS=1 \
    MAX_CONCURRENT_ENVS=64
# bubblewrap: the sandbox's strongest tier, used where the container runtime lets it mount /proc.
RUN apt-get update \
    && apt-get install -y --no-install-recommends bubblewrap=0.8.0-2+deb12u1 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --create-home --uid 1000 app
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
# OpenEnv's layout: `uvicorn server.app:app` from /app serves the same app as the CMD.
COPY openenv.yaml ./
COPY server ./server
USER 1000

EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '8000')}/health\", timeout=4)"]
CMD ["python", "-m", "python_env.server"]
