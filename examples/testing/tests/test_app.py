"""Tests of the app in the folder above, run by funchost in-process: `pytest` from that folder.

No storage is needed: the app's trigger listeners are not started (``invoke`` runs a
function), and ``record_outputs=True`` keeps what the output bindings would send.
"""

import json
import logging
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[1]  # the folder holding function_app.py


@pytest.fixture(scope="session")
def app(funchost_app):
    return funchost_app(APP, record_outputs=True)


def test_hello(app):
    answer = app.http.get("/api/hello", params={"name": "Ada"})
    assert answer.status == 200
    assert answer.text == "Hello, Ada!"


def test_an_order_is_queued(app):
    answer = app.http.post("/api/orders", json={"item": "book", "quantity": 12})
    assert answer.status == 202
    queued = app.recorded.take("order")  # what the queue output got, taken out of the record
    assert [json.loads(message) for message in queued] == [{"item": "book", "quantity": 12}]


def test_a_bad_order_is_refused_and_not_queued(app):
    answer = app.http.post("/api/orders", json={"quantity": 1})
    assert answer.status == 400
    assert app.recorded.take("order") == []


def test_shipping_packs_boxes_of_ten(app):
    shipped = app.invoke("ship_order", {"item": "book", "quantity": 12})
    assert json.loads(shipped.return_value) == {"item": "book", "boxes": 2}


def test_a_bad_message_fails_the_function(app):
    with pytest.raises(KeyError):
        app.invoke("ship_order", {"quantity": 1})


def test_the_nightly_timer(app, caplog):
    caplog.set_level(logging.INFO)
    app.invoke("nightly")
    assert "Nightly clean-up ran (past due: False)." in caplog.messages
