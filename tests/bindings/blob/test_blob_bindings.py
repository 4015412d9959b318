"""Blob input and output bindings through the real ``funchost start`` on Azurite."""

from __future__ import annotations

import base64
import contextlib

from azure.core.exceptions import ResourceExistsError
from azure.storage.queue import QueueClient
from azurite import Azurite
from blob_helpers import container, host_env, lines, unique, wait_until
from conftest import APPS, StartHost
from http_helpers import call, get

APP = APPS / "blob_io"


def test_an_input_reads_text_bytes_or_a_stream_and_none_when_missing(
    start_host: StartHost, azurite: Azurite
) -> None:
    io = unique("io")
    env = host_env(azurite, unique("bb"), B_IO=io, B_NEW=unique("new"), B_QUEUE=unique("q"))
    host = start_host(APP, "--functions", "read", env=env)
    container(azurite, io).upload_blob("note.txt", "\ufeffgrüße".encode())
    reply = get(host, "/api/read/note.txt")
    assert reply.status == 200, reply.text
    assert reply.json() == {
        "text": "grüße",  # dataType string: UTF-8, the byte order mark dropped
        "text_type": "str",
        "raw": "\ufeffgrüße".encode().hex(),
        "raw_type": "bytes",
        "stream": "\ufeffgrüße".encode().hex(),
        "stream_type": "InputStream",
    }
    missing = get(host, "/api/read/missing.txt").json()
    assert missing == {
        "text": None,
        "text_type": "NoneType",
        "raw": None,
        "raw_type": "NoneType",
        "stream": None,
        "stream_type": "NoneType",
    }


def test_outputs_land_and_create_their_container(start_host: StartHost, azurite: Azurite) -> None:
    io, new = unique("io"), unique("new")
    env = host_env(azurite, unique("bb"), B_IO=io, B_NEW=new, B_QUEUE=unique("q"))
    host = start_host(APP, "--functions", "write", "skip", env=env)
    reply = call(host, "POST", "/api/write/out.txt", body="payload")
    assert (reply.status, reply.text) == (200, "written")
    ios = container(azurite, io, create=False)
    assert ios.download_blob("text/out.txt").readall() == b"payload"
    assert container(azurite, new, create=False).download_blob("raw/out.txt").readall() == (
        b"daolyap"
    )
    guids = [b.name for b in ios.list_blobs(name_starts_with="unique/")]
    assert len(guids) == 1 and len(guids[0]) == len("unique/") + 36 + len(".txt"), guids
    assert call(host, "POST", "/api/skip/x.txt").text == "skipped"
    assert not list(ios.list_blobs(name_starts_with="skipped/"))


def test_a_queue_message_names_the_blobs_to_read_and_write(
    start_host: StartHost, azurite: Azurite
) -> None:
    io, queue_name = unique("io"), unique("q")
    env = host_env(azurite, unique("bb"), B_IO=io, B_NEW=unique("new"), B_QUEUE=queue_name)
    host = start_host(APP, "--functions", "copy_named", env=env)
    container(azurite, io).upload_blob("doc.txt", b"content")
    queue = QueueClient.from_connection_string(azurite.connection_string, queue_name)
    with contextlib.suppress(ResourceExistsError):  # the trigger creates its queue too
        queue.create_queue()
    for name in ("doc.txt", "absent.txt"):
        queue.send_message(base64.b64encode(name.encode()).decode())
    runs = wait_until(lambda: len(lines(host, "COPY")) >= 2 and lines(host, "COPY"))
    assert sorted((r["message"], r["source"]) for r in runs) == [
        ("absent.txt", None),
        ("doc.txt", "content"),
    ]
    copies = container(azurite, io, create=False)
    copy = copies.get_blob_client("copies/doc.txt")
    wait_until(copy.exists, what="the copy")  # written after the function returned
    assert copy.download_blob().readall() == b"content!"
    assert not copies.get_blob_client("copies/absent.txt").exists()
