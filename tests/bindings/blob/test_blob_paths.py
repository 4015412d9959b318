"""Unit tests of the blob trigger's pieces: paths and patterns, messages, options, formats."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Optional

import azure.functions as func
import pytest
from azure.functions.meta import Datum

from funchost.bindings.blob.config import blobs_options
from funchost.bindings.blob.paths import (
    BlobPath,
    is_path_style,
    parse_blob_path,
    parse_trigger_pattern,
)
from funchost.bindings.blob.queue import BlobTriggerMessage, QueueOptions, decode, encode
from funchost.bindings.blob.receipts import iso, parse_iso, receipt_name
from funchost.config_section import Section
from funchost.errors import BindingError, ConfigError
from funchost.worker import converters


@pytest.mark.parametrize(
    ("pattern", "path", "captured"),
    [
        ("box/{name}.txt", "box/a.txt", {"name": "a"}),
        ("box/{name}.txt", "box/dir/a.b.txt", {"name": "dir/a.b"}),
        ("box/{name}.txt", "box/a.csv", None),
        ("box/{name}.txt", "other/a.txt", None),
        ("box/x/{name}", "box/y/z", None),
        # Greedy captures, as .NET's (.*): the folder takes every slash it can.
        (
            "box/{folder}/{name}.{ext}",
            "box/2024/05/r.final.csv",
            {"folder": "2024/05", "name": "r.final", "ext": "csv"},
        ),
        ("box/{{literal}}/{name}", "box/{literal}/x", {"name": "x"}),
        ("box", "box/anything/at/all", {}),
        ("box/fixed.txt", "box/FIXED.txt", {}),  # case-insensitive, as FixedBlobPathSource
        ("box/fixed.txt", "box/other.txt", None),
    ],
)
def test_trigger_patterns_capture_as_the_host(
    pattern: str, path: str, captured: dict[str, str] | None
) -> None:
    container, _, name = path.partition("/")
    assert parse_trigger_pattern(pattern).match(BlobPath(container, name)) == captured


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ("{c}/x", "container paths cannot contain {resolve} tokens"),
        ("box/", "paths must be in the format 'container/blob'"),
        ("/x", "paths must be in the format 'container/blob'"),
        ("In/x", "invalid container name 'In'"),
        ("a/x", "invalid container name 'a'"),
        ("box/{a}/{a}", "the parameter '{a}' appears twice"),
        ("box/{a-b}", "'{a-b}' is not a parameter name"),
        ("box/{x", "unbalanced '{'"),
    ],
)
def test_bad_trigger_patterns_say_why(pattern: str, message: str) -> None:
    with pytest.raises(BindingError, match=message.replace("{", r"\{").replace("}", r"\}")):
        parse_trigger_pattern(pattern)


def test_blob_paths_and_urls() -> None:
    assert parse_blob_path("c-1/a/b.txt") == BlobPath("c-1", "a/b.txt")
    url = "http://127.0.0.1:10000/devstoreaccount1/box/dir/a%20b.txt"
    assert parse_blob_path(url) == BlobPath("box", "dir/a b.txt")
    https = "https://acct.blob.core.windows.net/box/x.txt"
    assert parse_blob_path(https) == BlobPath("box", "x.txt")
    assert parse_blob_path("box", container_only=True) == BlobPath("box")
    for bad in ("box", "box/", "/x", "Box/x", "b--x/y"):
        with pytest.raises(BindingError):
            parse_blob_path(bad)
    assert is_path_style("http://127.0.0.1:1234/devstoreaccount1/", "devstoreaccount1")
    assert not is_path_style("https://acct.blob.core.windows.net/", "acct")


def test_the_trigger_message_is_the_hosts_json_in_base64() -> None:
    message = BlobTriggerMessage("Host.Functions.f", "BlockBlob", "c", "d/e.txt", '"0x1"')
    text = message.to_json()
    assert text == (
        '{"Type":"BlobTrigger","FunctionId":"Host.Functions.f","BlobType":"BlockBlob",'
        '"ContainerName":"c","BlobName":"d/e.txt","ETag":"\\"0x1\\""}'
    )
    assert decode(encode(text)) == text
    assert decode(text) == text  # written by hand, not base64
    assert BlobTriggerMessage.from_json(text) == message
    with pytest.raises(ValueError, match="Invalid function ID"):
        BlobTriggerMessage.from_json('{"Type":"BlobTrigger"}')


def test_receipt_names_put_the_etag_before_the_blob() -> None:
    assert receipt_name("host", "Host.Functions.f", '"0x8D"', "c", "a/b.txt") == (
        'blobreceipts/host/Host.Functions.f/"0x8D"/c/a/b.txt'
    )


def test_scan_info_times_round_trip_as_json_net_writes_them() -> None:
    moment = datetime(2024, 5, 1, 12, 0, 4, 999000, tzinfo=timezone.utc)
    assert iso(moment) == "2024-05-01T12:00:04.999+00:00"
    assert parse_iso("2024-05-01T12:00:04.9990000+00:00") == moment
    assert parse_iso("2024-05-01T12:00:04Z") == moment.replace(microsecond=0)


def extensions(section: dict[str, object]) -> Section:
    return Section.root({"extensions": section}, "host.json")


def test_host_json_blobs_options() -> None:
    options = blobs_options(
        extensions(
            {
                "Blobs": {
                    "maxDegreeOfParallelism": 4,
                    "PoisonBlobThreshold": "2",
                    "funchost": {"scanInterval": "00:00:00.5", "maxPollingInterval": "00:00:03"},
                }
            }
        )
    )
    assert (options.max_degree_of_parallelism, options.poison_blob_threshold) == (4, 2)
    assert (options.scan_interval, options.max_polling_interval) == (0.5, 3.0)
    queue = QueueOptions(4, 2, 3.0)
    assert (queue.batch_size, queue.new_batch_threshold) == (3, 1)  # BlobsOptionsToQueuesOptions
    assert QueueOptions(100, 5, 1).batch_size == 32
    defaults = blobs_options(extensions({}))
    assert defaults.poison_blob_threshold == 5 and defaults.scan_interval is None
    for bad in ({"poisonBlobThreshold": 0}, {"maxDegreeOfParallelism": "many"}):
        with pytest.raises(ConfigError, match="expected a whole number of at least 1"):
            blobs_options(extensions({"blobs": bad}))
    with pytest.raises(ConfigError, match=r"extensions\.blobs\.funchost\.scanInterval"):
        blobs_options(extensions({"blobs": {"funchost": {"scanInterval": "soon"}}}))


def test_the_example_host_json_holds_the_blob_defaults() -> None:
    example = json.loads((Path(__file__).resolve().parents[3] / "host.json.example").read_text())
    assert blobs_options(Section.root(example, "host.json")) == blobs_options(extensions({}))


def test_str_and_bytes_parameters_get_the_value_as_sent() -> None:
    """The worker's generic converter for str/bytes; the library's BlobConverter otherwise."""
    text, raw = Datum("text", "string"), Datum(b"raw", "bytes")
    assert decode_param("blob", text, str) == "text"
    assert decode_param("blob", raw, bytes) == b"raw"
    assert decode_param("blob", raw, Optional[bytes]) == b"raw"  # noqa: UP045
    assert decode_param("blobTrigger", raw, str) == b"raw"  # as sent, as the worker
    stream = decode_param("blobTrigger", raw, func.InputStream)
    assert isinstance(stream, func.InputStream) and stream.read() == b"raw"


def decode_param(binding_type: str, datum: Datum, pytype: Any) -> Any:
    """As the worker decodes a parameter: the indexer picks the converter, then it decodes."""
    return converters.decode(converters.converter_for(binding_type, pytype), datum, {}, pytype)
