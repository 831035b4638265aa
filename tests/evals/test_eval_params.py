"""Bad eval input is refused before anything runs: 422 naming the field."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import ValidationError

from service.evals.kinds import EVAL_CONCURRENCY, EVAL_SPEC
from service.evals.pricing import PriceModel, default_ladder, spec_problem
from service.evals.schemas import EvalConcurrencyParams, EvalSpecParams
from service.evals.spec import trimmed_mean
from service.kit.errors import InvalidInput
from service.kit.settings import Settings


@pytest.mark.parametrize(
    ("spec", "reason"),
    [
        ({"cpu": 0.07, "memorySize": 128}, "multiple of 0.05"),
        ({"cpu": 0, "memorySize": 128}, "multiple of 0.05"),
        ({"cpu": 16.05, "memorySize": 32768}, "multiple of 0.05"),
        ({"cpu": 1, "memorySize": 1000}, "multiple of 64"),
        ({"cpu": 1, "memorySize": 64}, "multiple of 64"),
        ({"cpu": 1, "memorySize": 512}, "GB per vCPU"),
        ({"cpu": 0.5, "memorySize": 4096}, "GB per vCPU"),
    ],
)
def test_specs_outside_fc_rules(spec: dict[str, Any], reason: str) -> None:
    with pytest.raises(ValidationError) as exc:
        EvalSpecParams.model_validate({"specs": [spec], "invocations": 5})
    error = exc.value.errors()[0]
    assert error["loc"][0] == "specs"
    assert reason in error["msg"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"invocations": 0}, "invocations"),
        ({"invocations": 5, "warmup": -1}, "warmup"),
        ({"invocations": 5, "trim": 0.5}, "trim"),
        ({"invocations": 5, "strategy": "cheap"}, "strategy"),
        ({"invocations": 5, "balanced_weight": 1.5}, "balanced_weight"),
        ({"invocations": 5, "specs": []}, "specs"),
        ({"invocations": 5, "extra": 1}, "extra"),
    ],
)
def test_spec_params_refused(params: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        EvalSpecParams.model_validate(params)
    assert exc.value.errors()[0]["loc"][0] == field


async def test_spec_bounds_from_settings() -> None:
    with pytest.raises(InvalidInput) as exc:
        await EVAL_SPEC.validate(EvalSpecParams(invocations=1001), {}, Settings())
    assert exc.value.extra["field"] == "params.invocations"
    many = [{"cpu": cpu, "memorySize": int(cpu * 2048)} for cpu in (0.25, 0.5, 1.0)]
    with pytest.raises(InvalidInput) as exc:
        await EVAL_SPEC.validate(
            EvalSpecParams.model_validate({"specs": many, "invocations": 1}),
            {},
            Settings(eval_max_specs=2),
        )
    assert exc.value.extra["field"] == "params.specs"


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"concurrency": [0, 2], "duration_s": 5, "rt_threshold_ms": 100}, "concurrency"),
        ({"concurrency": [], "duration_s": 5, "rt_threshold_ms": 100}, "concurrency"),
        ({"concurrency": {"min": 4, "max": 2}, "duration_s": 5, "rt_threshold_ms": 100},
         "concurrency"),
        ({"concurrency": [1], "duration_s": 0, "rt_threshold_ms": 100}, "duration_s"),
        ({"concurrency": [1], "duration_s": 5, "rt_threshold_ms": -1}, "rt_threshold_ms"),
        ({"concurrency": [1], "duration_s": 5, "rt_threshold_ms": 100, "target": "x"}, "target"),
    ],
)  # fmt: skip
def test_concurrency_params_refused(params: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as exc:
        EvalConcurrencyParams.model_validate(params)
    assert exc.value.errors()[0]["loc"][0] == field


async def test_concurrency_bounds_and_http_trigger() -> None:
    settings = Settings()

    async def refused(params: dict[str, Any], facts: dict[str, Any]) -> str:
        with pytest.raises(InvalidInput) as exc:
            await EVAL_CONCURRENCY.validate(
                EvalConcurrencyParams.model_validate(params), facts, settings
            )
        assert exc.value.status == 422
        field: str = exc.value.extra["field"]
        return field

    base = {"duration_s": 5, "rt_threshold_ms": 100}
    assert await refused({**base, "concurrency": [1, 500]}, {}) == "params.concurrency"
    assert (
        await refused({**base, "concurrency": [1], "duration_s": 99999}, {}) == "params.duration_s"
    )
    assert (
        await refused({**base, "concurrency": [1], "target": "http"}, {"http_trigger_url": None})
        == "params.target"
    )
    assert (
        await refused({**base, "concurrency": [1]}, {"config": {"runtime": "python3.10"}})
        == "function"
    )
    await EVAL_CONCURRENCY.validate(
        EvalConcurrencyParams.model_validate({**base, "concurrency": {"min": 1, "max": 8}}),
        {"config": {"runtime": "custom.debian12"}},
        settings,
    )


def test_concurrency_range_steps() -> None:
    params = EvalConcurrencyParams.model_validate(
        {"concurrency": {"min": 2, "max": 9, "step": 3}, "duration_s": 1, "rt_threshold_ms": 1}
    )
    assert params.levels() == [2, 5, 8, 9]


def test_default_ladder_obeys_fc_rules() -> None:
    for live in [(0.35, 512), (0.05, 128), (1.0, 4096), (2.0, 2048)]:
        ladder = default_ladder(*live)
        assert ladder, live
        assert all(spec_problem(cpu, mem) is None for cpu, mem in ladder), ladder
    assert (0.35, 512) in default_ladder(0.35, 512)


def test_price_model_matches_fc_wire() -> None:
    price = PriceModel.from_settings(Settings())
    # 1 vCPU, 1 GB, 1000 ms: 1 + 0.15 CU, plus 75 CU per 10,000 invocations.
    assert price.cu_per_invocation(1.0, 1024, 1000) == pytest.approx(1.15 + 0.0075)
    assert price.cost_per_invocation(1.0, 1024, 1000) == pytest.approx(1.1575 * 0.00002)
    assert price.cu_per_invocation(1.0, 1024, 1000, disk_mb=10240) == pytest.approx(
        1.1575 + 9.5 * 0.05
    )
    priced = PriceModel.from_settings(Settings(price_per_cu=1.0))
    assert priced.cost_per_invocation(0.5, 512, 100) == pytest.approx(
        0.5 * 0.1 + 0.5 * 0.1 * 0.15 + 0.0075
    )


def test_trimmed_mean_discards_both_tails() -> None:
    assert trimmed_mean([1, 100, 10, 10, 10, 10, 10, 10, 10, 1000], 0.1) == 10 + 90 / 8
    assert trimmed_mean([5], 0.4) == 5
