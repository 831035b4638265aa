"""Where the emulator had to guess: FC behaviour no primary source confirmed.

Each choice below is what the emulator does for custom domains, timer
triggers, JWT-authenticated HTTP triggers and ListInstances where FC's public
documentation and the official SDK stop short. Everything else in those
features follows the SDK's models and FC's documentation. To correct a guess,
change it here; the modules that act on it import it from here.

- ``timer_event``: the event a timer trigger delivers is the JSON object
  ``{"triggerTime": "<UTC, seconds, Z>", "triggerName": ..., "payload": ...}``
  (FC's docs say the trigger message is the event's ``payload``; the other
  two keys and the time format are from examples, not a reference).
- Timer intervals below a minute (``@every 1s``, ``* * * * * *``) are
  accepted so that local schedules can be tested in seconds; FC's console
  offers minutes.
- Timer invocations are asynchronous invocations of the trigger's qualifier,
  retried per the function's async-invoke config, but they do not create
  async-task records (ListAsyncTasks does not show them).
- ``JWT_FAILED``: a request that fails JWT authentication gets HTTP 401 with
  this error code (in FC's ``{"Code", "Message", "RequestId"}`` body and
  ``x-fc-error-type: FcCommonError``).
- ``ROUTE_NOT_FOUND``: a request to a custom domain whose path matches no
  route gets 404 with this code; ``NO_HTTP_TRIGGER``: a route to a function
  without an HTTP trigger on the route's qualifier gets 404 with this code.
- A request through a custom domain passes the domain's ``authConfig`` and then
  the HTTP trigger's own auth, so a route never opens a protected trigger.
- Custom-domain route paths and rewrite rules match the path as sent
  (percent-encoded), before decoding; a matching regex rule replaces the
  whole path with its expanded replacement (``$1``... are the groups), and a
  route's ``methods`` refuse other methods like an HTTP trigger does (400
  ``MethodNotAllowed``).
- ``CustomDomain`` echoes the optional configs as they were given (no
  defaults filled in for ``authConfig``, ``wafConfig``, ...; ``protocol``
  defaults to HTTP) and reports ``subdomainCount`` as ``"0"``.
- ``GetCustomDomain`` never returns ``certConfig.privateKey`` (fcplane's rule:
  secrets stay out of responses).
- ``AUTO_DOMAIN_SUFFIX``: ``domainName: auto`` becomes
  ``<random>.<region>`` + this suffix (FC's tooling assigns a test domain).
- ``PROVISIONED`` / ``ON_DEMAND``: ``InstanceInfo.resourceType`` values for
  instances kept by a provision config and for instances started by demand.
"""

from __future__ import annotations

import json
from datetime import datetime

JWT_FAILED = "InvalidJWT"
ROUTE_NOT_FOUND = "RouteNotFound"
NO_HTTP_TRIGGER = "TriggerNotFound"
AUTO_DOMAIN_SUFFIX = ".fcapp.localhost"
PROVISIONED = "Provisioned"
ON_DEMAND = "OnDemand"


def timer_event(trigger_time: datetime, trigger_name: str, payload: str) -> bytes:
    """The event a timer trigger invokes its function with (``trigger_time`` in UTC)."""
    event = {
        "triggerTime": trigger_time.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "triggerName": trigger_name,
        "payload": payload,
    }
    return json.dumps(event, ensure_ascii=False).encode()
