"""State survives an emulator restart on the same data dir."""

from __future__ import annotations

import json
import threading
from pathlib import Path

import httpx
from alibabacloud_fc20230330 import models as m

from tests.emulator.beacon import Beacon
from tests.emulator.conftest import (
    RUNNING_PY,
    code_of,
    create_function,
    instances_all,
    invoke,
    process_gone,
    running_job,
    sdk_client,
    start,
)


def test_everything_survives_restart(tmp_path: Path) -> None:
    emu = start(tmp_path)
    fc = sdk_client(emu)
    created = create_function(fc, "keep", timeout=7)
    fc.publish_function_version(
        "keep", m.PublishFunctionVersionRequest(body=m.PublishVersionInput())
    )
    fc.create_alias(
        "keep", m.CreateAliasRequest(body=m.CreateAliasInput(alias_name="prod", version_id="1"))
    )
    fc.create_trigger(
        "keep",
        m.CreateTriggerRequest(
            body=m.CreateTriggerInput(
                trigger_name="web", trigger_type="http", trigger_config='{"authType":"anonymous"}'
            )
        ),
    )
    fc.put_provision_config(
        "keep",
        m.PutProvisionConfigRequest(qualifier="prod", body=m.PutProvisionConfigInput(target=1)),
    )
    fc.put_concurrency_config(
        "keep", m.PutConcurrencyConfigRequest(body=m.PutConcurrencyInput(reserved_concurrency=5))
    )
    fc.put_async_invoke_config(
        "keep",
        m.PutAsyncInvokeConfigRequest(body=m.PutAsyncInvokeConfigInput(max_async_retry_attempts=1)),
    )
    assert invoke(fc, "keep", b"on-demand").body.read() == b"on-demand"
    pids = [i["pid"] for i in instances_all(emu)]
    assert len(pids) == 2  # the provisioned one (prod) and an on-demand one (LATEST)
    emu.stop()
    # stopping the emulator stops every function instance it ran
    assert [pid for pid in pids if not process_gone(pid)] == []

    emu2 = start(tmp_path)
    try:
        fc2 = sdk_client(emu2)
        got = fc2.get_function("keep", m.GetFunctionRequest()).body
        assert got.to_map() == created.to_map()
        code = fc2.get_function_code("keep", m.GetFunctionCodeRequest()).body
        assert code.checksum == created.code_checksum
        assert httpx.get(code.url).status_code == 200
        assert fc2.get_alias("keep", "prod").body.version_id == "1"
        trigger = fc2.get_trigger("keep", "web").body
        assert trigger.http_trigger.url_internet.startswith(emu2.url)
        assert (
            fc2.get_provision_config(
                "keep", m.GetProvisionConfigRequest(qualifier="prod")
            ).body.target
            == 1
        )
        # provisioned instances are restored (and nothing else is started)
        restored = instances_all(emu2)
        assert [(i["function_name"], i["qualifier"], i["version_id"]) for i in restored] == [
            ("keep", "prod", "1")
        ]
        assert not set(pids) & {i["pid"] for i in restored}
        assert (
            fc2.get_provision_config(
                "keep", m.GetProvisionConfigRequest(qualifier="prod")
            ).body.current
            == 1
        )
        served = invoke(fc2, "keep", b"after restart", qualifier="prod")
        assert served.body.read() == b"after restart"
        assert served.headers["x-fc-instance-id"] == restored[0]["instance_id"]
        assert fc2.get_concurrency_config("keep").body.reserved_concurrency == 5
        assert (
            fc2.get_async_invoke_config(
                "keep", m.GetAsyncInvokeConfigRequest()
            ).body.max_async_retry_attempts
            == 1
        )
        assert (
            fc2.publish_function_version(
                "keep", m.PublishFunctionVersionRequest(body=m.PublishVersionInput())
            ).body.version_id
            == "2"
        )
    finally:
        emu2.stop()


def test_concurrent_creates_and_updates(tmp_path: Path) -> None:
    emu = start(tmp_path)
    try:
        errors: list[BaseException] = []
        create_function(sdk_client(emu), "shared")

        def work(i: int) -> None:
            try:
                fc = sdk_client(emu)
                create_function(fc, f"fn{i}")
                for t in range(3, 6):
                    fc.update_function(
                        f"fn{i}", m.UpdateFunctionRequest(body=m.UpdateFunctionInput(timeout=t))
                    )
                fc.publish_function_version(
                    "shared", m.PublishFunctionVersionRequest(body=m.PublishVersionInput())
                )
            except BaseException as exc:  # collected and re-raised in the test thread
                errors.append(exc)

        threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        fc = sdk_client(emu)
        names = [
            f.function_name
            for f in fc.list_functions(m.ListFunctionsRequest(limit=100)).body.functions
        ]
        assert len(names) == 9
        versions = fc.list_function_versions(
            "shared", m.ListFunctionVersionsRequest()
        ).body.versions
        assert sorted(int(v.version_id) for v in versions) == list(range(1, 9))
    finally:
        emu.stop()


def test_async_task_left_running_is_failed_after_restart(tmp_path: Path) -> None:
    emu = start(tmp_path)
    fc = sdk_client(emu)
    create_function(fc, "a", code=code_of(RUNNING_PY), timeout=60)
    beacon = Beacon()
    job = running_job(beacon, 30)
    invoke(fc, "a", job, x_fc_invocation_type="Async", x_fc_async_task_id="t1")
    beacon.wait("the handler to run")
    (pid,) = [i["pid"] for i in instances_all(emu)]
    emu.stop()
    assert process_gone(pid)  # the handler did not outlive the emulator
    emu2 = start(tmp_path)
    try:
        task = sdk_client(emu2).get_async_task("a", "t1", m.GetAsyncTaskRequest()).body
        assert task.status == "Failed"
        assert "restarted" in task.task_error_message
        assert json.dumps(task.to_map())
    finally:
        emu2.stop()
