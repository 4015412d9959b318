"""The peer's partition-key hash against the values the Azure SDKs' ports of the service's code
are tested with (azure-sdk-for-java PartitionResolverTests, azure-sdk-for-net likewise)."""

from __future__ import annotations

import pytest

from peers.amqp.partition_key import hash_code, partition_index

LONG_1 = (
    "FAyAIctPeCgmiwLKbJcyswoHglHVjQdvtBowLACDNORsYvOcLddNJYDmhAVkbyLOrHTKLneMNcbgWVlasVywOByANjs"
)
LONG_2 = (
    "1XYM6!(7(lF5wq4k4m*e$Nc!1ezLJv*1YK1Y-C^*&B$O)lq^iUkG(TNzXG;Zi#z2Og*Qq0#^*k)"
    ":vXh$3,C7We7%W0meJ;b3,rQCg^J;^twXgs5E$$hWKxqp"
)
LONG_3 = (
    "E(x;RRIaQcJs*P;D&jTPau-4K04oqr:lF6Z):ERpo&;"
    "9040qyV@G1_c9mgOs-8_8/10Fwa-7b7-yP!T-!IH&968)FWuI;(^g$2fN;)HJ^^yTn:"
)


@pytest.mark.parametrize(
    ("key", "expected"),
    [
        ("7", -15263),
        ("131", 30562),
        ("7149583486996073602", 12977),
        ("FWfAT", -22341),
        ("sOdeEAsyQoEuEFPGerWO", -6503),
        (LONG_1, 5226),
        (LONG_2, 23950),
        (LONG_3, -29304),
        ("!c*_!I@1^c", 15372),
        ("p4*!jioeO/z-!-;w:dh", -3104),
        ("$0cb", 26269),
        ("-4189260826195535198", 453),
    ],
)
def test_hash_codes_match_the_service(key: str, expected: int) -> None:
    assert hash_code(key) == expected


def test_a_negative_hash_picks_the_partition_the_service_picks() -> None:
    # -15263 % 4 is -3 in C#/Java (3 after abs), where Python's % would give 1.
    assert partition_index("7", 4) == 3
