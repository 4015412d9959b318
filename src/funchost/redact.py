"""The one redaction of secrets in text the host shows: log lines, errors, admin answers.

A function key travels as ``?code=``, a SAS token's signature as ``sig=``, a storage or
Service Bus secret inside a connection string as ``AccountKey=`` / ``SharedAccessKey=`` /
``SharedAccessSignature=``. Whatever follows one of those names up to the next separator is
replaced, so a URL with its query or an exception echoing a connection string can be shown.
"""

from __future__ import annotations

import re

REDACTED = "<redacted>"

# The value ends where a URL query or a connection string starts its next part, or at text
# that cannot be part of a value (space, quote, bracket).
_SECRET = re.compile(
    r"\b(code|sig|accountkey|sharedaccesskey|sharedaccesssignature)=[^&;\s'\"#<>)\]},]+",
    re.IGNORECASE,
)


def redact(text: str) -> str:
    """``text`` with every key, signature and connection-string secret replaced."""
    # Checked first: most lines hold none, and the lowered text costs less than the regex.
    lowered = text.lower()
    if not (
        "code=" in lowered or "sig=" in lowered or "key=" in lowered or "signature=" in lowered
    ):
        return text
    return _SECRET.sub(lambda found: f"{found.group(1)}={REDACTED}", text)
