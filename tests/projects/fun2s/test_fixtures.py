"""Every real Funcraft template converts; the result agrees with the upstream chain where it should.

The upstream reference (fc-transform → s2tos3, ``expected.fc3.s.yaml``) is compared on
function names, runtime, handler, code, timeout, initializer, the service settings each
function inherits, trigger names/types/sourceArn and custom-domain routes. Deliberate
differences, each also reported by the conversion itself:

- CDN triggers are ``cdn_events`` with ``filter.domain`` (upstream: ``cdn``, ``filter.Domain``);
- every event source sits in ``sourceArn`` (upstream: OSS only, as ``${this.props.region}``;
  ours uses ``${vars.region}``), and triggers without an InvocationRole get the standard one;
- RDS triggers are not emitted (no FC 3.0 type) but listed in ``unmapped``;
- service settings are inlined in each function (upstream: ``template`` + ``extend``), and
  ``Policies`` become a role ARN (upstream keeps a ``{name, policies}`` object fc3 refuses);
- custom-domain routes go on the target function's ``customDomain`` (upstream: ``fc3-domain``
  resources, with bare 2.0 names such as ``nodejs8``); routes to functions outside the
  template are listed in ``unmapped`` instead;
- ``internetAccess`` appears only when the template sets it (upstream writes the default true);
  Log/TableStore/MNSTopic/Api resources become ``unmapped`` entries, not ``devsapp/sls`` resources.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from service.projects.fun2s import Conversion, convert_template
from tests.projects.shared import fixture_names, sdevs_fixtures

TEMPLATES = fixture_names("fun2s-pairs", "*/template.yml")
STANDALONE = fixture_names("funcraft", "*.template.y*ml")
PAIRS = [name.split("/")[0] for name in fixture_names("fun2s-pairs", "*/expected.fc3.s.yaml")]
UPSTREAM_TYPE = {"cdn": "cdn_events"}


def _convert(path: Path) -> Conversion:
    return convert_template(path.read_text(), filename=path.name)


def _check_document(conversion: Conversion) -> None:
    loaded = yaml.safe_load(conversion.syaml)
    assert loaded == conversion.document
    assert list(loaded)[:3] == ["edition", "name", "access"]
    assert loaded["edition"] == "3.0.0"
    assert loaded["access"] == "default"
    assert loaded["vars"]["region"]
    for resource in loaded["resources"].values():
        assert resource["component"] == "fc3"
        props = resource["props"]
        assert list(props)[:2] == ["region", "functionName"]
        assert props["region"] == "${vars.region}"
        assert "$" in props["functionName"]
        for trigger in props.get("triggers", []):
            assert set(trigger) <= {
                "triggerName", "triggerType", "triggerConfig", "qualifier", "sourceArn",
                "invocationRole",
            }  # fmt: skip


@pytest.mark.parametrize("name", TEMPLATES)
def test_every_pair_template_converts(name: str) -> None:
    _check_document(_convert(sdevs_fixtures() / "fun2s-pairs" / name))


@pytest.mark.parametrize("name", STANDALONE)
def test_every_standalone_template_converts(name: str) -> None:
    _check_document(_convert(sdevs_fixtures() / "funcraft" / name))


def test_conversion_is_deterministic() -> None:
    path = sdevs_fixtures() / "fun2s-pairs" / "fc-transform-example" / "template.yml"
    assert _convert(path).syaml == _convert(path).syaml


def _upstream_functions(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """fc3 resources by functionName, with their ``extend`` template merged in."""
    templates = document.get("template") or {}
    functions = {}
    for resource in document["resources"].values():
        if resource["component"] != "fc3":
            continue
        base = templates.get((resource.get("extend") or {}).get("name"), {})
        props = {**base, **resource["props"]}
        functions[props["functionName"]] = props
    return functions


def _upstream_routes(document: dict[str, Any]) -> set[tuple[str, str]]:
    return {
        (resource["props"]["domainName"], route["path"])
        for resource in document["resources"].values()
        if resource["component"] == "fc3-domain"
        for route in resource["props"]["routeConfig"]["routes"]
    }


def _normal_arn(arn: str) -> str:
    return arn.replace("${this.props.region}", "${vars.region}").replace(
        '"AccountID"', "'AccountID'"
    )


@pytest.mark.parametrize("case", PAIRS)
def test_agrees_with_the_upstream_chain(case: str) -> None:
    folder = sdevs_fixtures() / "fun2s-pairs" / case
    expected = _upstream_functions(yaml.safe_load((folder / "expected.fc3.s.yaml").read_text()))
    conversion = _convert(folder / "template.yml")
    ours = {
        r["props"]["functionName"]: r["props"] for r in conversion.document["resources"].values()
    }
    assert set(ours) == set(expected)
    for name, theirs in expected.items():
        mine = ours[name]
        for key in ("runtime", "handler", "code", "timeout", "instanceLifecycleConfig"):
            assert mine.get(key) == theirs.get(key), (name, key)
        for key in ("vpcConfig", "nasConfig", "logConfig"):
            assert mine.get(key) == theirs.get(key), (name, key)
        if isinstance(theirs.get("role"), str):
            assert mine["role"] == theirs["role"]
        elif "role" in theirs:
            assert mine["role"].startswith("acs:ram::")  # gap 1: an ARN, never {name, policies}
        _compare_triggers(conversion, name, theirs.get("triggers", []), mine.get("triggers", []))
    _compare_routes(conversion, yaml.safe_load((folder / "expected.fc3.s.yaml").read_text()))


def _compare_triggers(
    conversion: Conversion, name: str, theirs: list[dict[str, Any]], mine: list[dict[str, Any]]
) -> None:
    by_name = {t["triggerName"]: t for t in mine}
    kept = [t for t in theirs if t["triggerType"] != "rds"]
    assert [t["triggerName"] for t in kept] == list(by_name)
    for upstream in theirs:
        if upstream["triggerType"] == "rds":
            assert any(
                u.path.endswith(f"Events.{upstream['triggerName']}") for u in conversion.unmapped
            )
            continue
        trigger = by_name[upstream["triggerName"]]
        assert trigger["triggerType"] == UPSTREAM_TYPE.get(
            upstream["triggerType"], upstream["triggerType"]
        )
        assert trigger.get("qualifier") == upstream.get("qualifier")
        if "sourceArn" in upstream:
            assert trigger["sourceArn"] == _normal_arn(upstream["sourceArn"])
        elif trigger["triggerType"] not in ("http", "timer"):
            assert trigger["sourceArn"].startswith("acs:")  # gap 2
        if "invocationRole" in upstream:
            assert trigger["invocationRole"] == upstream["invocationRole"]


def _compare_routes(conversion: Conversion, upstream: dict[str, Any]) -> None:
    attached = {
        (r["props"]["customDomain"]["domainName"], r["props"]["customDomain"]["route"]["path"])
        for r in conversion.document["resources"].values()
        if "customDomain" in r["props"]
    }
    reported = {
        u.path.rsplit(".Routes.", 1)[1] for u in conversion.unmapped if ".Routes." in u.path
    }
    expected = _upstream_routes(upstream)
    assert {path for _, path in expected} == {path for _, path in attached} | reported
    assert attached <= expected
