"""A restart after a missed occurrence runs it once, past due, from the status kept by the host.

The status is where the Functions host keeps it: with ``AzureWebJobsStorage`` (Azurite here)
in the blob ``azure-webjobs-hosts/timers/<hostId>/<functionId>/status``; without it, in the
same JSON under the state folder. Each test writes the status a host stopped ten minutes ago
would have left, then starts the real ``funchost start``.
"""

from __future__ import annotations

import json
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

from azure.storage.blob import BlobServiceClient
from azurite import Azurite
from conftest import APPS, Host, StartHost

from funchost.bindings.shared.hostid import host_id

APP = APPS / "timer_pastdue"
FUNCTION_ID = "Host.Functions.every_two_minutes"
CONTAINER = "azure-webjobs-hosts"


def missed_status() -> tuple[datetime, datetime, str]:
    """Last = an occurrence of '0 */2 * * * *' ten minutes ago; Next = the one after it."""
    now = datetime.now(timezone.utc).replace(second=0, microsecond=0)
    last = now - timedelta(minutes=10 + now.minute % 2)
    nxt = last + timedelta(minutes=2)
    text = json.dumps(
        {
            "Last": f"{last:%Y-%m-%dT%H:%M:%S}.0097266+00:00",
            "Next": f"{nxt:%Y-%m-%dT%H:%M:%S}+00:00",
            "LastUpdated": f"{last:%Y-%m-%dT%H:%M:%S}.0097266+00:00",
        }
    )
    return last, nxt, text


def assert_ran_once_past_due(host: Host, missed: datetime) -> datetime:
    """One past-due run for the missed occurrence; returns when it started."""
    host.wait_for("PASTDUE past_due=True")
    time.sleep(1.0)
    lines = host.drain(0.2).splitlines()
    runs = [line for line in lines if " PASTDUE past_due=" in line]
    # A regular occurrence may follow if the test crosses an even minute; never a second
    # past-due run.
    assert [r for r in runs if "past_due=True" in r] == [runs[0]], "\n".join(lines)
    status = json.loads(runs[0].split("status=", 1)[1])
    assert status["Next"] == f"{missed:%Y-%m-%dT%H:%M:%S}+00:00"
    details = next(line for line in lines if "Trigger Details:" in line)
    assert details.split("] ", 1)[1].startswith(
        "Trigger Details: UnscheduledInvocationReason: IsPastDue, OriginalSchedule: "
        f"{missed:%Y-%m-%dT%H:%M:%S}.0000000+00:00, ScheduleStatus: {{"
    )
    executing = next(line for line in lines if "Executing 'Functions.every_two_minutes'" in line)
    fired = executing.split("Timer fired at ", 1)[1][:19]
    return datetime.fromisoformat(fired + "+00:00")


def assert_status_moved_on(text: str, fired: datetime) -> None:
    """After the run: Last is when it ran, Next the following even minute."""
    written = json.loads(text)
    last = datetime.fromisoformat(written["Last"][:19] + "+00:00")
    assert abs(last - fired) < timedelta(seconds=2), written
    following = (last + timedelta(minutes=2 - last.minute % 2)).replace(second=0)
    assert written["Next"] == f"{following:%Y-%m-%dT%H:%M:%S}+00:00", written
    assert written["LastUpdated"] == written["Last"]


def test_missed_occurrence_runs_once_past_due_from_the_status_file(
    start_host: StartHost, tmp_path: Path
) -> None:
    # The host id derived as the Functions host does (machine name and app path).
    status_file = tmp_path / "timers" / host_id({}, APP) / FUNCTION_ID / "status"
    status_file.parent.mkdir(parents=True)
    _, missed, text = missed_status()
    status_file.write_text(text)
    env = {"FUNCHOST_STATE_DIR": str(tmp_path), "AzureWebJobsStorage": "", "TZ": "UTC"}
    host = start_host(APP, env=env)
    fired = assert_ran_once_past_due(host, missed)
    assert_status_moved_on(status_file.read_text(), fired)


def test_missed_occurrence_runs_once_past_due_from_the_status_blob(
    start_host: StartHost, azurite: Azurite
) -> None:
    hostid = f"pastdue-{uuid.uuid4().hex[:12]}"
    service = BlobServiceClient.from_connection_string(azurite.connection_string, retry_total=0)
    container = service.get_container_client(CONTAINER)
    if not container.exists():
        container.create_container()
    blob = container.get_blob_client(f"timers/{hostid}/{FUNCTION_ID}/status")
    _, missed, text = missed_status()
    blob.upload_blob(text.encode(), overwrite=True)
    env = {
        "AzureWebJobsStorage": azurite.connection_string,
        "AzureFunctionsWebHost__hostid": hostid,
        "TZ": "UTC",
    }
    host = start_host(APP, env=env)
    host.wait_for(f"Singleton lock acquired ({hostid}/{FUNCTION_ID}.Listener)")
    fired = assert_ran_once_past_due(host, missed)
    assert_status_moved_on(blob.download_blob().readall().decode(), fired)
    # The lock blob is where the Functions host keeps it, leased while the host runs.
    lock = container.get_blob_client(f"locks/{hostid}/{FUNCTION_ID}.Listener")
    assert lock.get_blob_properties().lease.state == "leased"
    host.stop()
    assert lock.get_blob_properties().lease.state == "available"


def test_first_start_records_the_next_occurrence(start_host: StartHost, tmp_path: Path) -> None:
    env = {
        "FUNCHOST_STATE_DIR": str(tmp_path),
        "AzureWebJobsStorage": "",
        "AzureFunctionsWebHost__hostid": "firststart",
        "TZ": "UTC",
    }
    host = start_host(APP, env=env)
    host.wait_for("The next 5 occurrences of the 'every_two_minutes' schedule")
    status_file = tmp_path / "timers" / "firststart" / FUNCTION_ID / "status"
    deadline = time.monotonic() + 5
    while not status_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    written = json.loads(status_file.read_text())
    assert written["Last"] == "0001-01-01T00:00:00+00:00"
    assert written["Next"].endswith(":00+00:00")
    assert "PASTDUE" not in host.drain(0.5)
