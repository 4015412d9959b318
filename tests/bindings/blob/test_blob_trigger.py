"""The blob trigger through the real ``funchost start`` on Azurite: found by scanning, run once.

Each test watches containers of its own (app settings) under a host id of its own, so receipts,
the trigger queue and the scan lock of one test never meet another's.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

from azure.storage.blob import ContentSettings
from azurite import Azurite
from blob_helpers import (
    HOSTS,
    container,
    host_env,
    lines,
    poison_messages,
    unique,
    wait_until,
)
from conftest import APPS, Host, StartHost, run_funchost
from http_helpers import Reply, call

APP = APPS / "blob_triggers"


def test_each_blob_runs_once_with_what_the_host_sends(
    start_host: StartHost, azurite: Azurite
) -> None:
    host_id, source, target = unique("bt"), unique("in"), unique("out")
    inbox = container(azurite, source)
    env = host_env(azurite, host_id, B_IN=source, B_OUT=target)
    host = start_host(APP, "--functions", "on_blob", env=env)
    settings = ContentSettings(content_type="text/plain")
    for name in ("a", "b", "c"):
        inbox.upload_blob(f"{name}.txt", f"hello {name}", content_settings=settings)
    inbox.upload_blob("skipped.csv", b"not for on_blob")
    inbox.get_blob_client("a.txt").set_blob_metadata({"origin": "test"})

    seen = wait_until(lambda: len(lines(host, "BLOB")) >= 3 and lines(host, "BLOB"), what="3 runs")
    time.sleep(2.0)  # several more scans: nothing runs twice
    runs = lines(host, "BLOB")
    assert sorted(run["name"] for run in runs) == [f"{source}/{n}.txt" for n in "abc"], runs
    first = next(run for run in seen if run["name"].endswith("/a.txt"))
    props = inbox.get_blob_client("a.txt").get_blob_properties()
    assert first["content"] == "hello a"
    assert first["length"] == len("hello a")
    assert first["uri"].endswith(f"/devstoreaccount1/{source}/a.txt")
    assert first["content_type"] == "text/plain"
    assert first["etag"] == props.etag
    assert first["metadata"] in ({"origin": "test"}, {})  # set just after the upload
    output = host.output
    assert f"(Reason='New blob detected(LogsAndContainerScan): {source}/b.txt', Id=" in output
    assert "Trigger Details: MessageId: " in output and ", DequeueCount: 1, " in output
    copies = container(azurite, target, create=False)
    copy = copies.get_blob_client("c-copy.txt")
    wait_until(copy.exists, what="the output blob")  # written after the function returned
    assert copy.download_blob().readall() == b"HELLO C"


def test_receipts_are_where_the_host_keeps_them(start_host: StartHost, azurite: Azurite) -> None:
    host_id, source, target = unique("bt"), unique("in"), unique("out")
    inbox = container(azurite, source)
    host = start_host(
        APP, "--functions", "on_blob", env=host_env(azurite, host_id, B_IN=source, B_OUT=target)
    )
    etag = inbox.upload_blob("r.txt", b"receipt").get_blob_properties().etag
    wait_until(lambda: lines(host, "BLOB"), what="the run")
    receipt = container(azurite, HOSTS, create=False).get_blob_client(
        f"blobreceipts/{host_id}/Host.Functions.on_blob/{etag}/{source}/r.txt"
    )
    metadata = receipt.get_blob_properties().metadata
    assert {k.lower() for k in metadata} == set(), metadata  # completed: no Incomplete
    lock = container(azurite, HOSTS, create=False).get_blob_client(
        f"locks/{host_id}/WebJobs.Internal.Blobs.Listener"
    )
    assert lock.get_blob_properties().lease.state == "leased"
    host.stop()
    assert lock.get_blob_properties().lease.state == "available"


def test_a_restart_runs_only_new_and_changed_blobs(start_host: StartHost, azurite: Azurite) -> None:
    host_id, source, target = unique("bt"), unique("in"), unique("out")
    inbox = container(azurite, source)
    env = host_env(azurite, host_id, B_IN=source, B_OUT=target)
    first = start_host(APP, "--functions", "on_blob", env=env)
    inbox.upload_blob("old.txt", b"old")
    inbox.upload_blob("changed.txt", b"v1")
    wait_until(lambda: len(lines(first, "BLOB")) >= 2, what="the first runs")
    assert first.stop() == 0

    inbox.upload_blob("changed.txt", b"v2", overwrite=True)  # a new ETag: runs again
    second = start_host(APP, "--functions", "on_blob", env=env)
    inbox.upload_blob("new.txt", b"new")
    wait_until(lambda: len(lines(second, "BLOB")) >= 2, what="the runs after the restart")
    time.sleep(2.0)  # the scan has passed over old.txt several times by now
    runs = lines(second, "BLOB")
    assert sorted((r["name"], r["content"]) for r in runs) == [
        (f"{source}/changed.txt", "v2"),
        (f"{source}/new.txt", "new"),
    ], runs


def test_two_hosts_on_one_storage_run_each_blob_once(
    start_host: StartHost, azurite: Azurite
) -> None:
    host_id, source, target = unique("bt"), unique("in"), unique("out")
    inbox = container(azurite, source)
    env = host_env(azurite, host_id, B_IN=source, B_OUT=target)
    hosts = [start_host(APP, "--functions", "on_blob", env=env) for _ in range(2)]
    names = [f"n{i:02d}.txt" for i in range(12)]
    for name in names:
        inbox.upload_blob(name, name.encode())

    def all_runs() -> list[dict[str, object]]:
        return [run for host in hosts for run in lines(host, "BLOB")]

    wait_until(lambda: len(all_runs()) >= len(names), timeout=30, what="every blob run")
    time.sleep(2.5)
    runs = all_runs()
    assert sorted(str(r["name"]) for r in runs) == [f"{source}/{n}" for n in names], runs
    outputs = container(azurite, target, create=False)
    wait_until(lambda: len(list(outputs.list_blobs())) == len(names), what="every output")


def test_a_failing_blob_goes_to_the_poison_queue_after_five_attempts(
    start_host: StartHost, azurite: Azurite
) -> None:
    host_id, failures = unique("bt"), unique("fail")
    inbox = container(azurite, failures)
    host = start_host(
        APP, "--functions", "failing", env=host_env(azurite, host_id, B_FAIL=failures)
    )
    etag = inbox.upload_blob("bad.bin", b"boom").get_blob_properties().etag
    host.wait_for(
        "Message has reached MaxDequeueCount of 5. Moving message to queue "
        "'webjobs-blobtrigger-poison'.",
        timeout=30,
    )
    messages = wait_until(lambda: poison_messages(azurite, failures), what="the poison message")
    assert messages == [
        {
            "Type": "BlobTrigger",
            "FunctionId": "Host.Functions.failing",
            "BlobType": "BlockBlob",
            "ContainerName": failures,
            "BlobName": "bad.bin",
            "ETag": etag,
        }
    ]
    time.sleep(1.5)
    output = host.drain(0.1)
    assert output.count(f"ATTEMPT {failures}/bad.bin") == 5, output
    assert output.count("Executed 'Functions.failing' (Failed, Id=") == 5


def test_path_pattern_values_reach_the_function_and_its_output_path(
    start_host: StartHost, azurite: Azurite
) -> None:
    host_id, nested, target = unique("bt"), unique("nest"), unique("out")
    inbox = container(azurite, nested)
    env = host_env(azurite, host_id, B_NESTED=nested, B_OUT=target)
    host = start_host(APP, "--functions", "folders", env=env)
    inbox.upload_blob("in/2024/05/report.final.csv", b"\x00\x01binary")
    inbox.upload_blob("elsewhere/x.csv", b"no match")
    run = wait_until(lambda: lines(host, "NESTED"), what="the run")[0]
    assert run == {"type": "bytes", "size": 8}
    # {folder} is greedy, as the host's capture pattern: '2024/05'; {name} 'report.final'.
    out = container(azurite, target, create=False)
    blob = wait_until(lambda: out.exists() and [b.name for b in out.list_blobs()], what="output")
    assert blob == ["2024/05/report.final.csv.out"]
    assert out.download_blob(blob[0]).readall() == b"yranib\x01\x00"
    time.sleep(1.0)
    assert len(lines(host, "NESTED")) == 1


def test_data_type_string_gives_text(start_host: StartHost, azurite: Azurite) -> None:
    host_id, texts = unique("bt"), unique("str")
    inbox = container(azurite, texts)
    host = start_host(APP, "--functions", "as_text", env=host_env(azurite, host_id, B_STR=texts))
    inbox.upload_blob("t", "grüße".encode())
    assert wait_until(lambda: lines(host, "TEXT"))[0] == {"type": "str", "text": "grüße"}


def test_the_admin_api_runs_the_function_for_a_named_blob(
    start_host: StartHost, azurite: Azurite
) -> None:
    host_id, source, target = unique("bt"), unique("in"), unique("out")
    env = host_env(azurite, host_id, B_IN=source, B_OUT=target)
    host = start_host(APP, "--functions", "on_blob", env=env)
    inbox = container(azurite, source)
    inbox.upload_blob("admin.txt", b"by hand")
    wait_until(lambda: lines(host, "BLOB"), what="the scan's run")
    response = admin_run(host, f"{source}/admin.txt")
    assert response.status == 202
    runs = wait_until(lambda: len(lines(host, "BLOB")) >= 2 and lines(host, "BLOB"))
    assert runs[1]["content"] == "by hand"  # run again: the admin API ignores receipts
    admin_run(host, f"{source}/missing.txt")
    host.wait_for("Executed 'Functions.on_blob' (Failed, Id=")
    host.wait_for("the blob could not be read")


def test_bad_paths_disable_the_function_with_the_reason(
    start_host: StartHost, azurite: Azurite
) -> None:
    env = host_env(azurite, unique("bt"), B_IN="Bad_Container", B_OUT="out")
    host = start_host(APP, "--functions", "on_blob", env=env)
    host.wait_for("invalid container name 'Bad_Container' in blob trigger path")


def admin_run(host: Host, blob: str) -> Reply:
    """POST /admin/functions/on_blob with the blob's path as the input."""
    body = json.dumps({"input": blob})
    return call(
        host, "POST", "/admin/functions/on_blob", body, {"Content-Type": "application/json"}
    )


def test_a_blob_trigger_needs_azure_web_jobs_storage(tmp_path: Path) -> None:
    (tmp_path / "host.json").write_text('{"version": "2.0"}')
    (tmp_path / "function_app.py").write_text(
        "import azure.functions as func\n"
        "app = func.FunctionApp()\n"
        '@app.blob_trigger(arg_name="b", path="box/{name}", connection="Data")\n'
        "def f(b: func.InputStream) -> None: ...\n"
    )
    env = {"Data": "UseDevelopmentStorage=true", "AzureWebJobsStorage": ""}
    result = run_funchost(["check"], tmp_path, env=env)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "binding 'b' (blobTrigger) needs AzureWebJobsStorage" in result.stdout + result.stderr
