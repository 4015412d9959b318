"""Scope a query to the logical partition its ``x-ms-documentdb-partitionkey`` header names.

The service runs a query that carries a partition key header inside that partition only.
cosmosdb-server ignores the header (and refuses a query whose WHERE does not mention the
partition key path), so the proxy writes the scope into the query: the partition key condition
is ANDed with the top-level WHERE, or becomes it. Only the top level of the text is touched
(string literals, brackets and subqueries are skipped); a query whose FROM the rewrite cannot
read is forwarded unchanged.
"""

from __future__ import annotations

import json
import re
from typing import Any

TOKEN = re.compile(
    r"""(?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")"""
    r"|(?P<word>[A-Za-z_][A-Za-z0-9_]*)"
    r"|(?P<open>[\(\[])|(?P<close>[\)\]])"
    r"|(?P<other>@[A-Za-z0-9_]+|[^\s'\"A-Za-z_\(\)\[\]]+)",
)
TAIL_CLAUSES = {"ORDER", "GROUP", "OFFSET", "LIMIT"}
AFTER_FROM = {"JOIN", "WHERE", *TAIL_CLAUSES}
PARAMETER = "@__peer_pk"
IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def scope_query(body: dict[str, Any], header: str, paths: list[str]) -> dict[str, Any]:
    """The query body with the partition key condition added (unchanged when it cannot be)."""
    query = body.get("query")
    values = json.loads(header) if header else []
    if not isinstance(query, str) or not paths or not isinstance(values, list) or not values:
        return body
    words = _top_level_words(query)
    alias = _alias(words)
    if alias is None:
        return body
    condition, parameters = _condition(alias, paths, values)
    clauses = words[[word for word, _, _ in words].index("FROM") :]
    where = next((start for word, start, _ in clauses if word == "WHERE"), None)
    tail = next((start for word, start, _ in clauses if word in TAIL_CLAUSES), len(query))
    if where is None:
        scoped = f"{query[:tail]} WHERE {condition} {query[tail:]}"
    else:
        inner = query[where + len("WHERE") : tail]
        scoped = f"{query[:where]}WHERE ({condition}) AND ({inner}) {query[tail:]}"
    return {**body, "query": scoped, "parameters": [*body.get("parameters", []), *parameters]}


Word = tuple[str, int, str]  # upper-cased, start offset, as written


def _top_level_words(query: str) -> list[Word]:
    """Words outside brackets and strings that are not properties (``c.order`` is no ORDER)."""
    depth, words, previous = 0, [], ""
    for match in TOKEN.finditer(query):
        kind, text = match.lastgroup, match.group()
        if kind == "open":
            depth += 1
        elif kind == "close":
            depth -= 1
        elif kind == "word" and depth == 0 and not previous.endswith("."):
            words.append((text.upper(), match.start(), text))
        previous = text
    return words


def _alias(words: list[Word]) -> str | None:
    """The name the documents go by after the top-level FROM (``FROM c``, ``FROM root r``)."""
    upper = [word for word, _, _ in words]
    if "FROM" not in upper:
        return None
    at = upper.index("FROM") + 1
    following, written = upper[at : at + 3], [text for _, _, text in words[at : at + 3]]
    if not following or following[0] in AFTER_FROM:
        return None
    if len(following) > 1 and following[1] == "IN":  # FROM x IN c.items: not the document
        return None
    if len(following) > 2 and following[1] == "AS":
        return written[2] if following[2] not in AFTER_FROM else None
    if len(following) > 1 and following[1] not in AFTER_FROM:
        return written[1]
    return written[0]


def _member(segment: str) -> str:
    # Dotted where it can be: cosmosdb-server's "does the query name the key" check reads it.
    return f".{segment}" if IDENTIFIER.fullmatch(segment) else f"[{json.dumps(segment)}]"


def _condition(alias: str, paths: list[str], values: list[Any]) -> tuple[str, list[dict[str, Any]]]:
    """``alias["a"]["b"] = @p0 AND ...`` for the given components (a prefix of the paths)."""
    terms, parameters = [], []
    for index, (path, value) in enumerate(zip(paths, values, strict=False)):
        field = alias + "".join(map(_member, path.strip("/").split("/")))
        if value == {}:  # the SDK's "undefined" partition key: the document lacks the path
            terms.append(f"NOT IS_DEFINED({field})")
            continue
        name = f"{PARAMETER}{index}"
        terms.append(f"{field} = {name}")
        parameters.append({"name": name, "value": value})
    return " AND ".join(terms), parameters
