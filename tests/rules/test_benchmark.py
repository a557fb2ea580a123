"""The rule-engine benchmark runs end to end on a small inventory (speed is measured in CI logs)."""

from __future__ import annotations

import importlib.util
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "benchmarks" / "rules_engine.py"


def _module():
    spec = importlib.util.spec_from_file_location("rules_engine_benchmark", BENCH)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_benchmark_reports_its_figures_on_a_small_inventory():
    bench = _module()

    figures = bench.run(2000, seed=1)

    assert figures["resources"] == 2000
    assert figures["findings"] > 0 and figures["skipped"] > 0
    assert figures["resources_per_s"] > 0 and figures["rule_evaluations_per_s"] > 0
    assert figures["decode_s"] > 0 and figures["peak_memory_mb"] > 0


def test_synthetic_inventory_is_deterministic_and_schema_shaped():
    from fintropy.inventory_schema import check_resource_attrs

    bench = _module()
    first = bench.synthetic_inventory(300, seed=5)

    assert first == bench.synthetic_inventory(300, seed=5)
    for item in first:
        assert check_resource_attrs(item["resource_type"], item["attrs"]) == []
