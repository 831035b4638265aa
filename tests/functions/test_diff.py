from __future__ import annotations

from service.deploys.planner import decide, make_plan
from service.functions import diff
from service.functions.diff import MISSING
from service.models.deployment import Strategy
from service.models.function import FunctionRef

F = FunctionRef("local", "f")

BASE = {"timeout": 3, "memorySize": 512, "environmentVariables": {"A": "1"}, "code": "111"}


def test_changes_are_leaf_pointers_with_patches() -> None:
    other = {
        "timeout": 3,
        "memorySize": 1024,
        "environmentVariables": {"B": "2"},
        "code": "222",
        "a/b": 1,
    }
    found = diff.changes(BASE, other)
    assert [c.as_dict() for c in found] == [
        {"path": "/a~1b", "base": None, "value": 1},
        {"path": "/code", "base": "111", "value": "222"},
        {"path": "/environmentVariables/A", "base": "1", "value": None},
        {"path": "/environmentVariables/B", "base": None, "value": "2"},
        {"path": "/memorySize", "base": 512, "value": 1024},
    ]
    assert [c.as_patch()["op"] for c in found] == ["add", "replace", "remove", "add", "replace"]
    assert diff.apply(BASE, found) == other
    assert "~ memorySize: 512 => 1024" in diff.render(found)


def test_lists_compare_as_whole_values() -> None:
    found = diff.changes({"layers": ["a", "b"]}, {"layers": ["b", "a"]})
    assert [(c.path, c.value) for c in found] == [("/layers", ["b", "a"])]


def test_conflicts_only_where_both_sides_differ() -> None:
    local = diff.changes(BASE, {**BASE, "timeout": 10, "memorySize": 1024})
    same = diff.changes(BASE, {**BASE, "memorySize": 1024})
    remote = diff.changes(BASE, {**BASE, "timeout": 20, "memorySize": 1024})
    assert [c.as_dict() for c in diff.conflicts(local, remote)] == [
        {"path": "/timeout", "base": 3, "local": 10, "remote": 20}
    ]
    assert diff.conflicts(same, remote) == []
    removed = diff.changes(BASE, {k: v for k, v in BASE.items() if k != "environmentVariables"})
    edited = diff.changes(BASE, {**BASE, "environmentVariables": {"A": "9"}})
    assert [c.path for c in diff.conflicts(removed, edited)] == ["/environmentVariables"]
    assert removed[0].value is MISSING


def test_strategies() -> None:
    local = {**BASE, "memorySize": 1024}
    live = {**BASE, "timeout": 20}
    plan = make_plan(F, 1, 1, BASE, local, live, applied=BASE)
    assert plan.drifted
    assert plan.conflict_code == "drift_conflict"
    assert decide(plan, Strategy.FAIL, local, live).action == "refuse"
    merged = decide(plan, Strategy.MERGE, local, live)
    assert merged.target == {**BASE, "memorySize": 1024, "timeout": 20}
    assert decide(plan, Strategy.USE_LOCAL, local, live).target == local
    assert decide(plan, Strategy.USE_REMOTE, local, live).target == live
    assert decide(plan, Strategy.USE_REMOTE, local, None).action == "refuse"
    clean = make_plan(F, 1, 1, BASE, local, BASE, applied=BASE)
    assert decide(clean, Strategy.FAIL, local, BASE).target == local
    behind = make_plan(F, 1, 2, BASE, local, live, applied=live)
    assert not behind.drifted
    assert behind.conflict_code == "revision_conflict"
    assert decide(behind, Strategy.FAIL, local, live).action == "refuse"
    first = make_plan(F, 0, 0, {}, local, None, applied=None)
    assert decide(first, Strategy.FAIL, local, None).target == local
    taken = make_plan(F, 0, 0, {}, local, live, applied=None)
    assert "adopt" in decide(taken, Strategy.FAIL, local, live).reason


def test_fingerprint_ignores_key_order() -> None:
    assert diff.fingerprint({"a": 1, "b": 2}) == diff.fingerprint({"b": 2, "a": 1})
    assert diff.fingerprint(None) != diff.fingerprint({})
