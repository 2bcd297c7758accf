"""(document, summary) files (data/summaries.load_document_summary_file): JSON lines, CSV, and their errors."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from scratchnn.data import DocumentSummary, load_document_summary_file

# as Hugging Face datasets writes XSum: one object per line, an id beside the two fields
XSUM = [
    {"document": 'The full article, with "quotes",\ncommas and a newline.', "summary": "One sentence.", "id": "1"},
    {"document": "Second article.", "summary": "Second summary.", "id": "2"},
]
PAIRS = [DocumentSummary(r["document"], r["summary"]) for r in XSUM]


def _jsonl(path: Path, rows: list[object]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def _csv(path: Path, rows: list[dict[str, str]], delimiter: str = ",") -> Path:
    with open(path, "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), delimiter=delimiter)
        writer.writeheader()
        writer.writerows(rows)
    return path


def test_json_lines_files_load_in_order(tmp_path: Path) -> None:
    assert load_document_summary_file(_jsonl(tmp_path / "xsum.jsonl", XSUM)) == PAIRS
    path = tmp_path / "xsum.json"
    path.write_text(json.dumps(XSUM[0]) + "\n\n   \n" + json.dumps(XSUM[1]) + "\n")  # blank lines skipped
    assert load_document_summary_file(path) == PAIRS
    array = tmp_path / "array.json"
    array.write_text(json.dumps(XSUM, indent=2))  # one JSON array of objects
    assert load_document_summary_file(array) == PAIRS


def test_csv_and_tsv_files_load_with_quoted_fields(tmp_path: Path) -> None:
    assert load_document_summary_file(_csv(tmp_path / "xsum.csv", XSUM)) == PAIRS  # type: ignore[arg-type]
    assert load_document_summary_file(_csv(tmp_path / "xsum.tsv", XSUM, "\t")) == PAIRS  # type: ignore[arg-type]


def test_other_field_names(tmp_path: Path) -> None:
    rows = [{"article": "Story.", "highlights": "Gist."}]  # CNN/DailyMail's names
    pairs = load_document_summary_file(_jsonl(tmp_path / "cnn.jsonl", rows), "article", "highlights")  # type: ignore[arg-type]
    assert pairs == [DocumentSummary("Story.", "Gist.")]


def test_a_missing_field_names_the_fields_there_and_the_argument(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "cnn.jsonl", [{"article": "Story.", "highlights": "Gist."}])
    with pytest.raises(ValueError) as err:
        load_document_summary_file(path)
    assert str(err.value) == (
        f"{path}, line 1: no field 'document' (fields: 'article', 'highlights'); pass document_field= to name "
        "the field that holds it."
    )
    with pytest.raises(ValueError, match=r"line 1: no field 'summary' .* pass summary_field="):
        load_document_summary_file(path, document_field="article")
    csv_path = _csv(tmp_path / "cnn.csv", [{"article": "Story.", "highlights": "Gist."}])
    with pytest.raises(ValueError, match=r"cnn.csv, line 2: no field 'document' \(fields: 'article', 'highlights'\)"):
        load_document_summary_file(csv_path)


def test_bad_lines_are_named_by_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text(json.dumps(XSUM[0]) + "\n" + '{"document": "x", "summary": \n')
    with pytest.raises(ValueError, match=rf"{path}, line 2: not valid JSON \(Expecting value, column 30\)"):
        load_document_summary_file(path)
    path.write_text(json.dumps(XSUM[0]) + "\n" + json.dumps(["a", "b"]) + "\n")
    with pytest.raises(
        ValueError, match=r"line 2: expected a JSON object with the document and summary fields, got list"
    ):
        load_document_summary_file(path)
    path.write_text(json.dumps({"document": "x", "summary": 3}) + "\n")
    with pytest.raises(ValueError, match=r"line 1: field 'summary' is int, expected a string"):
        load_document_summary_file(path)
    broken = tmp_path / "broken.json"
    broken.write_text('[{"document": "x",\n "summary": }]')
    with pytest.raises(ValueError, match=r"broken.json, line 2: not valid JSON"):
        load_document_summary_file(broken)
    rows = tmp_path / "rows.csv"
    rows.write_text("document,summary\na,b\nc,d,e\n")
    with pytest.raises(ValueError, match=r"rows.csv, line 3: 3 columns where the header has 2"):
        load_document_summary_file(rows)


def test_empty_unknown_and_missing_files(tmp_path: Path) -> None:
    for name, text in (("empty.jsonl", "\n\n"), ("empty.csv", "document,summary\n"), ("nothing.csv", "")):
        (tmp_path / name).write_text(text)
        with pytest.raises(ValueError, match=rf"{name} holds no records"):
            load_document_summary_file(tmp_path / name)
    (tmp_path / "data.parquet").write_bytes(b"PAR1")
    with pytest.raises(ValueError, match=r"unknown file type '.parquet'; expected JSON lines \(.jsonl, .json"):
        load_document_summary_file(tmp_path / "data.parquet")
    with pytest.raises(FileNotFoundError):
        load_document_summary_file(tmp_path / "missing.jsonl")
    with pytest.raises(TypeError, match="Invalid type for `document_field`: expected a str"):
        load_document_summary_file(tmp_path / "empty.jsonl", document_field=1)  # type: ignore[arg-type]
