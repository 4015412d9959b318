"""Byte-level AMQP 1.0 helpers: padding outgoing performatives, splitting messages into sections.

proton omits trailing null fields of every performative (the spec allows it), but the decoder
bundled with azure-eventhub indexes fields by position and cannot read a trimmed list (nor a
``list0``). So every frame the peer writes is rewritten with its performative padded by explicit
nulls to the full field count; the transfer payload after the performative is copied as is.
"""

from __future__ import annotations

import struct

# Full field counts of each performative, by descriptor code (AMQP 1.0 part 2 and part 5).
FIELD_COUNTS = {
    0x10: 10,  # open
    0x11: 8,  # begin
    0x12: 14,  # attach
    0x13: 11,  # flow
    0x14: 11,  # transfer
    0x15: 6,  # disposition
    0x16: 3,  # detach
    0x17: 1,  # end
    0x18: 1,  # close
    0x40: 1,  # sasl-mechanisms
    0x41: 3,  # sasl-init
    0x42: 1,  # sasl-challenge
    0x43: 1,  # sasl-response
    0x44: 2,  # sasl-outcome
}

PROTOCOL_HEADER = b"AMQP"
NULL = b"\x40"

# Section descriptor codes (smallulong) of a message, in the order they appear.
HEADER, DELIVERY_ANNOTATIONS, MESSAGE_ANNOTATIONS, PROPERTIES = 0x70, 0x71, 0x72, 0x73
APPLICATION_PROPERTIES, DATA, AMQP_SEQUENCE, AMQP_VALUE, FOOTER = 0x74, 0x75, 0x76, 0x77, 0x78


class FramePadder:
    """Rewrites an outgoing byte stream frame by frame; keeps an incomplete tail for later."""

    def __init__(self) -> None:
        self._pending = bytearray()

    def feed(self, data: bytes) -> bytes:
        """Return the complete frames in ``data`` (plus what was kept before), padded."""
        self._pending += data
        out: list[bytes] = []
        buf = self._pending
        pos = 0
        while len(buf) - pos >= 8:
            if buf[pos : pos + 4] == PROTOCOL_HEADER:
                out.append(bytes(buf[pos : pos + 8]))
                pos += 8
                continue
            size = struct.unpack_from(">I", buf, pos)[0]
            if len(buf) - pos < size:
                break
            out.append(pad_frame(memoryview(buf)[pos : pos + size]))
            pos += size
        del self._pending[:pos]
        return b"".join(out)


# Described lists nested in performatives that the SDK also reads by position: error (its info
# at index 2), the outcomes, source and target.
NESTED_FIELD_COUNTS = {0x1D: 3, 0x23: 2, 0x25: 1, 0x27: 3, 0x28: 11, 0x29: 7}


def pad_frame(frame: memoryview) -> bytes:
    """One frame with its performative (and the composites in it) padded to full field counts."""
    doff = frame[4] * 4
    body = frame[doff:]
    if len(body) < 4 or body[0] != 0x00 or body[1] != 0x53 or body[2] not in FIELD_COUNTS:
        return bytes(frame)  # an empty (heartbeat) frame, or a descriptor we do not rewrite
    performative, end = _padded(body, 0, FIELD_COUNTS)
    new_body = performative + bytes(body[end:])
    header = bytearray(frame[:doff])
    struct.pack_into(">I", header, 0, doff + len(new_body))
    return bytes(header) + new_body


def _padded(buf: memoryview, pos: int, counts: dict[int, int]) -> tuple[bytes, int]:
    """The value at ``pos`` re-encoded with known described lists padded; and where it ends."""
    end = skip_value(buf, pos)
    if buf[pos] != 0x00 or buf[pos + 1] != 0x53 or buf[pos + 2] not in counts:
        return bytes(buf[pos:end]), end
    full = counts[buf[pos + 2]]
    if buf[pos + 3] not in (0x45, 0xC0, 0xD0):
        return bytes(buf[pos:end]), end
    items, count, _ = _list_fields(buf, pos + 3)
    fields: list[bytes] = []
    at = 0
    view = memoryview(items)
    for _ in range(count):
        value, at = _padded(view, at, NESTED_FIELD_COUNTS)
        fields.append(value)
    fields += [NULL] * (full - count)
    return bytes(buf[pos : pos + 3]) + _encode_list(b"".join(fields), len(fields)), end


def _list_fields(buf: memoryview, pos: int) -> tuple[bytes, int, int]:
    """The encoded items of the list at ``pos``, their count, and where the list ends."""
    code = buf[pos]
    if code == 0x45:
        return b"", 0, pos + 1
    if code == 0xC0:
        size, count = buf[pos + 1], buf[pos + 2]
        return bytes(buf[pos + 3 : pos + 2 + size]), count, pos + 2 + size
    if code == 0xD0:
        size, count = struct.unpack_from(">II", buf, pos + 1)
        return bytes(buf[pos + 9 : pos + 5 + size]), count, pos + 5 + size
    raise ValueError(f"expected a list at {pos}, found constructor 0x{code:02x}")


def _encode_list(items: bytes, count: int) -> bytes:
    """``items`` (already encoded) as a list8 when it fits, else a list32."""
    if len(items) + 1 <= 255 and count <= 255:
        return bytes((0xC0, len(items) + 1, count)) + items
    return b"\xd0" + struct.pack(">II", len(items) + 4, count) + items


# Width of the size prefix (variable types) or of the value (fixed types), by high nibble.
_FIXED = {0x4: 0, 0x5: 1, 0x6: 2, 0x7: 4, 0x8: 8, 0x9: 16}
_SIZED1 = {0xA, 0xC, 0xE}
_SIZED4 = {0xB, 0xD, 0xF}


def skip_value(buf: bytes | memoryview, pos: int) -> int:
    """The offset just past the AMQP-encoded value starting at ``pos``."""
    code = buf[pos]
    if code == 0x00:  # described: a descriptor, then the value
        return skip_value(buf, skip_value(buf, pos + 1))
    nibble = code >> 4
    if nibble in _FIXED:
        return pos + 1 + _FIXED[nibble]
    if nibble in _SIZED1:
        return pos + 2 + buf[pos + 1]
    if nibble in _SIZED4:
        return pos + 5 + int(struct.unpack_from(">I", buf, pos + 1)[0])
    raise ValueError(f"unknown AMQP constructor 0x{code:02x} at {pos}")


def split_sections(raw: bytes) -> list[tuple[int, bytes]]:
    """A bare message as (section code, the section's bytes including its descriptor)."""
    sections: list[tuple[int, bytes]] = []
    pos = 0
    while pos < len(raw):
        if raw[pos] != 0x00:
            raise ValueError(f"expected a message section at {pos}")
        if raw[pos + 1] == 0x53:
            code = raw[pos + 2]
        elif raw[pos + 1] == 0x80:
            code = int(struct.unpack_from(">Q", raw, pos + 2)[0])
        else:
            raise ValueError(f"unexpected section descriptor at {pos}")
        end = skip_value(raw, pos)
        sections.append((code, raw[pos:end]))
        pos = end
    return sections


def data_payload(section: bytes) -> bytes:
    """The bytes held by a ``data`` section (vbin8 or vbin32)."""
    if section[3] == 0xA0:
        return section[5 : 5 + section[4]]
    size = struct.unpack_from(">I", section, 4)[0]
    return section[8 : 8 + size]


def is_batch(sections: list[tuple[int, bytes]]) -> bool:
    """A batch (message format 0x80013700) is data sections that each hold an encoded message.

    proton-python does not expose a delivery's message format, so the shape tells it apart.
    """
    body = [s for code, s in sections if code == DATA]
    if not body or any(code in (AMQP_VALUE, AMQP_SEQUENCE) for code, _ in sections):
        return False
    return all(
        len(p) >= 3 and p[0] == 0x00 and p[1] == 0x53 and 0x70 <= p[2] <= 0x78
        for p in map(data_payload, body)
    )


def encode_data_section(payload: bytes) -> bytes:
    """A ``data`` section holding ``payload``."""
    if len(payload) <= 255:
        return b"\x00\x53\x75\xa0" + bytes((len(payload),)) + payload
    return b"\x00\x53\x75\xb0" + struct.pack(">I", len(payload)) + payload
