"""Early exit inside a batch: one encoder pass over several pages, each page meeting its own
exits under its own policy and deadline, and leaving the batch at the exit that answers it.

A pass is one stream of models.multiexit run once: the vision stream (with the image embedding
in front of it) or a multimodal pass over a page's words. Every page in it is a Lane. Before
each exit the lanes that go on are asked their deadline (models.runtime's can_run); before a
layer runs, the stream's state drops the rows of the lanes that left (select), so a page that
answered costs nothing more. A batch of one is exactly the cascade's own batch-1 run: the
cascade runs every pass through here, alone or batched (service.batcher), so batching changes
only which pages share the matrix products, not what any page is answered.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import torch
from torch import Tensor

from models.batch_errors import BatcherClosedError
from models.inputs import TextInputs, pad_text
from models.multiexit import ExitStep, MultimodalState, VisionState
from models.plan import EMBED, Exit

if TYPE_CHECKING:
    from models.runtime import Cascade, KeptText, PageRun, Prediction

Kind = Literal["vision", "multimodal"]


class Stopped(Exception):
    """A page's can_run refused its next stage: its most confident exit so far answers."""


class PlanMismatchError(RuntimeError):
    """The model yielded an exit other than the one its plan says comes next: timings, deadline
    checks and band layers would land on the wrong exits."""


@dataclass(eq=False)
class Lane:
    """One page's part in a pass. `exits`: the exits it meets, the stream's first ones (a top
    band's pass may meet fewer than a whole page's). After the pass: `answer` if an exit
    accepted (or, with `final`, the final exit answered); `stopped` if its deadline refused an
    exit; neither if it met all of `exits` undecided."""

    run: PageRun
    exits: Sequence[Exit]
    pixels: Tensor | None = None  # vision pass: [3, H, W], embedded in the pass
    text: TextInputs | None = None  # multimodal pass: the words it reads
    final: bool = False
    answer: Prediction | None = None
    stopped: bool = False


PassRunner = Callable[["Cascade", Kind, list[Lane]], object]  # runs the lanes' pass, filling them
OnBatch = Callable[[Kind, "PassStats"], None]  # a batched pass ran


@dataclass
class PassStats:
    """What a pass cost. layer_rows: pages times encoder layers actually run; without dropping
    the pages that left, every page would run as deep as the deepest one (full_rows)."""

    pages: int
    layer_rows: int = 0
    full_rows: int = 0

    @property
    def saved(self) -> float:
        """Share of the layer work that dropping finished pages saved."""
        return 1.0 - self.layer_rows / self.full_rows if self.full_rows else 0.0


def run_pass(cascade: Cascade, kind: Kind, lanes: list[Lane]) -> PassStats:
    """Run one pass of `kind` over `lanes` (all of that kind), together, at the cascade's
    precision (autocast to its dtype where it has one)."""
    dtype = cascade.dtype
    with torch.autocast(cascade.device.type, dtype=dtype, enabled=dtype is not None):
        if kind == "vision":
            return _vision(cascade, lanes)
        return _multimodal(cascade, lanes)


def _to(x: Tensor, device: torch.device) -> Tensor:
    """Host to device; on a GPU through pinned memory, so the copy does not stall the host."""
    if device.type == "cuda":
        return x.pin_memory().to(device, non_blocking=True)
    return x.to(device)


class _Held:
    """The stream's state, once it exists, so that lanes can be dropped from it."""

    state: VisionState | MultimodalState | None = None


def _vision(cascade: Cascade, lanes: list[Lane]) -> PassStats:
    model = cascade.model
    pixels = torch.stack([lane.pixels for lane in lanes if lane.pixels is not None])
    if len(pixels) != len(lanes):
        raise ValueError("every lane of a vision pass needs its pixels")
    t = time.perf_counter()
    tokens = model.embed_image(_to(pixels, cascade.device))  # [B, 1 + P, d]
    dt = time.perf_counter() - t
    for i, lane in enumerate(lanes):
        lane.run.tokens = tokens[i : i + 1]
        lane.run.timings["vision"] += dt
        if lane.run.on_stage is not None:
            lane.run.on_stage(EMBED, lane.run.timings["vision"])  # with its own preprocessing
    going = [i for i, lane in enumerate(lanes) if lane.exits]  # full depth runs no vision exit
    if not going:
        return PassStats(len(lanes))
    held = _Held()

    def steps() -> Iterator[ExitStep]:
        state, first = model.start_vision(tokens[going] if len(going) < len(lanes) else tokens)
        held.state = state
        yield from first
        yield from model.vision_layers(state)

    stats = _meet(cascade, [lanes[i] for i in going], cascade.plan.vision, steps(), held, "vision")
    stats.pages = len(lanes)
    return stats


def _multimodal(cascade: Cascade, lanes: list[Lane]) -> PassStats:
    model = cascade.model
    texts = [lane.text for lane in lanes if lane.text is not None]
    if len(texts) != len(lanes):
        raise ValueError("every lane of a multimodal pass needs its words")
    tokens = [lane.run.tokens for lane in lanes if lane.run.tokens is not None]
    if len(tokens) != len(lanes):
        raise ValueError("a multimodal pass needs every page's image embedding first")
    # Right-padded to the longest page: padding is masked out of attention and pooling.
    ids, bbox, mask = (_to(x, cascade.device) for x in pad_text(texts))
    held = _Held()

    def steps() -> Iterator[ExitStep]:
        # Embedding exits come out of start_multimodal together; layers run one per exit.
        state, first = model.start_multimodal(torch.cat(tokens), ids, bbox, mask)
        held.state = state
        yield from first
        yield from model.multimodal_steps(state)

    return _meet(cascade, lanes, cascade.plan.multimodal, steps(), held, "multimodal")


def _meet(
    cascade: Cascade,
    lanes: list[Lane],
    order: Sequence[Exit],
    steps: Iterator[ExitStep],
    held: _Held,
    bucket: str,
) -> PassStats:
    """Meet the stream's exits in `order`, one at a time from the lazy `steps`; each lane leaves
    at its answer, its deadline, or the end of its own exits. `rows[r]`: the lane whose page is
    row r of the stream's state (and of the steps it yields)."""
    rows = list(range(len(lanes)))
    alive = list(rows)  # lanes still in the pass
    stats, depth = PassStats(len(lanes)), 0
    for k, expected in enumerate(order):
        going = []
        for i in alive:
            lane = lanes[i]
            if k >= len(lane.exits):
                continue  # met all its exits undecided
            try:
                lane.run.check(expected.name)
                going.append(i)
            except Stopped:
                lane.stopped = True
        if not going:
            return stats  # nobody needs this exit: no layer runs for it
        # Embedding exits were computed together with the state; a layer is where rows cost.
        if going != rows and expected.layer > 0 and held.state is not None:
            held.state.select(torch.tensor([rows.index(i) for i in going]))
            rows = going
        t = time.perf_counter()
        step = next(steps, None)
        dt = time.perf_counter() - t
        if step is None or step.name != expected.name:
            found = "no exit" if step is None else step.name
            raise PlanMismatchError(f"the model gave {found} where its plan has {expected.name}")
        stats.layer_rows += len(rows) * (expected.layer - depth)
        stats.full_rows += len(lanes) * (expected.layer - depth)
        depth = max(depth, expected.layer)
        for i in going:
            lane = lanes[i]
            lane.run.timings[bucket] += dt
            if lane.run.on_stage is not None:
                lane.run.on_stage(expected.name, dt)
            view = cascade.view(step, rows.index(i))
            lane.run.steps.append(view)
            policy = lane.run.policy
            accept = policy is not None and policy.should_exit(view, lane.run.steps[:-1])
            if accept or (lane.final and expected == cascade.plan.final):
                if lane.run.keep_text and lane.text is not None:
                    lane.run.kept_text = _kept(held, rows.index(i), lane.text)
                lane.answer = cascade.answer(lane.run, view)
        alive = [i for i in going if lanes[i].answer is None]
        if not alive:
            return stats
    return stats


def _kept(held: _Held, row: int, text: TextInputs) -> KeptText | None:
    """The answering page's multimodal stream, for a caller that continues it."""
    from models.runtime import KeptText

    state = held.state
    return KeptText(state.row(row), text) if isinstance(state, MultimodalState) else None


@dataclass(eq=False)
class _Job:
    cascade: Cascade
    kind: Kind
    lanes: list[Lane]
    done: threading.Event
    error: BaseException | None = None


class Batcher:
    """A PassRunner that lets pages share passes: callers (one thread per page, each doing its
    own OCR meanwhile) hand it their lanes and wait; one thread gathers the lanes that arrive
    within `max_wait_s` of the first, up to `max_batch`, and runs each kind's together. A page
    never waits for more than one gathering window plus the passes run in it."""

    def __init__(self, max_batch: int, max_wait_s: float, on_batch: OnBatch | None = None) -> None:
        if max_batch < 1 or max_wait_s < 0:
            raise ValueError("max_batch must be at least 1 and max_wait_s at least 0")
        self.max_batch, self.max_wait_s, self.on_batch = max_batch, max_wait_s, on_batch
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="docexit-batcher", daemon=True)
        self._thread.start()

    def __call__(self, cascade: Cascade, kind: Kind, lanes: list[Lane]) -> None:
        if self._closed:
            raise BatcherClosedError("the batcher is closed: the service is shutting down")
        job = _Job(cascade, kind, lanes, threading.Event())
        self._jobs.put(job)
        job.done.wait()
        if job.error is not None:
            raise job.error

    def close(self) -> None:
        """Run what was handed in before, then stop; pages handed in later are refused."""
        self._closed = True
        self._jobs.put(None)
        self._thread.join()
        while True:  # handed in while closing, after the last window: refused, not left waiting
            try:
                job = self._jobs.get_nowait()
            except queue.Empty:
                return
            if job is not None:
                job.error = BatcherClosedError("the batcher closed before this page's pass ran")
                job.done.set()

    def _gather(self, first: _Job) -> tuple[list[_Job], bool]:
        """The jobs of one window, and whether close() came in it."""
        jobs, size = [first], len(first.lanes)
        until = time.perf_counter() + self.max_wait_s
        while size < self.max_batch:
            try:
                job = self._jobs.get(timeout=max(0.0, until - time.perf_counter()))
            except queue.Empty:
                break
            if job is None:
                return jobs, True
            jobs.append(job)
            size += len(job.lanes)
        return jobs, False

    def _loop(self) -> None:
        closing = False
        while not closing:
            first = self._jobs.get()
            if first is None:
                return
            jobs, closing = self._gather(first)
            groups: dict[tuple[int, Kind], list[_Job]] = {}
            for job in jobs:
                groups.setdefault((id(job.cascade), job.kind), []).append(job)
            for (_, kind), group in groups.items():
                self._run(group[0].cascade, kind, group)

    def _run(self, cascade: Cascade, kind: Kind, group: list[_Job]) -> None:
        lanes = [lane for job in group for lane in job.lanes]
        stats = None
        try:
            with torch.inference_mode():
                stats = run_pass(cascade, kind, lanes)
        except BaseException as e:  # every page of the batch hears of it, none hangs
            for job in group:
                job.error = e
        finally:
            for job in group:
                job.done.set()
        if self.on_batch is not None and stats is not None:
            self.on_batch(kind, stats)
