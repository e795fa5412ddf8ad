# docexit service image (CPU). Build: docker build -t docexit .
# The Debian packages come from the Makefile's `make sysdeps`, so the image and CI install the same
# set; the shipped checkpoint is baked in at /app/models/checkpoints/default, and another can be
# mounted and named with DOCEXIT_CHECKPOINT.
ARG PYTHON=python:3.11-slim-bookworm

# -- build: the project's Python dependencies in a venv ---------------------------------------
FROM ${PYTHON} AS build
WORKDIR /src
RUN python -m venv /opt/venv
COPY pyproject.toml README.md ./
COPY models ./models
COPY service ./service
RUN /opt/venv/bin/pip install --no-cache-dir .

# -- runtime -----------------------------------------------------------------------------------
FROM ${PYTHON}
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
RUN useradd --uid 1000 --create-home docexit && chown -R docexit /app
USER 1000
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ['PORT']}/readyz\", timeout=4)"]
# uvicorn drains in-flight requests for up to 30 s on SIGTERM (service/__main__.py).
STOPSIGNAL SIGTERM
CMD ["python", "-m", "service"]
