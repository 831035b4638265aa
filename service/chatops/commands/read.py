"""Commands that look: ``status``, ``drift`` and ``jobs``."""

from __future__ import annotations

from service.chatops.commands.context import Context, Result, done, resolve_function, resolve_target
from service.chatops.commands.grammar import Flag, Parsed, Spec
from service.chatops.commands.tables import change_table, field_path, value, when
from service.chatops.contract import Reply, Tone
from service.functions.paths import function_path
from service.jobs.links import signed_report_url
from service.models.drift import DriftEventStatus
from service.models.function import DriftStatus

ACCOUNT = Flag(
    "account", "the account alias (default: the only or the default account)", metavar="A"
)

STATUS = Spec(
    "status",
    "head and applied revision, drift, the last deploy",
    args=("function",),
    flags=(ACCOUNT,),
)
DRIFT = Spec(
    "drift",
    "open drift (a function's, or every function's); --check checks FC now",
    optional=("function",),
    flags=(ACCOUNT, Flag("check", "read FC now instead of the last result", switch=True)),
)
JOBS = Spec("jobs", "a job's status, progress and report", args=("id",))

_DRIFT_WORDS = {
    DriftStatus.IN_SYNC: "in sync",
    DriftStatus.DRIFTED: "drifted",
    DriftStatus.MISSING: "missing in FC",
    DriftStatus.UNKNOWN: "not checked yet",
}


async def status(ctx: Context, parsed: Parsed) -> Result:
    name = parsed.args[0]
    target = await resolve_target(ctx, name, parsed.flags.get("account"))
    if target.kind == "project":
        return await _project_status(ctx, str(target.project))
    assert target.ref is not None
    function = await ctx.functions().get(target.ref)
    recent = await ctx.deploys().deployments(target.ref, None, 1)
    fields = [
        ("account", function.account.alias),
        ("head revision", str(function.head_revision)),
        (
            "applied",
            f"revision {function.head_revision} at {when(function.applied_at)}"
            if function.applied_state is not None
            else "never deployed",
        ),
        (
            "drift",
            f"{_DRIFT_WORDS[function.drift_status]} (checked {when(function.drift_checked_at)})",
        ),
    ]
    if function.deploying:
        fields.append(("deploying now", function.deploying))
    if recent:
        last = recent[0]
        fields.append(
            (
                "last deploy",
                f"{last.kind} {last.status} → revision {last.to_revision or '-'} "
                f"by {last.created_by or '-'} at {when(last.started_at)} ({last.id})",
            )
        )
    links = _links(ctx, [("function", function_path(target.ref))])
    tone: Tone = (
        "warning" if function.drift_status in (DriftStatus.DRIFTED, DriftStatus.MISSING) else "info"
    )
    reply = Reply(title=f"{target.ref}", fields=fields, links=links, tone=tone)
    return done(reply)


async def _project_status(ctx: Context, name: str) -> Result:
    project, targets = await ctx.projects().get(name)
    rows = [["account", "deployed revision", "updated"]] + [
        [t.account.alias, str(t.revision), when(t.updated_at)] for t in targets
    ]
    reply = Reply(
        title=f"project {name}",
        fields=[("head revision", str(project.head_revision))],
        table=rows if targets else None,
        text="" if targets else "Not deployed to any account yet.",
        links=_links(ctx, [("project", f"/v1/projects/{name}")]),
    )
    return done(reply)


async def drift(ctx: Context, parsed: Parsed) -> Result:
    name, account = parsed.arg(0), parsed.flags.get("account")
    service = ctx.drift()
    if name is None:
        if parsed.has("check"):
            scan = await service.check_all(ctx.state.settings.drift_scan_concurrency)
            failed = scan["failed"]
            text = f"Checked {scan['checked']} function(s)."
            if failed:
                text += " Could not check: " + ", ".join(f"{k} ({v})" for k, v in failed.items())
            return _drift_list(ctx, scan["drifted"], text)
        events = await service.events(account, None, DriftEventStatus.OPEN, None, 50)
        names = [f"{e.function.account.alias}/{e.function.name}" for e in events if e.alias is None]
        return _drift_list(ctx, names, "Open drift events (run `drift --check` to check FC now).")
    ref = await resolve_function(ctx, name, account)
    if parsed.has("check"):
        result = await service.check(ref)
        changes, drifted, event_id = result.changes, result.drifted, result.event_id
        note = (
            f"Checked FC now; {ref} is being deployed ({result.deploying})."
            if result.deploying
            else ""
        )
    else:
        events = await service.events(ref.account, ref.name, DriftEventStatus.OPEN, None, 10)
        own = [e for e in events if e.alias is None]
        changes = own[0].changes if own else []
        event_id = own[0].id if own else None
        function = await ctx.functions().get(ref)
        drifted = function.drift_status in (DriftStatus.DRIFTED, DriftStatus.MISSING)
        note = (
            f"Last checked {when(function.drift_checked_at)}; "
            f"`drift {ref.name} --check` checks now."
        )
    title = f"{ref}: {'drifted' if drifted else 'in sync'}"
    reply = Reply(
        title=title,
        text=note,
        tone="warning" if drifted else "success",
        table=change_table({"remote_changes": changes}) if changes else None,
        fields=[("drift event", str(event_id))] if event_id else [],
    )
    return done(reply, detail=title)


def _drift_list(ctx: Context, names: list[str], text: str) -> Result:
    if not names:
        return done(Reply(title="No drift", text=text, tone="success"))
    reply = Reply(
        title=f"{len(names)} function(s) drifted",
        text=text,
        tone="warning",
        table=[["function"], *([n] for n in names)],
        links=_links(ctx, [("drift events", "/v1/drift-events?status=open")]),
    )
    return done(reply, detail=", ".join(names))


async def jobs(ctx: Context, parsed: Parsed) -> Result:
    job = await ctx.jobs().get(parsed.args[0])
    fields = [
        ("kind", job.kind),
        ("status", job.status),
        (
            "progress",
            f"{round(job.progress * 100)}%"
            + (f" ({job.progress_note})" if job.progress_note else ""),
        ),
    ]
    if job.function is not None:
        fields.append(("function", f"{job.account.alias}/{job.function.name}"))
    if job.error:
        fields.append(("error", value(job.error)))
    result = job.result if isinstance(job.result, dict) else {}
    headline = result.get("headline")
    facts = headline if isinstance(headline, dict) else result
    scalars = [(k, v) for k, v in facts.items() if isinstance(v, int | float | str)]
    fields += [(field_path(str(k)), value(v)) for k, v in scalars[:8]]
    links = _links(ctx, [("job", f"/v1/jobs/{job.id}")])
    if any(r.name == "summary" for r in job.reports):
        # A chat link opens in a browser, which sends no token: a signed, expiring one.
        settings = ctx.state.settings
        report = signed_report_url(settings, job.id, settings.report_link_ttl_seconds)
        links.append(("report", report.url))
    tones: dict[str, Tone] = {"succeeded": "success", "failed": "error", "cancelled": "warning"}
    tone = tones.get(job.status, "info")
    reply = Reply(title=f"job {job.id}", fields=fields, links=links, tone=tone)
    return done(reply, job_id=job.id)


def _links(ctx: Context, paths: list[tuple[str, str]]) -> list[tuple[str, str]]:
    found = [(label, ctx.link(path)) for label, path in paths]
    return [(label, url) for label, url in found if url]
