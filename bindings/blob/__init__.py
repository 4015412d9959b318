"""Azure Storage blobs: the ``blobTrigger`` trigger and the ``blob`` input and output."""

from funchost.bindings.blob.binding import BLOB
from funchost.bindings.blob.trigger import BLOB_TRIGGER

__all__ = ["BLOB", "BLOB_TRIGGER"]
