"""Prometheus metrics, named as issue 4 lists them, plus the config store's health.

With several uvicorn workers set PROMETHEUS_MULTIPROC_DIR (an empty folder, before the
processes start): each process then writes its values to files there and /metrics merges all
processes' files, so a scrape sees the whole service whichever worker answers it."""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    multiprocess,
)

# 1 ms to about 70 s, x1.5 per bucket: from a vision exit on a GPU to OCR of a dense page.
DURATION_BUCKETS = tuple(round(0.001 * 1.5**i, 6) for i in range(28))

NAMES = (
    "docexit_exit_layer",
    "docexit_request_duration_seconds",
    "docexit_requests_total",
    "docexit_ocr_skipped_total",
    "docexit_deadline_hit_total",
    "docexit_latency_budget_seconds",
    "docexit_exit_threshold",
    "docexit_inflight_requests",
    "docexit_predictions_total",
    "docexit_queue_depth",
    "docexit_config_rejected_total",
    "docexit_ocr_cache_rejected_total",
    "docexit_out_of_distribution_total",
    "docexit_shadow_total",
    "docexit_shadow_dropped_total",
    "docexit_certified_epsilon",
    "docexit_batch_pages",
    "docexit_batch_layer_pages_total",
    "docexit_pressure_budget_seconds",
    "docexit_degraded_total",
    "docexit_decoder_exit_layer",
    "docexit_decoder_steps_total",
)


class Metrics:
    """The service's collectors in their own registry (so several apps in one test process do
    not clash); in multiprocess mode (`multiproc_dir`, Settings.prometheus_multiproc_dir) values
    go to the shared folder instead, and /metrics merges every process's."""

    def __init__(self, num_layers: int, multiproc_dir: str | None = None) -> None:
        self.multiproc_dir = multiproc_dir
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.exit_layer = Histogram(
            "docexit_exit_layer",
            "Encoder layer a request exited at (0: an embedding exit), by stream",
            ["stage"],
            buckets=tuple(float(i) for i in range(num_layers + 1)),
            registry=r,
        )
        self.duration = Histogram(
            "docexit_request_duration_seconds",
            "Time spent per request in each stage (decode, ocr, encode) and in total",
            ["stage"],
            buckets=DURATION_BUCKETS,
            registry=r,
        )
        self.requests = Counter(
            "docexit_requests", "Classify requests by HTTP status", ["status"], registry=r
        )
        self.ocr_skipped = Counter(
            "docexit_ocr_skipped", "Requests answered by a vision exit, without OCR", registry=r
        )
        self.deadline_hit = Counter(
            "docexit_deadline_hit",
            "Requests answered early because the budget could not pay the next stage",
            registry=r,
        )
        self.budget = Gauge(
            "docexit_latency_budget_seconds",
            "Latency budget in force by default (0: none)",
            registry=r,
            multiprocess_mode="mostrecent",
        )
        self.threshold = Gauge(
            "docexit_exit_threshold",
            "Confidence threshold of each exit under the default policy (+Inf: never exits)",
            ["exit"],
            registry=r,
            multiprocess_mode="mostrecent",
        )
        self.inflight = Gauge(
            "docexit_inflight_requests",
            "Classify requests being served (queued or running)",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.queue_depth = Gauge(
            "docexit_queue_depth",
            "Classify requests waiting for a worker (in-flight minus those running)",
            registry=r,
            multiprocess_mode="livesum",
        )
        self.predictions = Counter(
            "docexit_predictions", "Answers by predicted class", ["class"], registry=r
        )
        self.store_up = Gauge(
            "docexit_config_store_up",
            "1 when the runtime config store is reachable; 0: serving the last known config",
            registry=r,
            multiprocess_mode="livemin",
        )
        self.config_version = Gauge(
            "docexit_config_version",
            "Runtime config version this process serves",
            registry=r,
            multiprocess_mode="livemin",
        )

        self.config_rejected = Counter(
            "docexit_config_rejected",
            "Runtime configs in Redis this process refused (reason: signature, malformed, "
            "version); it serves its last good config meanwhile",
            ["reason"],
            registry=r,
        )
        self.ocr_cache_rejected = Counter(
            "docexit_ocr_cache_rejected",
            "OCR cache entries that failed verification: recomputed, never used",
            registry=r,
        )
        # Shadow lane (service.shadow): its series are set to 0 by the lane, which knows the exits.
        self.shadow = Counter(
            "docexit_shadow",
            "Answered requests re-run off the request path by the cascade never exiting early, "
            "by the live answer's exit and whether the two answers agree",
            ["exit", "agree"],
            registry=r,
        )
        self.shadow_dropped = Counter(
            "docexit_shadow_dropped",
            "Requests sampled for the shadow lane but not re-run (busy: every live worker was "
            "busy; queue_full: the lane's queue was full; error: the run failed)",
            ["reason"],
            registry=r,
        )
        self.certified_epsilon = Gauge(
            "docexit_certified_epsilon",
            "Tolerated early-exit accuracy loss in force (the operator's, else the checkpoint "
            "certificate's); 0: the checkpoint carries no certificate",
            registry=r,
            multiprocess_mode="mostrecent",
        )
        self.out_of_distribution = Counter(
            "docexit_out_of_distribution",
            "Pages the checkpoint's abstention (models.ood) scored out of distribution, whether "
            "or not the service abstained on them (DOCEXIT_ABSTAIN)",
            registry=r,
        )
        self.batch_pages = Histogram(
            "docexit_batch_pages",
            "Pages sharing one encoder pass, by stream (batching on: DOCEXIT_MAX_BATCH > 1)",
            ["stream"],
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256),
            registry=r,
        )
        self.batch_layer_pages = Counter(
            "docexit_batch_layer_pages",
            "Encoder layers times pages in batched passes: run, or saved by dropping pages that "
            "had answered (a batch without it runs every page as deep as its deepest)",
            ["stream", "work"],
            registry=r,
        )
        self.pressure_budget = Gauge(
            "docexit_pressure_budget_seconds",
            "What the predicted wait for a worker leaves of the latency target of a request "
            "under the default policy (service.pressure); below the point's bound, answers "
            "degrade",
            registry=r,
            multiprocess_mode="livemin",
        )
        self.degraded = Counter(
            "docexit_degraded",
            "Answers degraded under load, by rung: a shallower operating point, the top band's "
            "OCR only (no_page_ocr), or the vision stream only",
            ["rung"],
            registry=r,
        )
        self.document_pages_read = Histogram(
            "docexit_document_pages_read",
            "Pages read per document request (POST /v1/classify with pages), by why reading "
            "stopped: confident (the document was sure), all_read, deadline",
            ["stopped"],
            buckets=(1, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 50, 100, 200, 500, 1000),
            registry=r,
        )
        self.decoder_exit_layer = Histogram(
            "docexit_decoder_exit_layer",
            "Field decoder layer each generated token left at (/v1/extract; DEED's step exits)",
            buckets=tuple(float(i) for i in range(1, 13)),
            registry=r,
        )
        self.decoder_steps = Counter(
            "docexit_decoder_steps",
            "Tokens the field decoder generated (/v1/extract), the end token included",
            registry=r,
        )
        for reason in ("signature", "malformed", "version"):  # at 0 from the start, for alerts
            self.config_rejected.labels(reason=reason)
        for rung in ("shallower_point", "no_page_ocr", "vision_only"):
            self.degraded.labels(rung=rung)

    def exposition(self) -> tuple[bytes, str]:
        """The /metrics body: this registry, or every process's values in multiprocess mode."""
        if self.multiproc_dir:
            merged = CollectorRegistry()
            multiprocess.MultiProcessCollector(merged, path=self.multiproc_dir)
            return generate_latest(merged), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


def mark_process_dead(pid: int, multiproc_dir: str | None) -> None:
    """Drop a finished worker's live gauges (inflight) from the merged view."""
    if multiproc_dir:
        multiprocess.mark_process_dead(pid, multiproc_dir)
