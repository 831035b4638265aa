"""Example eval results for the OpenAPI document (one place, so the schemas stay readable)."""

from __future__ import annotations

from pydantic import JsonValue

PRICE_MODEL_EXAMPLE: dict[str, JsonValue] = {
    "price_per_cu": 2e-05,
    "cu_per_vcpu_second": 1.0,
    "cu_per_gb_second": 0.15,
    "cu_per_disk_gb_second": 0.05,
    "cu_per_10k_invocations": 75.0,
    "currency": "USD",
}

_T_INTERVAL: dict[str, JsonValue] = {
    "level": 0.95,
    "method": "t",
    "low": 176.1,
    "high": 188.7,
    "stderr": 2.98,
    "samples": 20,
}

SPEC_EXAMPLE: dict[str, JsonValue] = {
    "cpu": 1.0,
    "memorySize": 2048,
    "invocations": 20,
    "errors": 0,
    "error_types": {},
    "duration_ms": 182.4,
    "ci": _T_INTERVAL,
    "cost_per_invocation": 4.1e-06,
    "cost_ci": {"low": 3.98e-06, "high": 4.24e-06},
    "cu_per_invocation": 0.2052,
    "min_ms": 170,
    "p50_ms": 181,
    "max_ms": 240,
    "max_memory_mb": 61.2,
}

SPEC_RESULT_EXAMPLE: dict[str, JsonValue] = {
    "specs": [SPEC_EXAMPLE],
    "recommendation": {
        "cpu": 1.0,
        "memorySize": 2048,
        "strategy": "speed",
        "duration_ms": 182.4,
        "ci": _T_INTERVAL,
        "cost_per_invocation": 4.1e-06,
        "cost_per_1m": 4.1,
        "currency": "USD",
        "cheapest_cost_per_invocation": 4.1e-06,
        "fastest_duration_ms": 171.0,
        "relative_cost": 1.0,
        "relative_duration": 1.0667,
        "meaningful": True,
        "reason": "1 vCPU · 4096 MB measured 171 ms against 182.4 ms for 1 vCPU · 2048 MB, "
        "but their 95% intervals overlap: the difference may be noise, and at equal "
        "duration 1 vCPU · 2048 MB costs less",
        "equivalent_to": {
            "cpu": 1.0,
            "memorySize": 4096,
            "duration_ms": 171.0,
            "cost_per_invocation": 4.9e-06,
            "ci": {**_T_INTERVAL, "low": 150.2, "high": 191.8, "stderr": 9.9},
        },
        "separation": {
            "cpu": 1.0,
            "memorySize": 4096,
            "difference_ms": 11.4,
            "distinguishable": False,
            "equivalent": False,
            "invocations_per_spec": 210,
            "note": "about 210 invocations per spec would separate 1 vCPU · 2048 MB and "
            "1 vCPU · 4096 MB (80% power), if the 11.4 ms difference is real",
        },
        "saving_vs_live_pct": 16.3,
    },
    "live": {"cpu": 1.0, "memorySize": 4096, "measured": SPEC_EXAMPLE},
    "copy": "hello--eval-3f2a",
    "trim": 0.1,
    "invocations": 20,
    "warmup": 2,
    "price_model": PRICE_MODEL_EXAMPLE,
    "ci_method": "Student-t interval of the trimmed mean with Yuen's winsorized variance",
    "timer_resolution_ms": 1.0,
    "warnings": [],
    "wall_s": 41.2,
}

_P99_INTERVAL: dict[str, JsonValue] = {
    "level": 0.95,
    "method": "order-statistic",
    "low": 91.0,
    "high": 102.5,
    "capped": False,
    "samples": 5210,
}

CONCURRENCY_RESULT_EXAMPLE: dict[str, JsonValue] = {
    "steps": [
        {
            "concurrency": 10,
            "requests": 5210,
            "p50_ms": 18.2,
            "p99_ms": 95.0,
            "p99_ci": _P99_INTERVAL,
            "rps": 520.4,
            "errors": 0,
            "throttles": 0,
            "error_types": {},
        }
    ],
    "recommendation": {
        "instanceConcurrency": 10,
        "cost_per_10k": 0.0021,
        "currency": "USD",
        "p99_ms": 95.0,
        "p99_ci": _P99_INTERVAL,
        "rps": 520.4,
        "rt_threshold_ms": 200.0,
        "cpu": 1.0,
        "memorySize": 2048,
        "reason": "instanceConcurrency 10 is the highest step whose p99 (95 ms, 95% interval "
        "up to 102.5 ms) stays under 200 ms",
        "saving_vs_live_pct": 88.1,
    },
    "target": "http",
    "duration_s": 10.0,
    "rt_threshold_ms": 200.0,
    "copy": "hello--eval-3f2a",
    "live": {"cpu": 1.0, "memorySize": 2048, "instanceConcurrency": 1},
    "price_model": PRICE_MODEL_EXAMPLE,
    "ci_method": "distribution-free order-statistic interval of the p99",
    "wall_s": 52.0,
}
