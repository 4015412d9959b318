"""Timer trigger: runs a function on an NCRONTAB or TimeSpan schedule, as the Functions host.

The listener follows the WebJobs timer extension's TimerListener: one host instance holds the
listener singleton (shared/singleton.py); it reads the schedule status and runs a missed occurrence
once with IsPastDue (state.py), or runs at start with runOnStartup; then it waits for
each occurrence and never overlaps two runs: a run that outlasts occurrences delays the next
one, and the occurrences it covered become one run right after it, as in the host. The
function gets the JSON the host sends (TimerInfo), which the library decodes as
``func.TimerRequest``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING

from azure.functions.meta import Datum

from funchost.bindings.base import (
    BindingContext,
    BindingSpec,
    Description,
    Dispatch,
    TriggerEvent,
)
from funchost.bindings.shared.drain import finish_by
from funchost.bindings.shared.failures import first_line, unreachable
from funchost.bindings.shared.hoststorage import HostStorageProvider, files_instead
from funchost.bindings.shared.localtime import round_trip, schedule_date, zone_name
from funchost.bindings.shared.singleton import BlobListenerLock, FileListenerLock, ListenerLock
from funchost.bindings.timer.config import Clock, SystemClock, TimerConfig, timer_config, timer_info
from funchost.bindings.timer.state import (
    BlobStatusStore,
    FileStatusStore,
    ScheduleStatus,
    StatusStore,
    after_invocation,
    check_past_due,
    read_status,
    write_status,
)

if TYPE_CHECKING:
    from azure.storage.blob.aio import ContainerClient

log = logging.getLogger("funchost.timer")
CATEGORY = "Host.Triggers.Timer"
SINGLETON = "Host.Singleton"
# Long waits are re-measured against the wall clock at least this often.
MAX_SLEEP = 60.0
# After an error reaching the lock or status storage, try again this much later (at least).
ERROR_RETRY = 5.0


class TimerTriggerListener:
    """Runs one function on its schedule while this instance holds the listener lock."""

    def __init__(self, config: TimerConfig, dispatch: Dispatch, clock: Clock | None = None) -> None:
        self.config = config
        self._dispatch = dispatch
        self._clock: Clock = clock or SystemClock()
        self._status: ScheduleStatus | None = None
        self._task: asyncio.Task[None] | None = None
        self._inflight: asyncio.Future[None] | None = None
        self._lock: ListenerLock | None = None
        self._store: StatusStore | None = None
        self._containers: list[ContainerClient] = []
        # Until when a run in progress may go on once stopping: stop() sets it; a lost lock
        # (another instance took over) waits for the run without a bound, as before.
        self._deadline = math.inf

    def describe(self, base_url: str) -> Description:
        """The trigger type, as Core Tools lists non-HTTP functions."""
        return Description("timerTrigger")

    def admin_event(self, payload: str) -> TriggerEvent | None:
        """Run now: a TimerInfo that is not past due, with the status this instance knows."""
        status = self._status if self.config.monitor else None
        info = timer_info(self.config.schedule, status, self.config.zone, past_due=False)
        return TriggerEvent(data=Datum(info, "json"), metadata=self._metadata(self._clock.now()))

    async def start(self) -> None:
        """Start in the background: waiting for the lock must not hold up the host."""
        self._open()
        self._task = asyncio.get_running_loop().create_task(self._run())

    async def stop(self, deadline: float) -> None:
        """Stop scheduling, let a run in progress finish by deadline, release the lock."""
        task, self._task = self._task, None
        if task is None:
            return
        self._deadline = deadline
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await self._finish()  # again: a task cancelled before it ran has not cleaned up

    # --- lifecycle ------------------------------------------------------------------------

    def _open(self) -> None:
        config = self.config
        storage = config.storage
        if storage.connection_string is None:
            base = storage.state_dir
            status_path = base / "timers" / config.host_id / config.function_id / "status"
            lock_path = base / "locks" / config.host_id / f"{config.function_id}.Listener"
            self._store = FileStatusStore(status_path)
            self._lock = FileListenerLock(lock_path, config.lock_id)
            return
        container = storage.container()
        self._containers.append(container)
        blob = f"timers/{config.host_id}/{config.function_id}/status"
        self._store = BlobStatusStore(container, blob)
        lock_blob = f"locks/{config.lock_id}"
        self._lock = BlobListenerLock(container, lock_blob, config.lock_id, config.singleton)

    async def _run(self) -> None:
        try:
            while True:
                await self._acquire()
                await self._run_locked()
        finally:
            await self._finish()

    async def _acquire(self) -> None:
        assert self._lock is not None
        announced = False
        while True:
            try:
                if await self._lock.try_acquire():
                    self._log_singleton(
                        logging.INFO, "Singleton lock acquired (%s)", self._lock.lock_id
                    )
                    return
            except Exception as exc:
                self._log_storage_error("its singleton lock", exc)
                await self._clock.sleep(max(self._lock.poll_interval, ERROR_RETRY))
                continue
            if not announced:
                announced = True
                self._log_waiting()
            await self._clock.sleep(self._lock.poll_interval)

    def _log_waiting(self) -> None:
        assert self._lock is not None
        interval = self._lock.poll_interval
        retry = "never trying again" if math.isinf(interval) else f"trying every {interval:g} s"
        self._log_singleton(
            logging.INFO,
            "Unable to acquire Singleton lock (%s): another host instance runs the schedule "
            "of '%s'. Waiting for the lock (%s).",
            self._lock.lock_id,
            self.config.function_name,
            retry,
        )

    async def _run_locked(self) -> None:
        """Run the schedule until the lock is lost (or the schedule fails), then let go."""
        assert self._lock is not None
        loop = asyncio.get_running_loop()
        schedule = loop.create_task(self._schedule())
        keeper = loop.create_task(self._lock.keep())
        try:
            await asyncio.wait({schedule, keeper}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (schedule, keeper):
                task.cancel()
            await asyncio.gather(schedule, keeper, return_exceptions=True)
        await self._wait_inflight()
        await self._release()
        if not schedule.cancelled() and schedule.exception() is not None:
            self._log_storage_error("its schedule status", schedule.exception())
            await self._clock.sleep(ERROR_RETRY)

    async def _finish(self) -> None:
        await self._wait_inflight()
        await self._release()
        for container in self._containers:
            await container.close()
        self._containers.clear()

    async def _wait_inflight(self) -> None:
        if self._inflight is not None:
            await finish_by([self._inflight], self._deadline, self._cancelling)

    def _cancelling(self, count: int) -> None:
        log.warning(
            "Cancelling the run of 'Functions.%s' still going at the shutdown deadline.",
            self.config.function_name,
            extra={"category": CATEGORY},
        )

    async def _release(self) -> None:
        if self._lock is None:
            return
        try:
            await self._lock.release()
        except Exception as exc:
            self._log_storage_error("releasing its singleton lock", exc)

    # --- the schedule ---------------------------------------------------------------------

    async def _schedule(self) -> None:
        config, name = self.config, self.config.function_name
        now = self._clock.now()
        log.debug(
            "The '%s' timer is using the schedule '%s' and the local time zone: '%s'",
            name,
            config.schedule,
            zone_name(config.zone),
            extra={"category": CATEGORY},
        )
        status, past_due = await self._initial_status(now)
        self._status = status
        self._log_next_occurrences(now)
        if past_due:
            log.debug(
                "Function '%s' is past due on startup. Executing now.",
                name,
                extra={"category": CATEGORY},
            )
            await self._fire(past_due=True, original=status.next)
        elif config.run_on_startup:
            log.debug(
                "Function '%s' is configured to run on startup. Executing now.",
                name,
                extra={"category": CATEGORY},
            )
            await self._fire(run_on_startup=True)
        while True:
            assert self._status is not None and self._status.next is not None
            await self._sleep_until(self._status.next)
            await self._fire()

    async def _initial_status(self, now: datetime) -> tuple[ScheduleStatus, bool]:
        config = self.config
        if not config.monitor:
            return ScheduleStatus(None, config.schedule.next_after(now), None), False
        assert self._store is not None
        stored = await read_status(self._store, config.zone, config.function_name)
        if stored is not None:
            log.debug(
                "Function '%s' initial status: %s",
                config.function_name,
                stored.dumps(config.zone),
                extra={"category": CATEGORY},
            )
        status, late, changed = check_past_due(now, config.schedule, stored)
        if changed:
            await write_status(self._store, status, config.zone, config.function_name)
        return status, late > timedelta(0)

    async def _sleep_until(self, target: datetime) -> None:
        while True:
            remaining = (target - self._clock.now()).total_seconds()
            if remaining <= 0:
                return
            await self._clock.sleep(min(remaining, MAX_SLEEP))

    async def _fire(
        self,
        *,
        past_due: bool = False,
        run_on_startup: bool = False,
        original: datetime | None = None,
    ) -> None:
        """One run; awaited shielded, so stopping the schedule never cuts a run short."""
        invoked = self._clock.now()
        event = self._event(invoked, past_due, run_on_startup, original)
        scheduled = not (past_due or run_on_startup)
        self._inflight = asyncio.ensure_future(self._invoke(event, invoked, scheduled))
        await asyncio.shield(self._inflight)

    async def _invoke(self, event: TriggerEvent, invoked: datetime, scheduled: bool) -> None:
        with contextlib.suppress(Exception):  # the worker logged it; the schedule goes on
            await self._dispatch(event)
        config = self.config
        assert self._status is not None
        self._status = after_invocation(invoked, self._status, config.schedule, scheduled=scheduled)
        if config.monitor and self._store is not None:
            await write_status(self._store, self._status, config.zone, config.function_name)

    def _event(
        self, invoked: datetime, past_due: bool, run_on_startup: bool, original: datetime | None
    ) -> TriggerEvent:
        config = self.config
        status = self._status if config.monitor else None
        details: dict[str, str] = {}
        if past_due:
            details["UnscheduledInvocationReason"] = "IsPastDue"
        elif run_on_startup:
            details["UnscheduledInvocationReason"] = "RunOnStartup"
        if original is not None:
            details["OriginalSchedule"] = round_trip(original, config.zone)
        if status is not None:
            details["ScheduleStatus"] = status.dumps(config.zone)
        return TriggerEvent(
            data=Datum(timer_info(config.schedule, status, config.zone, past_due), "json"),
            metadata=self._metadata(invoked),
            reason=f"Timer fired at {round_trip(invoked, config.zone)}",
            details=details,
        )

    def _metadata(self, now: datetime) -> dict[str, Datum]:
        # The extension's binding data: DateTime.Now.ToString() in the invariant culture.
        local = now.astimezone(self.config.zone)
        return {"TimerTrigger": Datum(f"{local:%m/%d/%Y %H:%M:%S}", "string")}

    # --- logging --------------------------------------------------------------------------

    def next_occurrences(self, count: int, now: datetime | None = None) -> list[str]:
        """The next ``count`` occurrences, written in the host's time zone as it logs them."""
        occurrences, moment = [], self._clock.now() if now is None else now
        for _ in range(count):
            moment = self.config.schedule.next_after(moment)
            occurrences.append(schedule_date(moment, self.config.zone))
            moment += timedelta(milliseconds=1)
        return occurrences

    def _log_next_occurrences(self, now: datetime) -> None:
        config = self.config
        log.info(
            "The next 5 occurrences of the '%s' schedule (%s) will be:\n%s",
            config.function_name,
            config.schedule,
            "\n".join(self.next_occurrences(5, now)),
            extra={"category": CATEGORY},
        )

    def _log_singleton(self, level: int, message: str, *args: object) -> None:
        log.log(level, message, *args, extra={"category": SINGLETON})

    def _log_storage_error(self, what: str, exc: BaseException | None) -> None:
        text = first_line(exc) if exc is not None else "unknown error"
        storage = self.config.storage
        hint = ""
        if storage.connection_string is not None and unreachable(exc):
            # Nothing answered: the usual cause is a local emulator that is not running.
            hint = (
                " Is the storage running? (UseDevelopmentStorage=true is Azurite on "
                "127.0.0.1:10000.) With AzureWebJobsStorage empty, the timer keeps its state in "
                f"files under {storage.state_dir} instead."
            )
        log.error(
            "Function '%s': the timer could not use %s in %s: %s; trying again.%s",
            self.config.function_name,
            what,
            storage.description,
            text,
            hint,
            extra={"category": CATEGORY},
        )


class TimerTriggerProvider(HostStorageProvider):
    """``timerTrigger``: a schedule in this process, state in host storage."""

    type_name = "timerTrigger"
    honours_retry = True

    def trigger(
        self, spec: BindingSpec, ctx: BindingContext, dispatch: Dispatch
    ) -> TimerTriggerListener:
        """Check the schedule and settings now, so a bad one fails at load with its reason."""
        config = timer_config(spec, ctx, datetime.now(timezone.utc))
        if config.storage.unavailable is not None:
            ctx.warn(  # the same text for every timer: once
                files_instead(
                    config.storage,
                    "timers keep their schedule status and lock",
                    config.storage.state_dir,
                )
            )
        return TimerTriggerListener(config, dispatch)


TIMER_TRIGGER = TimerTriggerProvider()
