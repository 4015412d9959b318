"""Timer trigger through the real ``funchost start`` and the real clock.

A one-second schedule shows the firing itself (counts carry a tolerance: a loaded machine may
start a run late, never early or twice); the admin API runs a yearly timer now; a function
that fails twice shows the retry policy applied to a timer.
"""

from __future__ import annotations

import json
import re
import time
from datetime import datetime, timedelta, timezone
from itertools import pairwise
from pathlib import Path
from typing import Any

from conftest import Host, StartHost
from http_helpers import call, mark

APP = "timer_basic"
EXECUTING = "Executing 'Functions.{}' (Reason='{}"
FIRED = re.compile(
    r"Reason='Timer fired at (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}\+00:00)', Id=[0-9a-f-]{36}\)"
)


def env(tmp_path: Path) -> dict[str, str]:
    """Timer state in a folder of the test's own, times in UTC."""
    return {
        "FUNCHOST_STATE_DIR": str(tmp_path / "state"),
        "AzureWebJobsStorage": "",
        "WEBSITE_TIME_ZONE": "",
        "TZ": "UTC",
    }


def logged(host: Host, tag: str, since: int = 0) -> list[dict[str, Any]]:
    """The JSON documents the function logged after ``tag``."""
    host.drain(0)
    return [
        json.loads(line.split(f"{tag} ", 1)[1])
        for line in host.lines[since:]
        if f" {tag} {{" in line
    ]


def fired_at(lines: list[str], function: str) -> list[datetime]:
    """The instants in the Reason of each Executing line of ``function``."""
    found = []
    for line in lines:
        if f"Executing 'Functions.{function}'" in line:
            match = FIRED.search(line)
            assert match, line
            found.append(datetime.fromisoformat(match.group(1)[:26] + "+00:00"))
    return found


def test_one_second_schedule_fires_every_second(start_host: StartHost, tmp_path: Path) -> None:
    host = start_host(APP, "--functions", "every_second", env=env(tmp_path))
    assert "\tevery_second: timerTrigger" in host.output
    host.wait_for("Singleton lock acquired (")
    host.wait_for(
        "The next 5 occurrences of the 'every_second' schedule (Cron: '* * * * * *') will be:"
    )
    host.wait_for("Executed 'Functions.every_second' (Succeeded")
    since = mark(host)
    time.sleep(3.2)
    host.drain(0.3)
    new = host.lines[since:]
    fired = fired_at(new, "every_second")
    # Three occurrences in 3.2 s; one fewer if the machine stalled, never more.
    assert 2 <= len(fired) <= 4, "\n".join(new)
    for earlier, later in pairwise(fired):
        assert timedelta(seconds=0.5) < later - earlier < timedelta(seconds=1.5), fired
    # Each run starts right after its whole second, never before it.
    assert all(moment.microsecond < 300_000 for moment in fired), fired
    ticks = logged(host, "TICK", since)
    assert len(ticks) == len(fired)
    assert {json.dumps({k: v for k, v in t.items() if k != "at"}) for t in ticks} == {
        json.dumps({"past_due": False, "schedule": {"AdjustForDST": True}, "schedule_status": {}})
    }


def test_admin_api_runs_a_timer_now(start_host: StartHost, tmp_path: Path) -> None:
    host = start_host(APP, "--functions", "yearly", env=env(tmp_path))
    host.wait_for("The next 5 occurrences of the 'yearly' schedule (Cron: '0 0 0 1 1 *')")
    reply = call(host, "POST", "/admin/functions/yearly", body='{"input": ""}')
    assert reply.status == 202, reply.text
    host.wait_for("Executed 'Functions.yearly' (Succeeded")
    assert (
        EXECUTING.format("yearly", "This function was programmatically called via the host APIs.'")
        in host.output
    )
    [seen] = logged(host, "YEARLY")
    next_year = datetime.now(timezone.utc).year + 1
    assert seen["past_due"] is False
    assert seen["schedule"] == {"AdjustForDST": True}
    # The monitor is on for a yearly schedule: the status it keeps is passed on.
    assert seen["schedule_status"]["Last"] == "0001-01-01T00:00:00+00:00"
    assert seen["schedule_status"]["Next"] == f"{next_year}-01-01T00:00:00+00:00"
    assert seen["schedule_status"]["LastUpdated"].startswith(f"{next_year - 1}-")


def test_admin_metadata_describes_a_timer(start_host: StartHost, tmp_path: Path) -> None:
    host = start_host(APP, "--functions", "yearly", env=env(tmp_path))
    info = call(host, "GET", "/admin/functions/yearly").json()
    assert (info["trigger"], info["description"]) == ("timerTrigger", "timerTrigger")
    [binding] = info["config"]["bindings"]
    assert (binding["type"], binding["schedule"]) == ("timerTrigger", "0 0 0 1 1 *")


def test_runs_never_overlap_a_long_run_delays_the_next(
    start_host: StartHost, tmp_path: Path
) -> None:
    host = start_host(APP, "--functions", "slow", env=env(tmp_path))
    host.wait_for("SLOW end")
    time.sleep(5.5)
    host.drain(0.2)
    starts = [float(line.rsplit(" ", 1)[1]) for line in host.lines if " SLOW start " in line]
    ends = [float(line.rsplit(" ", 1)[1]) for line in host.lines if " SLOW end " in line]
    assert len(starts) >= 2, host.output
    # A 2.5 s run on a 1 s schedule: the next run starts only once the previous one ended,
    # and the occurrences it covered become that single next run.
    for previous_end, start in zip(ends, starts[1:], strict=False):
        assert start >= previous_end, (starts, ends)
        assert start - previous_end < 0.5, (starts, ends)
    assert len(starts) <= 4, host.output


def test_retry_policy_applies_to_a_timer(start_host: StartHost, tmp_path: Path) -> None:
    host = start_host(APP, "--functions", "flaky", env=env(tmp_path))
    host.wait_for("Executed 'Functions.flaky' (Succeeded", timeout=15)
    lines = host.drain(0.2).splitlines()
    retries = [line.split("RETRY ", 1)[1] for line in lines if " RETRY retry_count=" in line]
    assert retries == [
        "retry_count=0 max_retry_count=3",
        "retry_count=1 max_retry_count=3",
        "retry_count=2 max_retry_count=3",
    ]
    waits = [line.split("] ", 1)[1] for line in lines if "Waiting for" in line]
    assert waits == [
        "Waiting for 00:00:01 before retrying function execution. Next attempt: '1'. "
        "Max number of retries: '3'",
        "Waiting for 00:00:01 before retrying function execution. Next attempt: '2'. "
        "Max number of retries: '3'",
    ]
    outcomes = re.findall(r"Executed 'Functions\.flaky' \((\w+),", "\n".join(lines))
    assert outcomes == ["Failed", "Failed", "Succeeded"]
    # Every attempt is the same run-on-startup occurrence.
    details = [line for line in lines if "Trigger Details: UnscheduledInvocationReason" in line]
    assert len(details) == 3
    assert all("UnscheduledInvocationReason: RunOnStartup, ScheduleStatus: {" in d for d in details)
