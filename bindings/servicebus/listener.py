"""Service Bus trigger listener: peek-lock receive over ``azure.servicebus.aio``, as the v5
extension's ``ServiceBusListener`` and its message processors do.

- One message per invocation (cardinality one): two receivers (see ``slots.py``) sharing
  ``maxConcurrentCalls``: at most that many messages run at once, each receiver asking for as
  many as there is room for in its share, and settling the messages whose invocations ended
  before it receives again. While a function runs, its message's lock is renewed
  (``renewal.py``) up to ``maxAutoLockRenewalDuration``.
- A batch per invocation (cardinality many): up to ``maxMessageBatchSize`` messages (waiting up
  to ``maxBatchWaitTime`` for ``minMessageBatchSize``), one invocation at a time; batch locks are
  not renewed (the option "does not apply for functions that receive a batch of messages").
- Sessions (isSessionsEnabled): up to ``maxConcurrentSessions`` session receivers, each taking the
  next available session, running ``maxConcurrentCallsPerSession`` messages at a time in order,
  renewing the session lock, and letting the session go after ``sessionIdleTimeout`` without a
  message.
- Success completes the messages (unless ``autoCompleteMessages`` is false); failure abandons
  them, so the broker redelivers them and dead-letters a message at its MaxDeliveryCount. The
  host applies no retry policy to Service Bus triggers. Settling runs under ``asyncio.shield``.
- ``stop``: no more receives; invocations in flight get until the deadline, then are cancelled
  and their messages abandoned; receivers close after every settle. A message received and
  never settled (a killed process) comes back when its lock expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from funchost.backoff import ExponentialBackoff
from funchost.bindings.base import Description, Dispatch, TriggerEvent
from funchost.bindings.servicebus.client import Clients
from funchost.bindings.servicebus.config import TRY_TIMEOUT, Entity, ServiceBusOptions
from funchost.bindings.servicebus.messages import (
    Values,
    body_of,
    data_datum,
    trigger_event,
    values_of,
)
from funchost.bindings.servicebus.renewal import CATEGORY, LockKeeper
from funchost.bindings.servicebus.sdktype import admin_model_binding_datum, model_binding_datum
from funchost.bindings.servicebus.slots import LINKS, SHORT_WAIT, Slots, shares
from funchost.bindings.shared.connections import Connection
from funchost.bindings.shared.drain import finish_by
from funchost.bindings.shared.failures import first_line

if TYPE_CHECKING:
    from azure.servicebus import ServiceBusReceivedMessage
    from azure.servicebus.aio import ServiceBusReceiver

log = logging.getLogger("funchost.servicebus")
# How long one receive call waits for a message; stop cancels a waiting receive at once.
RECEIVE_WAIT = 5.0
# A receiver that fails (entity missing, broker down) is retried after 1 s, growing to 60 s.
_BACKOFF = (1.0, 60.0)


@dataclass(frozen=True)
class TriggerConfig:
    """Everything a Service Bus listener needs, checked when the function is loaded."""

    function_name: str
    entity: Entity
    connection: Connection
    options: ServiceBusOptions
    many: bool  # cardinality many: a batch per invocation
    sessions: bool
    auto_complete: bool
    binary: bool  # dataType binary: bodies as bytes
    deferred: bool  # an SDK-type parameter: model binding data instead of bodies


class ServiceBusTriggerListener:
    """Receives from one queue or subscription for one function."""

    # An outcome is settled by a receiver's loop or a settle task, which run only after the
    # invocation's task has ended: the worker may write its Executed line a moment later.
    acts_on_outcome_later = True

    def __init__(self, config: TriggerConfig, clients: Clients, dispatch: Dispatch) -> None:
        self.config = config
        self._clients = clients
        self._dispatch = dispatch
        self._options = config.options
        self._loops: set[asyncio.Task[None]] = set()
        self._in_flight: set[asyncio.Task[None]] = set()
        self._settling: set[asyncio.Task[None]] = set()
        self._receivers: set[ServiceBusReceiver] = set()
        self._shares: list[Slots] = []  # each one-message receiver's share
        self._locks: dict[ServiceBusReceiver, asyncio.Lock] = {}
        self._locks_kept = LockKeeper(config.function_name, config.options.max_auto_lock_renewal)
        self._stopping = False
        self._failing = False  # a failed receive was reported; the recovery is reported once

    def describe(self, base_url: str) -> Description:
        """The trigger type, as Core Tools lists non-HTTP functions."""
        return Description("serviceBusTrigger")

    def admin_event(self, payload: str) -> TriggerEvent | None:
        """Run now with a message made from the payload, as the extension's ConvertFromString."""
        config = self.config
        if config.deferred:
            data = admin_model_binding_datum(payload, config.many)
        else:
            data = data_datum([payload.encode("utf-8")], config.binary, config.many)
        event = trigger_event(data, [Values.from_string()], many=config.many, entity="")
        event.reason = "This function was programmatically called via the host APIs."
        event.details = {}  # the host's admin invocation logs no trigger details
        return event

    async def start(self) -> None:
        """Start receiving in the background."""
        self._locks_kept.start()
        config = self.config
        if config.sessions:
            loops = [self._session_loop() for _ in range(self._options.max_concurrent_sessions)]
        elif config.many:
            loops = [self._receive_loop(Slots(1, self._options.prefetch_count))]
        else:
            links = min(LINKS, self._options.max_concurrent_calls)
            calls = shares(self._options.max_concurrent_calls, links)
            prefetch = shares(self._options.prefetch_count, links)
            pairs = zip(calls, prefetch, strict=True)
            loops = [self._receive_loop(Slots(*share)) for share in pairs]
        for loop in loops:
            task = asyncio.get_running_loop().create_task(loop)
            self._loops.add(task)
            task.add_done_callback(self._loops.discard)
        log.debug(
            "Service Bus listener started (entity '%s', %s)",
            config.entity.path,
            "sessions" if config.sessions else "no sessions",
            extra={"category": CATEGORY},
        )

    async def stop(self, deadline: float) -> None:
        """Stop receiving, let running functions finish by deadline, settle, close receivers."""
        self._stopping = True
        self._locks_kept.stop()
        loops = list(self._loops)
        for task in loops:
            task.cancel()  # a loop waits in a receive, or (shielded) for its invocation
        await asyncio.gather(*loops, return_exceptions=True)
        await finish_by(self._in_flight, deadline, self._cancelling)
        while self._settling:
            await asyncio.gather(*self._settling, return_exceptions=True)
        for slots in self._shares:  # outcomes of invocations that ended after their loop
            if slots.outcomes and slots.receiver is not None:
                await self._settle_outcomes(slots.receiver, slots)
        await self._locks_kept.close()
        for receiver in list(self._receivers):
            await _close(receiver)
        self._receivers.clear()

    def _cancelling(self, count: int) -> None:
        log.warning(
            "Function '%s': %d invocation(s) still running at the stop deadline are cancelled; "
            "their messages are abandoned and will be delivered again.",
            self.config.function_name,
            count,
            extra={"category": CATEGORY},
        )

    # --- receivers ---------------------------------------------------------------------------

    def _receiver(self, session: bool, prefetch: int | None = None) -> ServiceBusReceiver:
        from azure.servicebus import NEXT_AVAILABLE_SESSION, ServiceBusReceiveMode

        client = self._clients.get(self.config.connection)
        kwargs: dict[str, Any] = {
            "receive_mode": ServiceBusReceiveMode.PEEK_LOCK,
            "prefetch_count": self._options.prefetch_count if prefetch is None else prefetch,
        }
        if session:
            kwargs["session_id"] = NEXT_AVAILABLE_SESSION
            kwargs["max_wait_time"] = self._options.session_idle_timeout or TRY_TIMEOUT
        entity = self.config.entity
        if entity.queue is not None:
            receiver = client.get_queue_receiver(entity.queue, **kwargs)
        else:
            receiver = client.get_subscription_receiver(
                str(entity.topic), str(entity.subscription), **kwargs
            )
        self._receivers.add(receiver)
        return receiver

    async def _receive_loop(self, slots: Slots) -> None:
        """One receiver for the entity: messages one by one, or batches."""
        backoff = ExponentialBackoff(*_BACKOFF)
        receiver = slots.receiver = self._receiver(session=False, prefetch=slots.prefetch)
        self._shares.append(slots)
        while not self._stopping:
            try:
                if self.config.many:
                    await self._one_batch(receiver)
                else:
                    await self._fill(receiver, slots)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                self._receive_failed(exc)
                await self._back_off(receiver, slots, backoff.next_delay(succeeded=False))
                continue
            self._receive_worked(backoff)

    async def _back_off(self, receiver: ServiceBusReceiver, slots: Slots, delay: float) -> None:
        """Wait before receiving again, settling the messages of invocations that end meanwhile."""
        until = asyncio.get_running_loop().time() + delay
        while (left := until - asyncio.get_running_loop().time()) > 0:
            if slots.outcomes:
                await self._settle_outcomes(receiver, slots)
                continue
            slots.wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(slots.wake.wait(), left)

    async def _fill(self, receiver: ServiceBusReceiver, slots: Slots) -> None:
        """Settle what has ended, then receive as many messages as there is room for; each
        runs in its own task.

        A receive waits until half the slots are free (or none is taken): each receive then
        brings several messages, rather than one link-credit round trip per finished message.
        """
        limit = slots.limit
        busy = limit - max(1, limit // 2)  # receive once at most this many are running
        while slots.outcomes or slots.running > busy:
            if slots.outcomes:
                await self._settle_outcomes(receiver, slots)
            else:
                slots.wake.clear()
                await slots.wake.wait()
        # With functions running, a receive must not hold up their settlements for long.
        wait = min(RECEIVE_WAIT, slots.idle_wait) if slots.running else RECEIVE_WAIT
        messages = await receiver.receive_messages(
            max_message_count=limit - slots.running, max_wait_time=wait
        )
        # Nothing came while functions run: wait longer next time (50 ms, doubling to 1 s).
        slots.idle_wait = SHORT_WAIT if messages else min(1.0, slots.idle_wait * 2)
        for message in messages:
            self._spawn(self._run_one(receiver, slots, message))
            slots.running += 1

    async def _run_one(
        self, receiver: ServiceBusReceiver, slots: Slots, message: ServiceBusReceivedMessage
    ) -> None:
        """Run the function for one message; its loop settles it (abandoned if cancelled)."""
        timer = self._locks_kept.keep(receiver, message)
        succeeded = False
        try:
            succeeded = await self._call([message])
        finally:
            if timer is not None:
                timer.cancel()
            slots.ended(message, succeeded)

    async def _settle_outcomes(self, receiver: ServiceBusReceiver, slots: Slots) -> None:
        """Settle every outcome waiting, one after another, in one shielded task."""
        outcomes = slots.take()
        await self._shielded(self._settle_each(receiver, outcomes))

    async def _settle_each(
        self, receiver: ServiceBusReceiver, outcomes: list[tuple[ServiceBusReceivedMessage, bool]]
    ) -> None:
        for message, succeeded in outcomes:
            if succeeded and not self.config.auto_complete:
                continue  # the function was to settle it; unsettled, it comes back
            await self._settle_one(receiver, message, succeeded)

    async def _settle_one(
        self, receiver: ServiceBusReceiver, message: ServiceBusReceivedMessage, succeeded: bool
    ) -> None:
        try:
            if succeeded:
                await receiver.complete_message(message)
            else:
                self._abandoning(message)
                await receiver.abandon_message(message)
        except Exception as exc:
            self._settle_failed(message, "complete" if succeeded else "abandon", exc)

    async def _one_batch(self, receiver: ServiceBusReceiver) -> None:
        """Receive a batch (waiting for minMessageBatchSize) and run it; one at a time."""
        options = self._options
        batch = await receiver.receive_messages(
            max_message_count=options.max_message_batch_size, max_wait_time=RECEIVE_WAIT
        )
        if batch and len(batch) < options.min_message_batch_size:
            loop = asyncio.get_running_loop()
            until = loop.time() + options.max_batch_wait_time
            while len(batch) < options.min_message_batch_size and loop.time() < until:
                batch += await receiver.receive_messages(
                    max_message_count=options.max_message_batch_size - len(batch),
                    max_wait_time=max(0.01, until - loop.time()),
                )
        if batch:
            # Shielded: a stop cancels this loop, not the invocation, which gets the deadline.
            await asyncio.shield(self._spawn(self._invoke(receiver, batch)))

    async def _session_loop(self) -> None:
        """Take the next available session, process it until it is idle, let it go; repeat."""
        from azure.servicebus.exceptions import OperationTimeoutError

        backoff = ExponentialBackoff(*_BACKOFF)
        while not self._stopping:
            receiver = self._receiver(session=True)
            try:
                await self._process_session(receiver)
                self._receive_worked(backoff)
            except asyncio.CancelledError:
                raise  # stop closes the receiver once its messages are settled
            except OperationTimeoutError:
                pass  # no session was available: ask again
            except Exception as exc:
                self._receive_failed(exc)
                await asyncio.sleep(backoff.next_delay(succeeded=False))
            await _close(receiver)
            self._receivers.discard(receiver)
            self._locks.pop(receiver, None)

    async def _process_session(self, receiver: ServiceBusReceiver) -> None:
        renewing = False
        per_call = self._options.max_concurrent_calls_per_session
        idle = self._options.session_idle_timeout or TRY_TIMEOUT
        while not self._stopping:
            count = self._options.max_message_batch_size if self.config.many else per_call
            messages = await receiver.receive_messages(max_message_count=count, max_wait_time=idle)
            if not messages:
                return  # idle: let the session go
            if not renewing and self._options.max_auto_lock_renewal != 0:
                renewing = True
                self._locks_kept.register(receiver, receiver.session)
            if self.config.many:
                jobs = [self._spawn(self._invoke(receiver, messages))]
            else:
                jobs = [self._spawn(self._invoke(receiver, [m])) for m in messages]
            await asyncio.shield(asyncio.gather(*jobs, return_exceptions=True))

    # --- one invocation ----------------------------------------------------------------------

    def _spawn(self, work: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
        task = asyncio.get_running_loop().create_task(work)
        self._in_flight.add(task)
        task.add_done_callback(self._in_flight.discard)
        return task

    async def _invoke(
        self, receiver: ServiceBusReceiver, messages: list[ServiceBusReceivedMessage]
    ) -> None:
        """Run the function once for a batch or a session's message, then settle (shielded)."""
        try:
            succeeded = await self._call(messages)
        except asyncio.CancelledError:
            await self._shielded(self._settle(receiver, messages, succeeded=False))
            raise
        await self._shielded(self._settle(receiver, messages, succeeded=succeeded))

    async def _call(self, messages: list[ServiceBusReceivedMessage]) -> bool:
        config = self.config
        if config.deferred:
            data = model_binding_datum(messages, config.many)
        else:
            data = data_datum([body_of(m) for m in messages], config.binary, config.many)
        event = trigger_event(
            data, values_of(messages), many=config.many, entity=config.entity.path
        )
        try:
            await self._dispatch(event)
        except Exception:
            return False  # the worker has logged the failure
        return True

    def _shielded(self, work: Coroutine[Any, Any, None]) -> asyncio.Future[None]:
        """Run work in a task of its own that stop waits for: a cancelled caller never cuts it
        short."""
        task = asyncio.get_running_loop().create_task(work)
        self._settling.add(task)
        task.add_done_callback(self._settling.discard)
        return asyncio.shield(task)

    async def _settle(
        self,
        receiver: ServiceBusReceiver,
        messages: Sequence[ServiceBusReceivedMessage],
        *,
        succeeded: bool,
    ) -> None:
        if succeeded and not self.config.auto_complete:
            return  # the function was to settle them; unsettled, they come back
        async with self._link(receiver):
            for message in messages:
                await self._settle_one(receiver, message, succeeded)

    def _link(self, receiver: ServiceBusReceiver) -> asyncio.Lock:
        """One settlement at a time on a session's link (a one-message receiver's loop settles
        its own, see Slots).

        The SDK's operations on one link each read the connection: run side by side (a receive
        beside settlements, or 8 settlements at once) they wait out 0.2 s socket reads in turn,
        while one after another they take a fraction of a millisecond each.
        """
        lock = self._locks.get(receiver)
        if lock is None:
            lock = self._locks[receiver] = asyncio.Lock()
        return lock

    # --- log lines ---------------------------------------------------------------------------

    def _log(self, level: int, text: str) -> None:
        log.log(
            level,
            "Function '%s' on Service Bus entity '%s': %s",
            self.config.function_name,
            self.config.entity.path,
            text,
            extra={"category": CATEGORY},
        )

    def _receive_failed(self, exc: Exception) -> None:
        """ERROR the first time, DEBUG while receives keep failing (every loop shares it)."""
        level = logging.DEBUG if self._failing else logging.ERROR
        self._failing = True
        self._log(level, f"receiving failed: {type(exc).__name__}: {first_line(exc)}")

    def _receive_worked(self, backoff: ExponentialBackoff) -> None:
        backoff.next_delay(succeeded=True)
        if self._failing:
            self._failing = False
            self._log(logging.INFO, "receiving again")

    def _abandoning(self, message: ServiceBusReceivedMessage) -> None:
        self._log(
            logging.INFO,
            f"message '{message.message_id}' failed (delivery count {message.delivery_count}); "
            "abandoned: Service Bus delivers it again, and dead-letters it once its delivery "
            "count reaches the entity's MaxDeliveryCount",
        )

    def _settle_failed(
        self, message: ServiceBusReceivedMessage, action: str, exc: Exception
    ) -> None:
        self._log(
            logging.WARNING,
            f"{action} of message '{message.message_id}' failed ({type(exc).__name__}: "
            f"{first_line(exc)}); the message will be delivered again once its lock expires",
        )


async def _close(receiver: ServiceBusReceiver) -> None:
    with contextlib.suppress(Exception):
        await receiver.close()
