"""The one redaction: keys, signatures and connection-string secrets never shown."""

from __future__ import annotations

import pytest

from funchost.redact import REDACTED, redact


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Error answering POST /api/echo?code=abc123== now", "abc123=="),
        ("GET /api/x?a=1&CODE=k3y%3D%3D&b=2", "k3y%3D%3D"),
        ("https://acct.blob.core.windows.net/c/b?sv=2022&sig=AbC%2Bd%3D&se=1", "AbC%2Bd%3D"),
        ("DefaultEndpointsProtocol=https;AccountName=a;AccountKey=Zm9vYmFy==;", "Zm9vYmFy=="),
        (
            "Endpoint=sb://ns.servicebus.windows.net/;SharedAccessKeyName=root;"
            "SharedAccessKey=c2VjcmV0+/=",
            "c2VjcmV0+/=",
        ),
        ("BlobEndpoint=x;SharedAccessSignature=sv=1&sig=s1gn", "s1gn"),
        ("'accountkey=quoted' in an error", "quoted"),
    ],
)
def test_redact_removes_the_secret_and_keeps_the_rest(text: str, secret: str) -> None:
    shown = redact(text)
    assert secret not in shown
    assert REDACTED in shown
    assert shown.split("=")[0] == text.split("=")[0]  # what comes before is kept


@pytest.mark.parametrize(
    "text",
    [
        "Executing 'Functions.echo' (Reason='New request', Id=1234)",
        "errorcode=5 and SharedAccessKeyName=root stay",
        "exit status 3",
    ],
)
def test_redact_leaves_text_without_secrets_alone(text: str) -> None:
    assert redact(text) == text
