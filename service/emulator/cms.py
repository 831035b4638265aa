"""CloudMonitor's DescribeMetricList for the emulator's functions (namespace ``acs_fc``).

fcplane reads FC metrics from CloudMonitor through the official SDK
(alibabacloud-cms20190101); an account pointing at the emulator sends that same
call here. It is an RPC-style POP API: ``POST /`` with the parameters in the query
string, ``x-acs-action: DescribeMetricList`` and, by default, the ACS3-HMAC-SHA256
header signature (the SDK's default). The older RPC signature (``Signature`` =
HMAC-SHA1 over the canonicalized parameters, ``SignatureMethod=HMAC-SHA1``, sent when
a client sets ``signature_algorithm='v2'``) is verified too.

The answer is CloudMonitor's: ``Datapoints`` is a JSON *string* of points, each with
``timestamp`` (ms), the dimensions and ``Value``/``Average``/``Maximum``/``Sum``.
Only periods with data appear, as on CloudMonitor.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Callable
from datetime import UTC, datetime
from urllib.parse import parse_qsl, quote

from starlette.responses import Response

from service.emulator.context import Emulator
from service.emulator.errors import FCError
from service.emulator.metric_series import Bucket
from service.emulator.signature import verify

NAMESPACE = "acs_fc"
ACTION = "DescribeMetricList"
VERSION = "2019-01-01"
MAX_LENGTH = 1440
DEFAULT_LENGTH = 1000

Statistic = Callable[[Bucket], float | None]

# FC 3.0's function metrics this emulator can answer; FunctionQualifier* is the same
# figure with a `qualifier` dimension.
_STATISTICS: dict[str, Statistic] = {
    "TotalInvocations": lambda b: b.invocations,
    "FunctionErrors": lambda b: b.errors,
    "ServerErrors": lambda b: 0,  # the emulator itself never fails an invocation
    "ClientErrors": lambda b: 0,
    "ConcurrencyThrottles": lambda b: b.throttles,
    "ResourceThrottles": lambda b: 0,  # one limit in the emulator: counted above
    "AvgDuration": lambda b: b.duration_avg_ms,
    "P99Duration": lambda b: b.duration_p99_ms,
    "MaxDuration": lambda b: b.duration_max_ms if b.duration_count else None,
    "OndemandActiveInstance": lambda b: b.instances or None,
}


def is_cms_request(method: str, raw_path: str, raw_query: str, headers: dict[str, str]) -> bool:
    """A POP RPC call (path ``/``, an action named): never an FC 3.0 REST path."""
    if raw_path != "/" or method not in ("GET", "POST"):
        return False
    return "x-acs-action" in headers or "Action=" in raw_query


def _error(status: int, code: str, message: str, request_id: str) -> Response:
    body = {"Code": code, "Message": message, "RequestId": request_id, "Success": False}
    return Response(json.dumps(body), status_code=status, media_type="application/json")


async def handle(
    emu: Emulator,
    method: str,
    raw_query: str,
    headers: dict[str, str],
    body: bytes,
    request_id: str,
) -> Response:
    params = dict(parse_qsl(raw_query, keep_blank_values=True))
    if headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
        params.update(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
    try:
        _authenticate(emu, method, raw_query, headers, body, params)
        action = params.get("Action") or headers.get("x-acs-action", "")
        version = params.get("Version") or headers.get("x-acs-version", "")
        if action != ACTION or version != VERSION:
            raise FCError(
                404, "InvalidAction.NotFound", f"{action or '?'} ({version or '?'}) is not served"
            )
        return _describe(emu, params, request_id)
    except FCError as err:
        return _error(err.status, err.code, err.message, request_id)


def _authenticate(
    emu: Emulator,
    method: str,
    raw_query: str,
    headers: dict[str, str],
    body: bytes,
    params: dict[str, str],
) -> None:
    keys = emu.settings.access_keys
    if keys is None:
        return
    if "Signature" in params:
        _verify_rpc(method, params, keys)
        return
    verify(
        method=method,
        raw_path="/",
        raw_query=raw_query,
        headers=headers,
        body=body,
        access_keys=keys,
    )


def _encode(value: str) -> str:
    return quote(value, safe="~", encoding="utf-8")


def _verify_rpc(method: str, params: dict[str, str], keys: dict[str, str]) -> None:
    """POP's RPC signature: HMAC-SHA1 with ``secret&`` over the sorted, encoded params."""
    if params.get("SignatureMethod") != "HMAC-SHA1":
        raise FCError(400, "InvalidParameter", "SignatureMethod must be HMAC-SHA1")
    secret = keys.get(params.get("AccessKeyId", ""))
    if secret is None:
        raise FCError(403, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
    signed = {k: v for k, v in params.items() if k != "Signature"}
    canonical = "&".join(f"{_encode(k)}={_encode(signed[k])}" for k in sorted(signed))
    to_sign = f"{method.upper()}&{_encode('/')}&{_encode(canonical)}"
    digest = hmac.new(f"{secret}&".encode(), to_sign.encode(), hashlib.sha1).digest()
    if not hmac.compare_digest(base64.b64encode(digest).decode(), params["Signature"]):
        raise FCError(
            403, "SignatureDoesNotMatch", "Specified signature does not match our calculation."
        )


def _invalid(message: str) -> FCError:
    return FCError(400, "InvalidParameter", message)


def _time_ms(params: dict[str, str], name: str) -> int:
    """CloudMonitor takes epoch milliseconds or ``YYYY-MM-DD HH:MM:SS`` (UTC here)."""
    raw = params.get(name, "").strip()
    if not raw:
        raise _invalid(f"{name} is mandatory for this action.")
    if raw.isdigit():
        return int(raw)
    try:
        parsed = datetime.strptime(raw, "%Y-%m-%d %H:%M:%S").replace(tzinfo=UTC)
        return int(parsed.timestamp()) * 1000
    except ValueError:
        raise _invalid(f"{name} is neither epoch milliseconds nor YYYY-MM-DD HH:MM:SS") from None


def _int(params: dict[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = params.get(name) or str(default)
    if not raw.isdigit() or not lo <= int(raw) <= hi:
        raise _invalid(f"{name} must be an integer from {lo} to {hi}")
    return int(raw)


def _dimensions(raw: str) -> dict[str, str]:
    try:
        parsed = json.loads(raw) if raw else {}
    except ValueError:
        raise _invalid("Dimensions is not valid JSON") from None
    items = parsed if isinstance(parsed, list) else [parsed]
    if len(items) != 1 or not isinstance(items[0], dict):
        raise _invalid("Dimensions must name exactly one function")
    return {str(k): str(v) for k, v in items[0].items()}


def _statistic(metric: str, dimensions: dict[str, str]) -> tuple[Statistic, bool]:
    """The figure a metric name asks for, and whether it is a per-qualifier metric."""
    for prefix, per_qualifier in (("FunctionQualifier", True), ("Function", False)):
        if metric.startswith(prefix) and metric[len(prefix) :] in _STATISTICS:
            if per_qualifier and not dimensions.get("qualifier"):
                raise _invalid(f"{metric} needs a qualifier dimension")
            return _STATISTICS[metric[len(prefix) :]], per_qualifier
    raise _invalid(f"metric {metric!r} is not served by the emulator for {NAMESPACE}")


def _describe(emu: Emulator, params: dict[str, str], request_id: str) -> Response:
    if params.get("Namespace") != NAMESPACE:
        raise _invalid(f"Namespace must be {NAMESPACE}: the emulator serves FC metrics only")
    dimensions = _dimensions(params.get("Dimensions", ""))
    function = dimensions.get("functionName")
    if not function:
        raise _invalid("Dimensions must include functionName")
    region = dimensions.get("region") or dimensions.get("regionId")
    if region and region != emu.settings.region:
        raise _invalid(f"region {region} is not this emulator's ({emu.settings.region})")
    statistic, per_qualifier = _statistic(params.get("MetricName", ""), dimensions)
    start, end = _time_ms(params, "StartTime"), _time_ms(params, "EndTime")
    if start >= end:
        raise _invalid("StartTime must be earlier than EndTime")
    period = _int(params, "Period", 60, 1, 86_400)
    length = _int(params, "Length", DEFAULT_LENGTH, 1, MAX_LENGTH)
    offset = _int(params, "NextToken", 0, 0, 10**9)
    qualifier = dimensions["qualifier"] if per_qualifier else None
    # CloudMonitor's range is (StartTime, EndTime]; buckets start on whole seconds t,
    # so start < t*1000 <= end reads as [(start+1)/1000, (end+1)/1000) in seconds.
    points = emu.metrics.series.query(
        function, qualifier, (start + 1) / 1000, (end + 1) / 1000, period
    )
    rows = []
    for point in points:
        value = statistic(point.bucket)
        if value is None:
            continue
        rows.append(
            {
                "timestamp": point.timestamp * 1000,
                "userId": emu.settings.account_id,
                **dimensions,
                "Value": value,
                "Average": value,
                "Maximum": value,
                "Sum": value,
            }
        )
    page = rows[offset : offset + length]
    doc: dict[str, object] = {
        "RequestId": request_id,
        "Success": True,
        "Code": "200",
        "Period": str(period),
        "Datapoints": json.dumps(page, separators=(",", ":")),
    }
    if offset + length < len(rows):
        doc["NextToken"] = str(offset + length)
    return Response(json.dumps(doc), media_type="application/json")
