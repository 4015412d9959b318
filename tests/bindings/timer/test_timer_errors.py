"""Schedules the Functions host would refuse fail at load, each with its exact reason.

Only the function with the bad schedule is disabled; the rest of the app serves. The same
app also shows that %Setting% references are resolved before the schedule is read.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from broken_app_cases import disabled
from conftest import BROKEN_APPS, StartHost, free_port, run_funchost

APP = BROKEN_APPS / "timer_schedules"
# The environment must not decide where timer state goes, nor in which zone schedules run.
ENV = {"AzureWebJobsStorage": "", "WEBSITE_TIME_ZONE": "", "TZ": ""}
EXPECTED = (
    "expected six NCRONTAB fields 'second minute hour day month day-of-week' "
    "(e.g. '0 */5 * * * *'), five fields without the seconds, or a TimeSpan like '00:05:00'"
)
BINDING = "binding 'timer' (timerTrigger)"
ERRORS = [
    f"function_app.py:16: function 'words': {BINDING}: schedule 'every five minutes' has 3 "
    f"fields and is no TimeSpan; {EXPECTED}",
    f"function_app.py:21: function 'hour_25': {BINDING}: schedule '0 0 25 * * *': the hour "
    "field is '25'; expected a value from 0 to 23",
    f"function_app.py:26: function 'sunday_7': {BINDING}: schedule '0 0 0 * * 7': the "
    "day-of-week field is '7'; expected a value from 0 to 6 (0 is Sunday; NCRONTAB has no 7), "
    "or a name such as 'Mon' or 'Monday'",
    f"function_app.py:31: function 'last_day': {BINDING}: schedule '0 0 0 L * *': the day "
    "field is 'L'; expected a value from 1 to 31, '*', a range 'a-b', a list 'a,b' or a step "
    "'/n' (NCRONTAB has no L, W, #, ? or H)",
    f"function_app.py:36: function 'february_30': {BINDING}: schedule '0 0 0 30 2 *' never "
    "occurs: no date has that day of the month in that month (and that day of the week); "
    "expected a day that exists",
    f"function_app.py:41: function 'zero_interval': {BINDING}: schedule '00:00:00' is a "
    "TimeSpan that is not positive; expected an interval such as '00:05:00'",
    f"function_app.py:46: function 'bad_setting': {BINDING}: schedule '0 */10 * * * * *' has 7 "
    f"fields and is no TimeSpan; {EXPECTED}",
    "function_app.py:51: function 'missing_setting': binding 'timer' property 'schedule': app "
    "setting 'MissingSchedule' (referenced as %MissingSchedule%) is not set; expected it in "
    "local.settings.json Values or the environment",
]


def test_check_lists_every_bad_schedule() -> None:
    result = run_funchost(["check"], APP, ENV)
    assert result.returncode == 3, result.stdout + result.stderr
    assert disabled(result.stdout) == ERRORS
    assert "\tfrom_setting: timerTrigger" in result.stdout
    assert result.stderr == f"funchost check: {len(ERRORS)} problem(s) found.\n"


def test_start_serves_the_rest_of_the_app(start_host: StartHost, tmp_path: Path) -> None:
    env = {**ENV, "FUNCHOST_STATE_DIR": str(tmp_path)}
    host = start_host(APP, "--functions", "hello", "from_setting", "words", env=env)
    assert disabled(host.output) == [ERRORS[0]]
    assert "\tfrom_setting: timerTrigger" in host.output
    host.wait_for(
        "The next 5 occurrences of the 'from_setting' schedule "
        "(Cron: '0 0,5,10,15,20,25,30,35,40,45,50,55 * * * *') will be:"
    )


@pytest.mark.parametrize("setting", ["WEBSITE_TIME_ZONE", "TZ"])
def test_a_time_zone_that_does_not_exist_disables_the_timers(setting: str) -> None:
    result = run_funchost(["check"], APP, {**ENV, setting: "Mars/Olympus"})
    assert result.returncode == 3
    assert disabled(result.stdout)[0].startswith(
        f"function_app.py:11: function 'from_setting': {BINDING}: app setting '{setting}' is "
        "'Mars/Olympus', which names no time zone; expected an IANA time zone name such as "
        "'Europe/Amsterdam' (the Linux plans' TZ), or a Windows time zone id such as "
        "'W. Europe Standard Time' (CLDR's windowsZones, "
    )
    # HTTP functions do not care about the zone.
    assert "\thello: [GET,POST" in result.stdout


def test_a_windows_time_zone_id_is_accepted() -> None:
    env = {**ENV, "WEBSITE_TIME_ZONE": "W. Europe Standard Time"}
    result = run_funchost(["check"], APP, env)
    assert "\tfrom_setting: timerTrigger" in result.stdout
    assert disabled(result.stdout) == ERRORS


def test_bad_singleton_settings_in_host_json_name_the_key(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "function_app.py").write_text(
        "import azure.functions as func\n\napp = func.FunctionApp()\n\n\n"
        '@app.timer_trigger(arg_name="timer", schedule="0 */5 * * * *")\n'
        "def tick(timer: func.TimerRequest) -> None:\n    pass\n"
    )
    (app / "host.json").write_text(
        '{"version": "2.0", "singleton": {"listenerLockPeriod": "00:00:05"}}'
    )
    result = run_funchost(["check"], app, ENV)
    assert disabled(result.stdout) == [
        f"function_app.py:6: function 'tick': {BINDING}: {app / 'host.json'}: "
        "'singleton.listenerLockPeriod' is '00:00:05'; expected a TimeSpan from \"00:00:15\" "
        'to "00:01:00" (the limits of a blob lease)'
    ]


def test_a_bad_host_json_retry_disables_the_functions_it_applies_to(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    (app / "function_app.py").write_text(
        "import azure.functions as func\n\napp = func.FunctionApp()\n\n\n"
        '@app.timer_trigger(arg_name="timer", schedule="0 */5 * * * *")\n'
        "def tick(timer: func.TimerRequest) -> None:\n    pass\n\n\n"
        '@app.route(route="hello")\n'
        "def hello(req: func.HttpRequest) -> str:\n    return 'hi'\n"
    )
    (app / "host.json").write_text(
        '{"version": "2.0", "retry": {"strategy": "fixedDelay", "maxRetryCount": 2}}'
    )
    name = "AzureFunctionsJobHost__retry__delayInterval"
    result = run_funchost(["check"], app, {**ENV, name: "soon"})
    assert disabled(result.stdout) == [
        f"function_app.py:6: function 'tick': {name}: 'retry.delayInterval' is 'soon'; "
        'expected a TimeSpan like "00:05:00"'
    ]
    # HTTP triggers do not honour retry policies, so a bad one does not concern them.
    assert "\thello: [GET,POST" in result.stdout


def test_unreachable_storage_is_reported_and_retried(start_host: StartHost, tmp_path: Path) -> None:
    port = free_port()  # nothing listens there
    connection = (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;"
        f"BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
    )
    env = {**ENV, "AzureWebJobsStorage": connection}
    host = start_host(APP, "--functions", "from_setting", env=env)
    line = host.wait_for("Function 'from_setting': the timer could not use its singleton lock")
    assert line.split("] ", 1)[1].startswith(
        "Function 'from_setting': the timer could not use its singleton lock in "
        f"AzureWebJobsStorage (container azure-webjobs-hosts): Cannot connect to host "
        f"127.0.0.1:{port} "
    )
    assert line.endswith(
        "; trying again. Is the storage running? (UseDevelopmentStorage=true is Azurite on "
        "127.0.0.1:10000.) With AzureWebJobsStorage empty, the timer keeps its state in files "
        f"under {APP / '.funchost' / 'state'} instead."
    )


def test_identity_based_host_storage_is_refused_with_the_alternatives() -> None:
    env = {**ENV, "AzureWebJobsStorage__accountName": "myaccount"}
    result = run_funchost(["check"], APP, env)
    assert disabled(result.stdout)[0] == (
        f"function_app.py:11: function 'from_setting': {BINDING}: AzureWebJobsStorage is "
        "configured for an identity (AzureWebJobsStorage__accountName), which funchost cannot "
        "use for the host's own state yet; expected a connection string in "
        "AzureWebJobsStorage, or no AzureWebJobsStorage at all to keep the state in files "
        f"under {APP / '.funchost' / 'state'}"
    )
