"""The leak-free split (data/debian_split.py): families never straddle splits; stable and order-free."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from scratchnn.data import DebianRecord, debian_report, description_groups, split_descriptions

from .debian_fakes import write_fake_lists


def _words(rng: np.random.Generator, n: int) -> str:
    return " ".join(f"w{int(i)}" for i in rng.integers(0, 50_000, size=n))


def families(seed: int = 0, n: int = 400) -> list[DebianRecord]:
    """Package families as Debian has them (package ``f<family>-<member>``): members that share a first
    paragraph and add their own, members that repeat a whole description, and chains that only a union
    of both keys closes."""
    rng = np.random.default_rng(seed)
    records = []
    for f in range(n):
        intro = _words(rng, 12)
        kind = f % 4
        if kind == 0:  # libfoo1 / libfoo-dev / libfoo-doc
            for suffix in ("1", "-dev", "-doc"):
                records.append(
                    DebianRecord(f"f{f}-lib{suffix}", f"lib {f}{suffix}", f"{intro}\n\n{_words(rng, 6)}", "libs")
                )
        elif kind == 1:  # the same description under several synopses
            for k in range(int(rng.integers(2, 5))):
                records.append(DebianRecord(f"f{f}-part{k}", f"p {f} part {k}", intro, "utils"))
        elif kind == 2:  # a chain: A shares B's first paragraph; C is B's text in one paragraph (another
            # first paragraph: joined to B only by the normalized whole description)
            tail = _words(rng, 5)
            records.append(DebianRecord(f"f{f}-a", "a", f"{intro}\n\n{_words(rng, 4)}", "net"))
            records.append(DebianRecord(f"f{f}-b", "b", f"{intro}\n\n{tail}", "net"))
            records.append(DebianRecord(f"f{f}-c", "c", f"{intro.upper()}\n{tail}", "net"))
        else:  # a package of its own
            records.append(DebianRecord(f"f{f}-solo", f"solo {f}", f"{intro}\n\n{_words(rng, 3)}", "misc"))
    return records


def _norm(text: str) -> str:
    return " ".join(text.lower().split())


def _assert_no_leak(parts: Sequence[Sequence[DebianRecord]]) -> None:
    for i in range(3):
        for j in range(i + 1, 3):
            for key in (lambda r: _norm(r.description), lambda r: _norm(r.description.split("\n\n")[0])):
                assert not {key(r) for r in parts[i]} & {key(r) for r in parts[j]}


def test_no_description_nor_first_paragraph_is_in_two_splits() -> None:
    records = families()
    parts = split_descriptions(records)
    assert sorted(r.package for p in parts for r in p) == sorted(r.package for r in records)
    assert all(len(p) > 0 for p in parts)
    _assert_no_leak(parts)


def test_groups_are_the_families() -> None:
    records = families(n=8)
    groups = description_groups(records)
    family = [r.package.split("-")[0] for r in records]
    assert len(set(groups)) == 8 and len(records) > 8
    assert all(
        (groups[i] == groups[j]) == (family[i] == family[j]) for i in range(len(records)) for j in range(len(records))
    )


def test_the_split_is_deterministic_and_independent_of_record_order() -> None:
    records = families(seed=1)
    first = split_descriptions(records, seed=3)
    assert split_descriptions(records, seed=3) == first
    shuffled = [records[i] for i in np.random.default_rng(0).permutation(len(records))]
    again = split_descriptions(shuffled, seed=3)
    assert [set(p) for p in again] == [set(p) for p in first]
    assert [[r for r in shuffled if r in set(p)] for p in first] == list(again)  # input order kept
    other = split_descriptions(records, seed=4)
    assert [set(p) for p in other] != [set(p) for p in first]
    _assert_no_leak(other)


def test_groups_go_where_the_documented_hash_sends_them() -> None:
    # the split is sha256("seed:group name") / 2**256 against the cumulative fractions: any machine and
    # Python version reproduces it (no hash randomization, no RNG)
    records = [DebianRecord(f"p{i}", "s", f"Text {i}.\n\nMore.", "x") for i in range(200)]
    train, val, test = split_descriptions(records, (0.5, 0.3, 0.2), seed=7)
    for r in records:
        name = "d:" + _norm(r.description)  # the smaller of its two keys ("d:" < "p:")
        u = int(hashlib.sha256(f"7:{name}".encode()).hexdigest(), 16) / 2**256
        assert r in (train if u < 0.5 else val if u < 0.8 else test)


def test_fractions_hold_for_many_small_groups() -> None:
    records = [DebianRecord(f"p{i}", f"s{i}", f"Unique text {i}.", "x") for i in range(4000)]
    n = [len(p) for p in split_descriptions(records, (0.7, 0.2, 0.1))]
    # binomial standard deviations: 29, 25, 19 records; allow 4 of them
    assert abs(n[0] - 2800) < 116 and abs(n[1] - 800) < 100 and abs(n[2] - 400) < 76
    assert [len(p) for p in split_descriptions(records, (1.0, 0.0, 0.0))] == [4000, 0, 0]
    assert len(split_descriptions(records, (0.5, 0.5, 0.0)).test) == 0


def test_records_without_a_description_are_grouped_by_synopsis() -> None:
    records = [DebianRecord(f"t{i}", "Transitional package" if i % 2 else f"own {i}", "", "oldlibs") for i in range(60)]
    groups = description_groups(records)
    assert len(set(groups[1::2])) == 1 and len(set(groups[0::2])) == 30
    parts = split_descriptions(records)
    assert sum(any(r.synopsis == "Transitional package" for r in p) for p in parts) == 1


@pytest.mark.parametrize(
    ("fractions", "message"),
    [
        ((0.8, 0.1), r"Invalid value for `fractions`: expected three numbers >= 0 .* Received: fractions=\(0.8, 0.1\)"),
        ((0.8, 0.3, 0.1), r"Received: fractions=\(0.8, 0.3, 0.1\)"),
        ((1.2, -0.1, -0.1), r"Received: fractions=\(1.2, -0.1, -0.1\)"),
        (("a", 0, 1), r"Invalid value for `fractions`"),
    ],
)
def test_bad_fractions_are_refused(fractions: tuple[float, ...], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        split_descriptions(families(n=4), fractions)


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(TypeError, match="Invalid type for `seed`: expected an int. Received: seed of type float"):
        split_descriptions(families(n=4), seed=1.5)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="Invalid type for `records`"):
        split_descriptions("not records")  # type: ignore[arg-type]


def test_the_report_counts_records_groups_and_splits(tmp_path: Path) -> None:
    lists = write_fake_lists(tmp_path / "lists")
    report = debian_report(lists_dir=lists, cache=tmp_path / "c")
    lines = report.splitlines()
    # 8 records (7 with a long description); libfoo1 and libfoo-dev share a first paragraph: 7 groups
    assert lines[0].startswith("records: 8 (7 with a long description), parsed and cached in ")
    assert lines[1] == f"cache: {next((tmp_path / 'c').iterdir())}"
    assert (
        "unique long descriptions: 7" in lines
        and "groups (shared description or first paragraph): 7, the largest 2" in lines
    )
    assert "sections: 6 (2 records without one)" in lines
    counts = [int(line.split()[1]) for line in lines if line.split(":")[0] in ("train", "val", "test")]
    assert sum(counts) == 8
    again = debian_report(lists_dir=lists, cache=tmp_path / "c").splitlines()
    assert (
        again[0].startswith("records: 8 (7 with a long description), read from the cache in ")
        and again[2:5] == lines[2:5]
    )
    assert debian_report(lists_dir=lists, cache=False).startswith("records: 8 (7 with a long description), parsed in ")
