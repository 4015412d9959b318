"""Timer schedules: NCRONTAB as the Functions host reads it, evaluated by croniter.

Where croniter's semantics differ from NCRONTAB each difference has a test that shows
croniter's own reading first, then funchost's bridged one. Occurrences are computed from a
given instant (a fake clock): the schedules here would take minutes to years on a real one.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from itertools import pairwise
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from croniter import croniter  # type: ignore[import-untyped,unused-ignore]

from funchost.bindings.shared.hostid import local_host_id, stable_hash
from funchost.bindings.shared.localtime import (
    WINDOWS_ZONES,
    json_date,
    parse_json_date,
    parse_zone,
    round_trip,
    schedule_date,
)
from funchost.bindings.shared.singleton import SingletonOptions, singleton_options
from funchost.bindings.timer.schedule import ConstantSchedule, CronSchedule, parse_schedule
from funchost.config_section import Section
from funchost.errors import BindingError, ConfigError

REPO = Path(__file__).resolve().parents[3]
UTC = timezone.utc
AMSTERDAM = ZoneInfo("Europe/Amsterdam")
# A Thursday.
T0 = datetime(2026, 1, 1, tzinfo=UTC)


def cron(expression: str, zone: ZoneInfo | timezone = UTC) -> CronSchedule:
    schedule = parse_schedule(expression, zone)
    assert isinstance(schedule, CronSchedule)
    return schedule


def occurrences(expression: str, start: datetime, count: int, zone: ZoneInfo | timezone = UTC):
    """The next ``count`` occurrences after ``start``, each in the zone's local time."""
    schedule = parse_schedule(expression, zone)
    found, moment = [], start
    for _ in range(count):
        moment = schedule.next_after(moment)
        found.append(moment.astimezone(zone))
    return found


def raw_next(expression: str, start: datetime, **kwargs: object) -> datetime:
    """croniter on its own, with its defaults unless told otherwise."""
    found: datetime = croniter(expression, start, **kwargs).get_next(datetime)
    return found


def iso(moments: list[datetime]) -> list[str]:
    return [m.isoformat() for m in moments]


# --- where croniter and NCRONTAB differ, and the bridge -----------------------------------


def test_six_fields_put_seconds_first_croniter_puts_them_last_unless_told() -> None:
    naive = datetime(2026, 1, 1)
    # croniter's default six-field form is "minute ... day-of-week second": 5 is the minute.
    assert raw_next("5 * * * * *", naive) == datetime(2026, 1, 1, 0, 5)
    assert raw_next("5 * * * * *", naive, second_at_beginning=True) == datetime(2026, 1, 1, 0, 0, 5)
    # NCRONTAB (and funchost): the first of six fields is the second.
    assert iso(occurrences("5 * * * * *", T0, 2)) == [
        "2026-01-01T00:00:05+00:00",
        "2026-01-01T00:01:05+00:00",
    ]


def test_five_fields_have_no_seconds_and_fire_at_second_zero() -> None:
    assert iso(occurrences("*/15 * * * *", T0, 2)) == [
        "2026-01-01T00:15:00+00:00",
        "2026-01-01T00:30:00+00:00",
    ]


def test_day_of_month_and_day_of_week_must_both_match_croniter_defaults_to_either() -> None:
    # Friday the 13th. croniter's day_or=True (its default) fires on every Friday and every 13th.
    naive = datetime(2026, 1, 1)
    assert raw_next("0 0 0 13 * 5", naive, second_at_beginning=True) == datetime(2026, 1, 2)
    # NCRONTAB requires both (funchost passes day_or=False).
    assert iso(occurrences("0 0 0 13 * 5", T0, 3)) == [
        "2026-02-13T00:00:00+00:00",
        "2026-03-13T00:00:00+00:00",
        "2026-11-13T00:00:00+00:00",
    ]


def test_seven_for_sunday_is_accepted_by_croniter_and_refused_like_ncrontab() -> None:
    assert croniter.expand("0 0 0 * * 7", second_at_beginning=True)[0][4] == [0]
    with pytest.raises(BindingError) as caught:
        parse_schedule("0 0 0 * * 7", UTC)
    assert str(caught.value) == (
        "schedule '0 0 0 * * 7': the day-of-week field is '7'; expected a value from 0 to 6 "
        "(0 is Sunday; NCRONTAB has no 7), or a name such as 'Mon' or 'Monday'"
    )


@pytest.mark.parametrize(
    ("expression", "field", "text"),
    [
        ("0 0 0 L * *", "day", "L"),  # last day of the month
        ("0 0 0 15W * *", "day", "15W"),  # croniter silently reads this as plain 15
        ("0 0 0 * * 5#2", "day-of-week", "5#2"),  # second Friday
        ("0 0 0 ? * *", "day", "?"),  # Quartz's "no value"
        ("H 0 0 * * *", "second", "H"),  # Jenkins' hashed value
    ],
)
def test_croniter_extensions_are_refused_like_ncrontab(
    expression: str, field: str, text: str
) -> None:
    with pytest.raises(BindingError) as caught:
        parse_schedule(expression, UTC)
    assert str(caught.value).startswith(
        f"schedule '{expression}': the {field} field is '{text}'; expected a value from"
    )
    assert str(caught.value).endswith(
        "'*', a range 'a-b', a list 'a,b' or a step '/n' (NCRONTAB has no L, W, #, ? or H)"
    )


def test_croniter_reads_15w_as_15_which_is_why_it_is_checked_first() -> None:
    assert croniter.expand("0 0 0 15W * *", second_at_beginning=True)[0][2] == [15]


def test_reversed_range_is_swapped_croniter_wraps_around() -> None:
    assert croniter.expand("0 0 0 * * FRI-MON", second_at_beginning=True)[0][4] == [0, 1, 5, 6]
    # NCRONTAB swaps the ends: FRI-MON is MON-FRI.
    assert cron("0 0 0 * * FRI-MON").ncrontab() == "0 0 0 * * 1-5"
    assert cron("0 50-10 * * * *").ncrontab() == "0 10-50 * * * *"


def test_single_value_range_is_one_value_croniter_reads_it_as_every_value() -> None:
    assert croniter.expand("0-0 30 2 * * *", second_at_beginning=True)[0][5] == ["*"]
    assert iso(occurrences("0-0 30-30 2-2 * * *", T0, 2)) == [
        "2026-01-01T02:30:00+00:00",
        "2026-01-02T02:30:00+00:00",
    ]


def test_names_are_any_prefix_of_the_english_name_croniter_takes_three_letters() -> None:
    with pytest.raises(Exception, match="not acceptable"):
        croniter.expand("0 0 0 * * monday", second_at_beginning=True)
    assert cron("0 0 0 * * monday").ncrontab() == "0 0 0 * * 1"
    assert cron("0 0 0 * * Tu-th").ncrontab() == "0 0 0 * * 2-4"
    assert cron("0 0 0 1 Ja,Ma,dec *").ncrontab() == "0 0 0 1 1,3,12 *"


def test_step_on_a_single_value_runs_to_the_end_of_the_field() -> None:
    assert cron("5/15 * * * * *").ncrontab() == "5,20,35,50 * * * * *"


def test_step_zero_is_refused() -> None:
    # croniter refuses it too; NCRONTAB would quietly read it as a step of 1.
    with pytest.raises(BindingError, match=r"the second field is '\*/0'; expected a step"):
        parse_schedule("*/0 * * * * *", UTC)


def test_an_expression_that_never_occurs_is_refused() -> None:
    with pytest.raises(BindingError) as caught:
        parse_schedule("0 0 0 31 2 *", UTC)
    assert str(caught.value) == (
        "schedule '0 0 0 31 2 *' never occurs: no date has that day of the month in that "
        "month (and that day of the week); expected a day that exists"
    )


def test_seven_fields_and_macros_are_neither_cron_nor_timespan() -> None:
    for text in ("0 0 0 1 1 * 2027", "@daily"):
        with pytest.raises(BindingError, match="and is no TimeSpan; expected six NCRONTAB fields"):
            parse_schedule(text, UTC)


# --- the expanded form the host logs ------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "shown"),
    [
        ("0 */5 * * * *", "0 0,5,10,15,20,25,30,35,40,45,50,55 * * * *"),
        ("*/1 * * * * *", "* * * * * *"),
        ("0 0 9-17 * * Mon-Fri", "0 0 9-17 * * 1-5"),
        ("1-10/3 * * * * *", "1,4,7,10 * * * * *"),
        ("*/15 * * * *", "0,15,30,45 * * * *"),
    ],
)
def test_schedule_is_shown_in_ncrontab_expanded_form(expression: str, shown: str) -> None:
    assert str(parse_schedule(expression, UTC)) == f"Cron: '{shown}'"


def test_timespan_schedules_are_constant_intervals() -> None:
    assert str(parse_schedule("00:00:10", UTC)) == "Constant: 00:00:10"
    assert str(parse_schedule("1.02:03:04", UTC)) == "Constant: 1.02:03:04"
    assert str(parse_schedule("2", UTC)) == "Constant: 2.00:00:00"  # a bare number is days
    assert iso(occurrences("00:10:00", T0, 2)) == [
        "2026-01-01T00:10:00+00:00",
        "2026-01-01T00:20:00+00:00",
    ]


@pytest.mark.parametrize("text", ["00:00:00", "-00:05:00"])
def test_timespan_that_is_not_positive_is_refused(text: str) -> None:
    with pytest.raises(BindingError, match="is a TimeSpan that is not positive"):
        parse_schedule(text, UTC)


# --- the monitor's default (TimerSchedule.ShouldDisableScheduleMonitor) --------------------


@pytest.mark.parametrize(
    ("expression", "disabled"),
    [
        ("* * * * * *", True),
        ("*/5 * * * * *", True),
        ("  */5    * *      * * *", True),
        ("10,20,45 * * * * *", True),
        ("0 */5 * * * *", False),
        ("0 30 * * * *", False),
        ("* 30 * * * *", False),
        ("* */30 * * * *", False),
        ("0 * * * * *", False),
        ("30 * * * * *", False),
        ("* 1-5 * * * *", False),
        ("* * 12 * * Mon", False),
        ("* * * * *", False),
        ("00:00:59", True),
        ("00:01:00", False),
    ],
)
def test_monitor_is_off_for_schedules_more_frequent_than_a_minute(
    expression: str, disabled: bool
) -> None:
    schedule = parse_schedule(expression, UTC)
    assert schedule.runs_more_than_once_a_minute(T0 + timedelta(seconds=17)) is disabled


# --- next occurrences with a fake clock ---------------------------------------------------


def test_every_five_minutes_from_any_instant_with_fake_clock() -> None:
    start = datetime(2026, 11, 25, 13, 57, 31, 123456, tzinfo=UTC)
    assert iso(occurrences("0 */5 * * * *", start, 3)) == [
        "2026-11-25T14:00:00+00:00",
        "2026-11-25T14:05:00+00:00",
        "2026-11-25T14:10:00+00:00",
    ]


def test_next_is_strictly_after_an_instant_on_the_schedule_with_fake_clock() -> None:
    on_time = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    assert iso(occurrences("0 */5 * * * *", on_time, 1)) == ["2026-11-25T14:05:00+00:00"]
    # A timer that woke a little early still gets the occurrence it woke for.
    early = on_time - timedelta(microseconds=500)
    assert iso(occurrences("0 */5 * * * *", early, 1)) == ["2026-11-25T14:00:00+00:00"]


def test_weekdays_at_nine_skip_the_weekend_with_fake_clock() -> None:
    friday_evening = datetime(2026, 11, 27, 18, tzinfo=UTC)
    assert iso(occurrences("0 0 9 * * 1-5", friday_evening, 2)) == [
        "2026-11-30T09:00:00+00:00",
        "2026-12-01T09:00:00+00:00",
    ]


def test_leap_day_with_fake_clock() -> None:
    assert iso(occurrences("0 0 0 29 2 *", T0, 2)) == [
        "2028-02-29T00:00:00+00:00",
        "2032-02-29T00:00:00+00:00",
    ]


# --- time zones and DST (Europe/Amsterdam: 2026-03-29 02:00 → 03:00, 10-25 03:00 → 02:00) --


def test_local_time_zone_moves_the_instant_with_fake_clock() -> None:
    found = occurrences("0 0 9 * * *", T0, 1, AMSTERDAM)
    assert iso(found) == ["2026-01-01T09:00:00+01:00"]
    assert found[0].astimezone(UTC).hour == 8


def test_spring_forward_nonexistent_time_runs_once_at_the_shifted_instant_with_fake_clock() -> None:
    found = occurrences("0 30 2 * * *", datetime(2026, 3, 27, 12, tzinfo=UTC), 3, AMSTERDAM)
    assert iso(found) == [
        "2026-03-28T02:30:00+01:00",
        "2026-03-29T03:30:00+02:00",  # 02:30 does not exist that night: one hour later
        "2026-03-30T02:30:00+02:00",
    ]


def test_spring_forward_interval_skips_the_missing_hour_with_fake_clock() -> None:
    found = occurrences("0 */30 * * * *", datetime(2026, 3, 29, 0, tzinfo=UTC), 4, AMSTERDAM)
    assert iso(found) == [
        "2026-03-29T01:30:00+01:00",
        "2026-03-29T03:00:00+02:00",
        "2026-03-29T03:30:00+02:00",
        "2026-03-29T04:00:00+02:00",
    ]


def test_fall_back_point_in_time_runs_once_not_twice_with_fake_clock() -> None:
    found = occurrences("0 30 2 * * *", datetime(2026, 10, 23, 12, tzinfo=UTC), 3, AMSTERDAM)
    assert iso(found) == [
        "2026-10-24T02:30:00+02:00",
        "2026-10-25T02:30:00+02:00",  # the first 02:30 (CEST); the second one is skipped
        "2026-10-26T02:30:00+01:00",
    ]


def test_fall_back_after_the_change_skips_the_repeated_time_with_fake_clock() -> None:
    # Started at 02:29 CET, after the clocks went back: 02:30 CEST has already happened.
    start = datetime(2026, 10, 25, 1, 29, tzinfo=UTC)
    assert iso(occurrences("0 30 2 * * *", start, 1, AMSTERDAM)) == ["2026-10-26T02:30:00+01:00"]


def test_fall_back_interval_keeps_its_pace_in_real_time_with_fake_clock() -> None:
    found = occurrences("0 */30 * * * *", datetime(2026, 10, 24, 23, tzinfo=UTC), 6, AMSTERDAM)
    assert iso(found) == [
        "2026-10-25T01:30:00+02:00",
        "2026-10-25T02:00:00+02:00",
        "2026-10-25T02:30:00+02:00",
        "2026-10-25T02:00:00+01:00",
        "2026-10-25T02:30:00+01:00",
        "2026-10-25T03:00:00+01:00",
    ]
    instants = [m.astimezone(UTC) for m in found]
    assert all(b - a == timedelta(minutes=30) for a, b in pairwise(instants))


def test_timespan_ignores_dst_with_fake_clock() -> None:
    schedule = parse_schedule("01:00:00", AMSTERDAM)
    assert isinstance(schedule, ConstantSchedule)
    start = datetime(2026, 10, 24, 23, 30, tzinfo=UTC)  # 01:30 CEST
    found = [schedule.next_after(start), schedule.next_after(schedule.next_after(start))]
    assert [m.astimezone(AMSTERDAM).isoformat() for m in found] == [
        "2026-10-25T02:30:00+02:00",
        "2026-10-25T02:30:00+01:00",
    ]


# --- zones and the host's date formats ----------------------------------------------------


@pytest.mark.parametrize(
    ("value", "key"),
    [
        ("Europe/Amsterdam", "Europe/Amsterdam"),
        (":Europe/Amsterdam", "Europe/Amsterdam"),
        ("W. Europe Standard Time", "Europe/Berlin"),
        ("eastern standard time", "America/New_York"),
        # Beyond the 28 zones the hand-written table had: CLDR's whole mapping.
        ("Tasmania Standard Time", "Australia/Hobart"),
        ("Mountain Standard Time (Mexico)", "America/Mazatlan"),
        ("UTC-11", "Etc/GMT+11"),
        ("UTC", "UTC"),
    ],
)
def test_zone_names_iana_and_windows(value: str, key: str) -> None:
    assert getattr(parse_zone("WEBSITE_TIME_ZONE", value), "key", None) == key


def test_unknown_zone_names_the_setting_and_what_was_expected() -> None:
    with pytest.raises(BindingError) as caught:
        parse_zone("TZ", "Mars/Olympus")
    assert str(caught.value).startswith(
        "app setting 'TZ' is 'Mars/Olympus', which names no time zone; expected an IANA time "
        "zone name such as 'Europe/Amsterdam' (the Linux plans' TZ), or a Windows time zone "
        "id such as 'W. Europe Standard Time' (CLDR's windowsZones, "
    )


def test_every_windows_zone_id_loads_from_the_time_zone_database() -> None:
    for windows_id in WINDOWS_ZONES:
        assert parse_zone("WEBSITE_TIME_ZONE", windows_id) is not None, windows_id


def test_dates_as_the_host_writes_them() -> None:
    moment = datetime(2026, 11, 25, 14, 0, 0, 123400, tzinfo=UTC)
    assert round_trip(moment, UTC) == "2026-11-25T14:00:00.1234000+00:00"
    assert round_trip(moment, AMSTERDAM) == "2026-11-25T15:00:00.1234000+01:00"
    assert json_date(moment, UTC) == "2026-11-25T14:00:00.1234+00:00"
    assert json_date(moment.replace(microsecond=0), UTC) == "2026-11-25T14:00:00+00:00"
    assert schedule_date(moment, UTC) == "11/25/2026 14:00:00Z"
    assert schedule_date(moment, AMSTERDAM) == "11/25/2026 15:00:00+01:00 (11/25/2026 14:00:00Z)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019-05-08T13:05:00.0097266+00:00", "2019-05-08T13:05:00.009726+00:00"),
        ("2019-05-08T15:05:00+02:00", "2019-05-08T13:05:00+00:00"),
        ("2019-05-08T13:05:00Z", "2019-05-08T13:05:00+00:00"),
        ("2019-05-08T14:05:00", "2019-05-08T12:05:00+00:00"),  # no offset: local (CEST)
        ("0001-01-01T00:00:00+00:00", None),  # DateTime.MinValue: never
        ("soon", None),
    ],
)
def test_json_dates_read_back(text: str, expected: str | None) -> None:
    found = parse_json_date(text, AMSTERDAM)
    assert (found.isoformat() if found else None) == expected


# --- the host id (ScriptHostIdProvider) ---------------------------------------------------


def test_stable_hash_is_dotnet_int32_arithmetic() -> None:
    assert stable_hash("") == 23
    assert stable_hash("a") == 23 * 31 + 97
    # Overflows wrap around as Int32 does in an unchecked context.
    assert -(2**31) <= stable_hash("/home/user/apps/" * 10) < 2**31


def test_local_host_id_is_the_machine_name_and_a_hash_of_the_app_path() -> None:
    assert local_host_id("build-agent.example.com", "/srv/app") == (
        f"buildagent-{abs(stable_hash('/srv/app'))}"
    )


# --- host.json "singleton" ----------------------------------------------------------------


def host_json(doc: dict[str, Any]) -> Section:
    return Section.root(doc, "host.json")


def test_singleton_defaults_are_the_hosts_and_the_example_holds_them() -> None:
    assert singleton_options(host_json({})) == SingletonOptions(60.0, 60.0)
    example = json.loads((REPO / "host.json.example").read_text(encoding="utf-8"))
    assert singleton_options(host_json(example)) == SingletonOptions()
    assert singleton_options(
        host_json(
            {
                "Singleton": {
                    "ListenerLockPeriod": "00:00:15",
                    "listenerlockrecoverypollinginterval": "00:00:20",
                }
            }
        )
    ) == SingletonOptions(15.0, 20.0)
    forever = {"singleton": {"listenerLockRecoveryPollingInterval": "10675199.02:48:05.4775807"}}
    assert singleton_options(host_json(forever)).recovery_interval == float("inf")


@pytest.mark.parametrize(
    ("key", "value", "expected"),
    [
        ("listenerLockPeriod", "00:01:01", 'a TimeSpan from "00:00:15" to "00:01:00"'),
        ("listenerLockRecoveryPollingInterval", "00:00:05", 'a TimeSpan of at least "00:00:15"'),
        ("listenerLockPeriod", "soon", 'a TimeSpan like "00:05:00"'),
    ],
)
def test_singleton_values_outside_the_lease_limits_are_refused(
    key: str, value: str, expected: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        singleton_options(host_json({"singleton": {key: value}}))
    assert str(caught.value).startswith(
        f"host.json: 'singleton.{key}' is '{value}'; expected {expected}"
    )
