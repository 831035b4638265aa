"""A spec eval's recommendation, with the measurement noise taken into account.

The strategy ranks the specs that never failed by their trimmed-mean billed
duration and cost. The pick is then checked against every spec that is
*cheaper to run* (a lower price per second at the same duration): when their
95% intervals overlap, the measurement cannot tell the two apart, and paying
more for a difference that may be noise is not a recommendation, so the
cheaper spec is recommended instead and the strategy's own pick is named in
``equivalent_to``. Durations within the timer's resolution (FC bills whole
milliseconds) tell nothing at all: then the cheapest spec is shown and the
recommendation is marked not meaningful.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from service.evals.pricing import FREE_DISK_MB, PriceModel
from service.evals.stats import TIMER_RESOLUTION_MS, invocations_to_separate, overlap

Spec = dict[str, Any]


def spec_name(spec: Spec) -> str:
    return f"{spec['cpu']:g} vCPU · {spec['memorySize']} MB"


def strategy_key(
    ok: list[Spec], strategy: str, weight: float
) -> tuple[Callable[[Spec], tuple[float, float]], Callable[[Spec], float]]:
    """How the strategy orders specs (smaller first), and the balanced score."""
    cheapest = min(s["cost_per_invocation"] for s in ok)
    fastest = min(s["duration_ms"] for s in ok)

    def score(s: Spec) -> float:
        cost = s["cost_per_invocation"] / cheapest if cheapest else 1.0
        speed = s["duration_ms"] / fastest if fastest else 1.0
        return float(weight * cost + (1 - weight) * speed)

    def key(s: Spec) -> tuple[float, float]:
        if strategy == "cost":
            return (s["cost_per_invocation"], s["duration_ms"])
        if strategy == "speed":
            return (s["duration_ms"], s["cost_per_invocation"])
        return (score(s), s["cost_per_invocation"])

    return key, score


def _brief(spec: Spec) -> dict[str, Any]:
    return {
        "cpu": spec["cpu"],
        "memorySize": spec["memorySize"],
        "duration_ms": spec["duration_ms"],
        "cost_per_invocation": spec["cost_per_invocation"],
        "ci": spec.get("ci"),
    }


def _separation(chosen: Spec, other: Spec | None, trim: float) -> dict[str, Any] | None:
    """How far apart the recommendation and its closest rival are, and how many
    invocations would tell them apart."""
    if other is None:
        return None
    difference = round(abs(chosen["duration_ms"] - other["duration_ms"]), 2)
    a, b = chosen.get("ci"), other.get("ci")
    distinguishable = not overlap(a, b)
    needed = invocations_to_separate(difference, a, b, trim) if a and b else None
    if difference <= TIMER_RESOLUTION_MS:
        note = (
            f"{spec_name(chosen)} and {spec_name(other)} differ by {difference:g} ms, within "
            f"the timer's {TIMER_RESOLUTION_MS:g} ms resolution: equivalent"
        )
    elif distinguishable:
        note = f"{spec_name(chosen)} and {spec_name(other)} are told apart by their intervals"
    elif needed is not None:
        note = (
            f"about {needed} invocations per spec would separate {spec_name(chosen)} and "
            f"{spec_name(other)} (80% power), if the {difference:g} ms difference is real"
        )
    else:
        note = "one sample per spec has no spread: run more invocations to compare them"
    return {
        "cpu": other["cpu"],
        "memorySize": other["memorySize"],
        "difference_ms": difference,
        "distinguishable": distinguishable,
        "equivalent": difference <= TIMER_RESOLUTION_MS,
        "invocations_per_spec": needed,
        "note": note,
    }


def recommend(
    specs: list[Spec],
    strategy: str,
    weight: float = 0.5,
    *,
    price: PriceModel,
    disk_mb: int = FREE_DISK_MB,
    trim: float = 0.1,
    live: tuple[float, int] | None = None,
) -> dict[str, Any] | None:
    """Pick a spec among those that never failed; None when every spec failed."""
    ok = [s for s in specs if s["duration_ms"] is not None and not s["errors"]]
    if not ok:
        return None
    key, score = strategy_key(ok, strategy, weight)
    ranked = sorted(ok, key=key)
    pick = ranked[0]

    def rate(s: Spec) -> float:
        return price.cost_per_second(s["cpu"], s["memorySize"], disk_mb)

    durations = [s["duration_ms"] for s in ok]
    meaningful = len(ok) < 2 or max(durations) - min(durations) > TIMER_RESOLUTION_MS
    if not meaningful:
        alike = [s for s in ok if rate(s) < rate(pick)]
    else:
        alike = [s for s in ok if rate(s) < rate(pick) and overlap(s.get("ci"), pick.get("ci"))]
    chosen = min(alike, key=lambda s: (rate(s), s["duration_ms"])) if alike else pick
    rival = pick if chosen is not pick else (ranked[1] if len(ranked) > 1 else None)

    if not meaningful:
        reason = (
            f"every spec measured within {TIMER_RESOLUTION_MS:g} ms (the timer's resolution): "
            f"no meaningful pick by duration, so the cheapest to run, {spec_name(chosen)}, "
            "is shown"
        )
    elif chosen is not pick:
        reason = (
            f"{spec_name(pick)} measured {pick['duration_ms']:g} ms against "
            f"{chosen['duration_ms']:g} ms for {spec_name(chosen)}, but their 95% intervals "
            "overlap: the difference may be noise, and at equal duration "
            f"{spec_name(chosen)} costs less"
        )
    else:
        reason = f"{spec_name(chosen)} is the {strategy} strategy's pick"
        cheaper = [s for s in ok if rate(s) < rate(chosen)]
        if cheaper:
            reason += "; every cheaper spec is distinguishably slower"
    cheapest = min(s["cost_per_invocation"] for s in ok)
    fastest = min(durations)
    chosen_out: dict[str, Any] = {
        "cpu": chosen["cpu"],
        "memorySize": chosen["memorySize"],
        "strategy": strategy,
        "duration_ms": chosen["duration_ms"],
        "ci": chosen.get("ci"),
        "cost_per_invocation": chosen["cost_per_invocation"],
        "cost_per_1m": chosen["cost_per_invocation"] * 1_000_000,
        "currency": price.currency,
        "cheapest_cost_per_invocation": cheapest,
        "fastest_duration_ms": fastest,
        "relative_cost": round(chosen["cost_per_invocation"] / cheapest, 4) if cheapest else 1.0,
        "relative_duration": round(chosen["duration_ms"] / fastest, 4) if fastest else 1.0,
        "meaningful": meaningful,
        "reason": reason,
        "equivalent_to": _brief(pick) if chosen is not pick else None,
        "separation": _separation(chosen, rival, trim),
        "saving_vs_live_pct": saving_vs_live(chosen, specs, live, price, disk_mb),
    }
    if strategy == "balanced":
        chosen_out["balanced_weight"] = weight
        chosen_out["score"] = round(score(chosen), 4)
        chosen_out["scores"] = [
            {"cpu": s["cpu"], "memorySize": s["memorySize"], "score": round(score(s), 4)}
            for s in ok
        ]
    return chosen_out


def saving_vs_live(
    chosen: Spec,
    specs: list[Spec],
    live: tuple[float, int] | None,
    price: PriceModel,
    disk_mb: int = FREE_DISK_MB,
) -> float | None:
    """How much cheaper per invocation the recommendation is than the live spec as measured
    (negative: dearer); None when the live spec was not among the specs or failed. When
    their durations cannot be told apart, both are priced at the recommendation's duration:
    a noisy few milliseconds must not turn a cheaper spec into a dearer one."""
    if live is None:
        return None
    measured = next(
        (s for s in specs if (s["cpu"], s["memorySize"]) == live and s["duration_ms"] is not None),
        None,
    )
    if measured is None or not measured["cost_per_invocation"]:
        return None
    live_cost = measured["cost_per_invocation"]
    if measured is not chosen and overlap(measured.get("ci"), chosen.get("ci")):
        live_cost = price.cost_per_invocation(*live, chosen["duration_ms"], disk_mb)
    saving = 1 - chosen["cost_per_invocation"] / live_cost
    return round(float(saving) * 100, 1)
