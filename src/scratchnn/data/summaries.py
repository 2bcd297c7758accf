"""(document, summary) pairs for summarization: the package descriptions, or any JSON lines / CSV file.

    pairs = summary_pairs(train)                            # description -> synopsis
    pairs = load_document_summary_file("xsum-train.jsonl")  # XSum exported with Hugging Face datasets

(``load_dataset("EdinburghNLP/xsum")["train"].to_json("xsum-train.jsonl")`` writes such a file.)
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from .._validate import invalid_type
from .debian import DebianRecord

JSON_SUFFIXES = (".jsonl", ".json", ".ndjson", ".jsonlines")
CSV_SUFFIXES = (".csv", ".tsv")


class DocumentSummary(NamedTuple):
    """One summarization example: the text to summarize and its reference summary."""

    document: str
    summary: str


def summary_pairs(records: Sequence[DebianRecord]) -> list[DocumentSummary]:
    """``(document=description, summary=synopsis)`` for each record that has a long description."""
    return [DocumentSummary(r.description, r.synopsis) for r in records if r.description]


def load_document_summary_file(
    path: str | os.PathLike[str], document_field: str = "document", summary_field: str = "summary"
) -> list[DocumentSummary]:
    """Read (document, summary) pairs from a JSON lines or CSV/TSV file, in file order.

    JSON lines (``.jsonl``, ``.json``, ``.ndjson``): one object per line, blank lines skipped; a ``.json``
    file holding one array of objects works too. CSV (``.csv``, ``.tsv`` tab-separated): a header row
    naming the fields. Other fields (XSum's ``id``) are ignored.

    Raises:
        FileNotFoundError: ``path`` does not exist.
        ValueError: an unknown suffix, a line that is not a JSON object, a missing field (naming the
            fields that are there and the argument to change), a value that is not a string, or a file
            with no records; each message gives the file and line.
    """
    for name, value in (("document_field", document_field), ("summary_field", summary_field)):
        if not isinstance(value, str):
            raise invalid_type(name, "a str", value)
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix in JSON_SUFFIXES:
        rows = _json_rows(path)
    elif suffix in CSV_SUFFIXES:
        rows = _csv_rows(path, "\t" if suffix == ".tsv" else ",")
    else:
        raise ValueError(f"{path}: unknown file type {suffix or '(no suffix)'!r}; expected JSON lines "
                         f"({', '.join(JSON_SUFFIXES)}) or CSV ({', '.join(CSV_SUFFIXES)}).")  # fmt: skip
    pairs = []
    for where, row in rows:
        values = []
        for field, arg in ((document_field, "document_field"), (summary_field, "summary_field")):
            if field not in row:
                have = ", ".join(repr(k) for k in row) or "none"
                raise ValueError(f"{where}: no field {field!r} (fields: {have}); pass {arg}= to name the field "
                                 "that holds it.")  # fmt: skip
            if not isinstance(row[field], str):
                raise ValueError(f"{where}: field {field!r} is {type(row[field]).__name__}, expected a string.")
            values.append(row[field])
        pairs.append(DocumentSummary(*values))
    if not pairs:
        raise ValueError(f"{path} holds no records.")
    return pairs


def _json_rows(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    with open(path, encoding="utf-8") as f:
        text = f.read()
    if text.lstrip().startswith("["):  # one JSON array of objects
        try:
            items = json.loads(text)
        except json.JSONDecodeError as e:
            raise ValueError(f"{path}, line {e.lineno}: not valid JSON ({e.msg}).") from e
        for i, item in enumerate(items):
            yield _object(item, f"{path}, item {i}")
        return
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}, line {number}"
        try:
            item = json.loads(line)
        except json.JSONDecodeError as e:
            raise ValueError(f"{where}: not valid JSON ({e.msg}, column {e.colno}).") from e
        yield _object(item, where)


def _object(item: Any, where: str) -> tuple[str, dict[str, Any]]:
    if not isinstance(item, dict):
        kind = type(item).__name__
        raise ValueError(f"{where}: expected a JSON object with the document and summary fields, got {kind}.")
    return where, item


def _csv_rows(path: Path, delimiter: str) -> Iterator[tuple[str, dict[str, Any]]]:
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.reader(f, delimiter=delimiter)
        try:
            header = next(reader, None)
            if header is None:
                return
            for row in reader:
                where = f"{path}, line {reader.line_num}"
                if not any(row):
                    continue
                if len(row) != len(header):
                    raise ValueError(f"{where}: {len(row)} columns where the header has {len(header)}.")
                yield where, dict(zip(header, row))
        except csv.Error as e:
            raise ValueError(f"{path}, line {reader.line_num}: not valid CSV ({e}).") from e
