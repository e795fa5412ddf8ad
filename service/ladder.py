"""Operating points as a ladder: a latency budget picks the highest rung whose live price fits,
and a larger budget never buys a less accurate or shallower point."""

from __future__ import annotations

from models.card import OperatingPoint
from service.latency_model import LatencyModel

FIT = 0.9  # a point must fit in 90% of the budget: queueing and encoding jitter need room
Rung = tuple[float, OperatingPoint]  # (live bound in seconds, operating point)


def ladder(points: list[OperatingPoint], latency: LatencyModel) -> list[Rung]:
    """(price, point) rungs, cheapest first, along which price, accuracy and mean exit depth all
    rise: from the most accurate point (the cheaper among ties) down to cheaper, less accurate,
    shallower ones. Choosing on it makes a larger budget never buy a less accurate or shallower
    answer, which picking from the whole table does not promise (a cheap point may exit deep).
    Dominated points (another is no dearer, no less accurate, no deeper) are dropped first, so
    that the walk down cannot step onto one and skip the point that dominates it."""
    scored = [
        (s, -p.accuracy, p.depth, p) for s, p in zip(latency.bounds(points), points, strict=True)
    ]
    kept = [
        x
        for x in scored
        if not any(
            y[0] <= x[0] and y[1] <= x[1] and y[2] <= x[2] and y[:3] != x[:3] for y in scored
        )
    ]
    priced = sorted(((x[0], x[3]) for x in kept), key=lambda sp: (-sp[1].accuracy, sp[0]))
    top = priced[0]
    rungs = [top]
    for s, p in sorted(priced[1:], key=lambda sp: -sp[0]):  # dearest first, below the top
        last = rungs[-1][1]
        if s < rungs[-1][0] and p.accuracy < last.accuracy and p.depth <= last.depth:
            rungs.append((s, p))
    return rungs[::-1]


def fitting_point(
    points: list[OperatingPoint], budget_s: float, latency: LatencyModel
) -> OperatingPoint | None:
    """The highest rung of the ladder whose live bound (nine pages in ten) fits the budget; None
    when none does."""
    if not points:
        return None
    fits = [p for s, p in ladder(points, latency) if s <= FIT * budget_s]
    return fits[-1] if fits else None


def choose_point(
    points: list[OperatingPoint], budget_s: float, latency: LatencyModel
) -> OperatingPoint | None:
    """The highest rung that fits the budget; when none fits, the lowest, as the deadline then
    cuts it short anyway."""
    if not points:
        return None
    return fitting_point(points, budget_s, latency) or ladder(points, latency)[0][1]


def cheapest_point(points: list[OperatingPoint], latency: LatencyModel) -> OperatingPoint | None:
    """The point with the lowest live mean price (what it costs on average, which is what a
    request without a budget should minimise; the nine-in-ten bound of two points that both
    read most pages to the end is the same), the most accurate among ties."""
    return min(points, key=lambda p: (latency.price(p), -p.accuracy), default=None)
