# docexit service image, CPU or CUDA from one file:
#   docker build -t docexit:cpu .
#   docker build -t docexit:cuda --build-arg VARIANT=cuda .   (run with --gpus all)
# The Debian/Ubuntu packages come from the Makefile's `make sysdeps`, so the image and CI
# install the same set; torch comes from the PyTorch index of the variant, at the version
# pyproject.toml pins. The shipped checkpoint is baked in at /app/models/checkpoints/default;
# mount another read-only (readable by uid 1000) and name it:
#   docker run -v /srv/ckpt:/checkpoints/mine:ro -e DOCEXIT_CHECKPOINT=/checkpoints/mine ...
ARG VARIANT=cpu
ARG CPU_BASE=python:3.11-slim-bookworm
# Ubuntu 24.04: Python 3.12 from the distribution (the project needs >= 3.11).
ARG CUDA_BASE=nvidia/cuda:12.8.1-cudnn-runtime-ubuntu24.04

# -- one base per variant; build and runtime share it, so the venv's python link holds --------
FROM ${CPU_BASE} AS base-cpu

FROM ${CUDA_BASE} AS base-cuda
RUN apt-get update -qq \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
        python3 python3-venv >/dev/null \
    && rm -rf /var/lib/apt/lists/* \
    && ln -s /usr/bin/python3 /usr/local/bin/python

# -- build: the project's Python dependencies in a venv ---------------------------------------
FROM base-${VARIANT} AS build
ARG VARIANT
ARG CPU_TORCH_INDEX=https://download.pytorch.org/whl/cpu
ARG CUDA_TORCH_INDEX=https://download.pytorch.org/whl/cu128
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml README.md ./
# torch first, from the variant's index (PyPI's Linux wheel is a multi-GB CUDA build even for
# the CPU image); `pip install .` then finds the pin satisfied and keeps it.
RUN case "$VARIANT" in \
        cpu) index="$CPU_TORCH_INDEX" ;; \
        cuda) index="$CUDA_TORCH_INDEX" ;; \
        *) echo "VARIANT must be cpu or cuda, not '$VARIANT'" >&2; exit 1 ;; \
    esac \
    && torch="$(grep -o '"torch==[^"]*"' pyproject.toml | tr -d '"')" \
    && /opt/venv/bin/pip install --no-cache-dir --index-url "$index" "$torch"
COPY models ./models
COPY service ./service
RUN /opt/venv/bin/pip install --no-cache-dir .

# -- runtime -----------------------------------------------------------------------------------
FROM base-${VARIANT} AS runtime
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
# uid 1000 (Ubuntu images already give it to a user "ubuntu": that one goes). The code and the
# checkpoint stay root-owned, only readable by the service: it cannot rewrite its own model.
RUN (userdel --remove ubuntu 2>/dev/null || true) \
    && useradd --uid 1000 --create-home docexit \
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
