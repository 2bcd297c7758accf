"""A leak-free train/val/test split of package descriptions: package families never straddle splits.

Packages of one source share their text: ``libfoo1``, ``libfoo-dev`` and ``libfoo-doc`` repeat one
first paragraph ("Foo is a library for ...") and add a line of their own; in bookworm 517 Qt packages
share one first paragraph. A split by record would put the same paragraph in
train and test, and a model would be scored on text it memorized. So records are grouped first:

1. each record has two keys, its whole long description and its first paragraph, both normalized
   (lower case, runs of whitespace as one space); a record without a long description has its
   synopsis as its only key;
2. union-find joins records that share any key, so a group is closed: no key of its records occurs
   outside it;
3. each group goes whole to one split, chosen by a hash of the group's name (its smallest key) and the
   seed: ``u = sha256(f"{seed}:{name}") / 2**256`` falls in train for ``u < f_train``, in val for
   ``u < f_train + f_val``, else test.

The hash makes the split the same on every machine and run (no Python ``hash``, no RNG state) and
independent of the order of the records; the fractions hold for groups, and so for records up to the
spread of group sizes. Within a split, records keep their input order.
"""

from __future__ import annotations

import hashlib
import math
import os
import time
from collections.abc import Sequence
from typing import NamedTuple

from .._validate import invalid_type, invalid_value
from .debian import DebianRecord, debian_cache_file, load_debian_descriptions
from .debian_lists import APT_LISTS_DIR


class Splits(NamedTuple):
    """Three disjoint lists of records; ``train, val, test = splits`` unpacks them."""

    train: list[DebianRecord]
    val: list[DebianRecord]
    test: list[DebianRecord]


def normalize(text: str) -> str:
    """Lower case, whitespace runs (newlines too) collapsed to one space, stripped: the key text is compared by."""
    return " ".join(text.lower().split())


def first_paragraph(description: str) -> str:
    """The text before the first blank line."""
    return description.split("\n\n", 1)[0]


def _keys(record: DebianRecord) -> tuple[str, ...]:
    if not record.description:
        return ("s:" + normalize(record.synopsis),)
    return ("d:" + normalize(record.description), "p:" + normalize(first_paragraph(record.description)))


def description_groups(records: Sequence[DebianRecord]) -> list[str]:
    """Each record's group name: records share a name exactly when a chain of shared keys joins them.

    The name is the group's smallest key, so it does not depend on the order of the records.
    """
    parent = list(range(len(records)))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]  # path halving
            i = parent[i]
        return i

    owner: dict[str, int] = {}  # key -> the first record that has it
    record_keys = [_keys(r) for r in records]
    for i, keys in enumerate(record_keys):
        for key in keys:
            j = owner.setdefault(key, i)
            ri, rj = find(i), find(j)
            if ri != rj:
                parent[max(ri, rj)] = min(ri, rj)
    name: dict[int, str] = {}
    for i, keys in enumerate(record_keys):
        root = find(i)
        name[root] = min(name.get(root, keys[0]), *keys)
    return [name[find(i)] for i in range(len(records))]


def split_descriptions(
    records: Sequence[DebianRecord], fractions: Sequence[float] = (0.8, 0.1, 0.1), seed: int = 0
) -> Splits:
    """Split records into train/val/test so that no long description, nor its first paragraph, is in two.

    Args:
        records: what :func:`load_debian_descriptions` returns (or any records with ``synopsis`` and
            ``description``).
        fractions: the share of groups for train, val and test: three numbers >= 0 that sum to 1.
        seed: another seed gives another split, with the same guarantees.

    Returns:
        ``Splits(train, val, test)``, each in the input order.
    """
    if not isinstance(records, Sequence) or isinstance(records, str):
        raise invalid_type("records", "a sequence of DebianRecord", records)
    fracs = _check_fractions(fractions)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise invalid_type("seed", "an int", seed)
    train_end, val_end = fracs[0], fracs[0] + fracs[1]
    splits = Splits([], [], [])
    where: dict[str, int] = {}
    for record, group in zip(records, description_groups(records)):
        if group not in where:
            u = int.from_bytes(hashlib.sha256(f"{seed}:{group}".encode()).digest()) / 2**256  # uniform in [0, 1)
            where[group] = 0 if u < train_end else 1 if u < val_end else 2
        splits[where[group]].append(record)
    return splits


def _check_fractions(fractions: Sequence[float]) -> tuple[float, float, float]:
    expected = "three numbers >= 0 (train, val, test) that sum to 1"
    try:
        values = tuple(float(f) for f in fractions)
    except (TypeError, ValueError):
        raise invalid_value("fractions", expected, fractions) from None
    if len(values) != 3 or not all(math.isfinite(v) and v >= 0 for v in values) or abs(sum(values) - 1) > 1e-9:
        raise invalid_value("fractions", expected, fractions)
    return values[0], values[1], values[2]


def debian_report(
    path: str | os.PathLike[str] | None = None,
    *,
    lists_dir: str | os.PathLike[str] = APT_LISTS_DIR,
    cache: bool | str | os.PathLike[str] = True,
    seed: int = 0,
) -> str:
    """Load the descriptions (building the cache), split them, and describe both (``scratchnn data debian``)."""
    cache_file = debian_cache_file(path, lists_dir=lists_dir, cache=cache)
    hit = cache_file is not None and cache_file.is_file()
    start = time.perf_counter()
    records = load_debian_descriptions(path, lists_dir=lists_dir, cache=cache)
    seconds = time.perf_counter() - start
    how = "read from the cache" if hit else "parsed" if cache_file is None else "parsed and cached"
    groups = description_groups(records)
    splits = split_descriptions(records, seed=seed)
    sizes: dict[str, int] = {}
    for g in groups:
        sizes[g] = sizes.get(g, 0) + 1
    sections = {r.section for r in records}
    lines = [
        f"records: {len(records)} ({sum(1 for r in records if r.description)} with a long description), "
        f"{how} in {seconds:.2f} s",
        f"unique long descriptions: {len({r.description for r in records if r.description})}",
        f"groups (shared description or first paragraph): {len(sizes)}, the largest {max(sizes.values(), default=0)}",
        f"sections: {len(sections)} ({sum(1 for r in records if r.section == 'unknown')} records without one)",
    ]
    if cache_file is not None:
        lines.insert(1, f"cache: {cache_file}")
    for name, part in zip(splits._fields, splits):
        share = len(part) / max(len(records), 1)
        lines.append(f"{name}: {len(part)} records ({share:.1%}), {len(set(description_groups(part)))} groups")
    return "\n".join(lines)
