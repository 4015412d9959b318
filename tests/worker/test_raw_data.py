"""``str`` and ``bytes`` parameters take the data as the host sent it, whatever the binding.

The worker's rule (functions.py): such a parameter uses the generic converter unless its
binding returns its value implicitly. Through the real ``funchost start`` on Azurite, with
each trigger declared by its own decorator and by @app.generic_trigger.
"""

from __future__ import annotations

import json
from typing import Any, Optional

import azure.functions as func
import pytest
from azurite import Azurite
from blob_helpers import container, host_env
from blob_helpers import unique as unique_container
from conftest import APPS, Host, StartHost, run_funchost
from queue_helpers import bodies, send, unique, wait_lines, wait_until

from funchost.errors import BindingError
from funchost.worker import converters

APP = APPS / "raw_data"


def seen(host: Host, tag: str, count: int = 1) -> list[dict[str, Any]]:
    """What the functions logged under ``tag``: the Python type they got and the value."""
    found = wait_lines(host, f" {tag} ", count, timeout=15)
    return [json.loads(line.split(f" {tag} ", 1)[1]) for line in found]


def test_check_accepts_str_and_bytes_on_queue_and_blob_triggers() -> None:
    names = ("Q_STR", "Q_GSTR", "Q_BYTES", "Q_GBYTES", "Q_UNTYPED", "B_STR", "B_GBYTES")
    env = {"AzureWebJobsStorage": "UseDevelopmentStorage=true"} | {n: "names" for n in names}
    result = run_funchost(["check"], APP, env)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "funchost check: OK, 7 function(s)." in result.stdout


def test_str_gets_the_queue_message_text(start_host: StartHost, azurite: Azurite) -> None:
    plain, generic = unique("str"), unique("gstr")
    env = host_env(azurite, unique_container("h"), Q_STR=plain, Q_GSTR=generic)
    host = start_host(APP, "--functions", "queue_str", "generic_queue_str", env=env)
    send(azurite, plain, "grüße from the decorator")
    send(azurite, generic, '{"a": 1}')
    assert seen(host, "QUEUE_STR") == [{"type": "str", "value": "grüße from the decorator"}]
    # JSON-looking text stays text: no converter parses it.
    assert seen(host, "GENERIC_QUEUE_STR") == [{"type": "str", "value": '{"a": 1}'}]


def test_bytes_with_data_type_binary_gets_the_body_and_writes_bytes(
    start_host: StartHost, azurite: Azurite
) -> None:
    plain, generic = unique("bytes"), unique("gbytes")
    env = host_env(azurite, unique_container("h"), Q_BYTES=plain, Q_GBYTES=generic)
    host = start_host(APP, "--functions", "queue_bytes", "generic_queue_bytes", env=env)
    body = b"\xff\x00 not utf-8"
    send(azurite, plain, body)
    send(azurite, generic, body)
    assert seen(host, "QUEUE_BYTES") == [{"type": "bytes", "value": body.hex()}]
    assert seen(host, "GENERIC_QUEUE_BYTES") == [{"type": "bytes", "value": body.hex()}]
    copy = wait_until(lambda: bodies(azurite, f"{generic}-copy"), 10, "the bytes output")
    assert copy == [body[::-1]]


def test_bytes_without_data_type_gets_the_text_as_sent(
    start_host: StartHost, azurite: Azurite
) -> None:
    # The host sends a queue message as a string unless dataType is binary, and the
    # worker's generic converter does not convert: the annotation does not make it bytes.
    queue = unique("untyped")
    env = host_env(azurite, unique_container("h"), Q_UNTYPED=queue)
    host = start_host(APP, "--functions", "queue_bytes_untyped", env=env)
    send(azurite, queue, "text")
    assert seen(host, "QUEUE_UNTYPED") == [{"type": "str", "value": "text"}]


def test_blob_triggers_give_text_or_bytes_as_the_data_type_says(
    start_host: StartHost, azurite: Azurite
) -> None:
    texts, raws = unique_container("str"), unique_container("gbytes")
    env = host_env(azurite, unique_container("h"), B_STR=texts, B_GBYTES=raws)
    host = start_host(APP, "--functions", "blob_str", "generic_blob_bytes", env=env)
    container(azurite, texts).upload_blob("t.txt", "grüße".encode())
    container(azurite, raws).upload_blob("b.bin", b"\x00\x01raw")
    assert seen(host, "BLOB_STR") == [{"type": "str", "value": "grüße"}]
    assert seen(host, "GENERIC_BLOB_BYTES") == [{"type": "bytes", "value": b"\x00\x01raw".hex()}]


# --- the rule itself ------------------------------------------------------------------------


def test_the_rule_spares_implicit_outputs_and_the_http_request() -> None:
    assert converters.converter_for("queueTrigger", str) == converters.GENERIC
    assert converters.converter_for("queue", bytes) == converters.GENERIC  # outputs too
    assert converters.converter_for("blob", Optional[str]) == converters.GENERIC  # noqa: UP045
    assert converters.converter_for("durableClient", str) == converters.GENERIC
    # Durable triggers return their value implicitly: their own converter stays.
    assert converters.converter_for("orchestrationTrigger", str) == "orchestrationTrigger"
    # A request is never text: `req: str` stays refused at load (the worker fails each call).
    assert converters.converter_for("httpTrigger", str) == "httpTrigger"
    assert converters.converter_for("queueTrigger", func.QueueMessage) == "queueTrigger"


def test_generic_values_go_out_as_the_worker_sends_them() -> None:
    def encode(value: Any) -> tuple[Any, str | None]:
        datum = converters.encode(converters.GENERIC, value, str)
        return datum.value, datum.type

    assert encode("text") == ("text", "string")
    assert encode(bytearray(b"\x00")) == (b"\x00", "bytes")
    assert encode({"a": [1]}) == ('{"a": [1]}', "json")
    assert encode(True) == (1, "int")
    assert encode(2.5) == (2.5, "double")
    with pytest.raises(BindingError, match="cannot send a value of type object to a str or bytes"):
        encode(object())
