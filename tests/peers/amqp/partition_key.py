"""Which partition a partition key lands in: the service's own rule.

Event Hubs hashes the key's UTF-8 bytes with Bob Jenkins' lookup3 (``hashlittle2``, both seeds 0),
folds the two 32-bit results into a signed 16-bit value, and takes ``abs(hash % partitions)``
with a remainder that keeps the dividend's sign (C#/Java ``%``). The Azure SDKs for .NET and Java
carry a port of the service's code for the same purpose and test it against fixed values;
tests/peers/test_amqp_peer_partition_key.py checks this one against those values.
"""

from __future__ import annotations

import struct

_MASK = 0xFFFFFFFF


def _rot(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & _MASK


def _mix(a: int, b: int, c: int) -> tuple[int, int, int]:
    for shift_a, shift_b, shift_c in ((4, 6, 8), (16, 19, 4)):
        a = ((a - c) & _MASK) ^ _rot(c, shift_a)
        c = (c + b) & _MASK
        b = ((b - a) & _MASK) ^ _rot(a, shift_b)
        a = (a + c) & _MASK
        c = ((c - b) & _MASK) ^ _rot(b, shift_c)
        b = (b + a) & _MASK
    return a, b, c


def _final(a: int, b: int, c: int) -> tuple[int, int, int]:
    c = ((c ^ b) - _rot(b, 14)) & _MASK
    a = ((a ^ c) - _rot(c, 11)) & _MASK
    b = ((b ^ a) - _rot(a, 25)) & _MASK
    c = ((c ^ b) - _rot(b, 16)) & _MASK
    a = ((a ^ c) - _rot(c, 4)) & _MASK
    b = ((b ^ a) - _rot(a, 14)) & _MASK
    c = ((c ^ b) - _rot(b, 24)) & _MASK
    return a, b, c


def lookup3(data: bytes) -> tuple[int, int]:
    """``hashlittle2`` with both seeds 0: the primary and secondary 32-bit hashes."""
    a = b = c = (0xDEADBEEF + len(data)) & _MASK
    pos = 0
    while len(data) - pos > 12:
        x, y, z = struct.unpack_from("<III", data, pos)
        a, b, c = _mix((a + x) & _MASK, (b + y) & _MASK, (c + z) & _MASK)
        pos += 12
    if pos == len(data):  # only an empty key: lookup3 returns before the final mix
        return c, b
    x, y, z = struct.unpack("<III", data[pos:].ljust(12, b"\0"))
    a, b, c = _final((a + x) & _MASK, (b + y) & _MASK, (c + z) & _MASK)
    return c, b


def hash_code(key: str) -> int:
    """The signed 16-bit hash of a partition key."""
    primary, secondary = lookup3(key.encode("utf-8"))
    folded = (primary ^ secondary) & 0xFFFF
    return folded - 0x10000 if folded & 0x8000 else folded


def partition_index(key: str, partitions: int) -> int:
    """The index of the partition a key is assigned to."""
    code = hash_code(key)
    remainder = abs(code) % partitions  # the C# remainder keeps the dividend's sign; abs drops it
    return remainder
