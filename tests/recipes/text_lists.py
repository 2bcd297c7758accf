"""A small apt lists folder whose synopses say their section and whose descriptions are plain English,
for the text recipes' tests (a few seconds of training learns both)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from tests.data.debian_fakes import packages_stanza, translation_stanza, write_list

TOPICS = {
    "libs": ("shared library for", "runtime files of"),
    "doc": ("documentation for", "manual and examples of"),
    "python": ("Python module for", "Python bindings to"),
    "net": ("network daemon for", "server that speaks"),
}
THINGS = ["images", "sound", "maps", "fonts", "mail", "disks", "clocks", "graphs", "music", "text", "games", "keys"]


def write_text_lists(lists_dir: Path, n: int = 400, seed: int = 0) -> Path:
    """``n`` packages, each with its own description (no two share one), in four sections."""
    rng = np.random.default_rng(seed)
    translations, packages = [], []
    sections = list(TOPICS)
    for i in range(n):
        section = sections[i % len(sections)]
        thing = THINGS[int(rng.integers(len(THINGS)))]
        synopsis = f"{TOPICS[section][int(rng.integers(2))]} {thing}"
        body = (
            f"This package provides the {thing} tools number {i}. It is small and fast.\n"
            f"The {thing} tools work well with other {thing} tools."
        )
        name = f"pkg{i:04d}"
        translations.append(translation_stanza(name, synopsis, [body]))
        packages.append(packages_stanza(name, section))
    write_list(lists_dir, "bookworm", "Translation-en", translations)
    write_list(lists_dir, "bookworm", "Packages", packages)
    return lists_dir
