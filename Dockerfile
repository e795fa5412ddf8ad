# docexit service image, CPU or CUDA from one file:
#   docker build -t docexit:cpu .
#   docker build -t docexit:cuda --build-arg VARIANT=cuda .   (run with --gpus all)
# Python packages: exactly the lock of the variant (requirements/runtime-cpu.txt or
# runtime-cuda.txt, from `make lock`), every file checked against its hash, as `make venv`
# installs requirements/dev.txt. The Debian packages come from the Makefile's `make sysdeps`, so
# the image and CI install the same set. The shipped checkpoint is baked in at
# /app/models/checkpoints/default; mount another read-only (readable by uid 1000) and name it:
#   docker run -v /srv/ckpt:/checkpoints/mine:ro -e DOCEXIT_CHECKPOINT=/checkpoints/mine ...
# Both variants are x86-64 (the locks are) and share one base: the CUDA build of torch brings
# its CUDA libraries as locked wheels (nvidia-*, CUDA 13), so the host needs only the NVIDIA
# driver (580 or newer) and the container toolkit.
ARG VARIANT=cpu
ARG BASE=python:3.11-slim-bookworm

FROM ${BASE} AS base

# -- build: the locked Python packages in a venv, then the project without dependencies --------
FROM base AS build
ARG VARIANT
# The CPU build of torch is the one locked file PyPI does not carry. pip keeps to the lock's
# hashes whichever index offers a file.
ARG CPU_TORCH_INDEX=https://download.pytorch.org/whl/cpu
WORKDIR /src
RUN python -m venv /opt/venv
COPY requirements ./requirements
RUN case "$VARIANT" in \
        cpu) index="--extra-index-url $CPU_TORCH_INDEX" ;; \
        cuda) index="" ;; \
        *) echo "VARIANT must be cpu or cuda, not '$VARIANT'" >&2; exit 1 ;; \
    esac \
    && /opt/venv/bin/pip install --no-cache-dir --require-hashes $index \
        -r "requirements/runtime-$VARIANT.txt"
COPY pyproject.toml README.md ./
COPY models ./models
COPY service ./service
COPY docexit ./docexit
RUN /opt/venv/bin/pip install --no-cache-dir --no-deps --no-build-isolation . \
    && /opt/venv/bin/pip check

# -- runtime -----------------------------------------------------------------------------------
FROM base AS runtime
ARG VARIANT
LABEL org.opencontainers.image.title="docexit" io.docexit.variant="${VARIANT}"
ENV PATH=/opt/venv/bin:$PATH PYTHONUNBUFFERED=1 HOST=0.0.0.0 PORT=8000 \
    DOCEXIT_CHECKPOINT=/app/models/checkpoints/default
WORKDIR /app
COPY Makefile ./
RUN apt-get update -qq && apt-get install -y -qq --no-install-recommends make >/dev/null \
    && make sysdeps \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /opt/venv /opt/venv
COPY models ./models
COPY service ./service
COPY docexit ./docexit
# uid 1000. The code and the checkpoint stay root-owned, only readable by the service: it
# cannot rewrite its own model.
RUN useradd --uid 1000 --create-home docexit \
    && chmod -R a+rX /app
USER 1000
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=90s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ['PORT']}/readyz\", timeout=4)"]
# On SIGTERM the service fails /readyz for DOCEXIT_SHUTDOWN_DRAIN_S (5 s) while serving, then
# uvicorn stops accepting, lets in-flight requests finish for up to 30 s (service/__main__.py)
# and exits: give it more than both (compose: stop_grace_period 40s; Kubernetes:
# terminationGracePeriodSeconds 45). Exec form, so python gets the signal itself.
STOPSIGNAL SIGTERM
CMD ["python", "-m", "service"]
