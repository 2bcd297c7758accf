"""The text extra stays optional: without tokenizers and rouge-score, scratchnn imports and batching works,
and the first call that needs a missing library says how to install it (text/_optional.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from scratchnn.text._optional import require

# a fresh interpreter in which the extra's libraries cannot be imported, as on a machine without them
WITHOUT_EXTRA = """
import json, sys

class Missing:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tokenizers", "rouge_score", "nltk"):
            raise ModuleNotFoundError(f"No module named {name!r}")
        return None

sys.meta_path.insert(0, Missing())
import numpy as np
import scratchnn
from scratchnn import text

report = {}
ids, lengths = text.pad_sequences([[5, 6], [7]], pad_id=0, eos_id=2)
report["padded"] = ids.tolist()
report["mask"] = text.key_padding_mask(lengths).tolist()
report["first"] = text.first_sentence("Foo is a tool. It runs.")
report["lead"] = text.lead_words("a b c", 2)
for name, call in [
    ("train", lambda: text.BPETokenizer.train(["some text"], vocab_size=300)),
    ("load", lambda: text.BPETokenizer.load("tokenizer.json")),
    ("rouge", lambda: text.rouge_scores(["a"], ["a"])),
    ("best_lead_k", lambda: text.best_lead_k(["a b"], ["a"])),
]:
    try:
        call()
        report[name] = "no error"
    except ImportError as e:
        report[name] = str(e)
report["loaded"] = sorted(m for m in ("tokenizers", "rouge_score", "nltk") if m in sys.modules)
print(json.dumps(report))
"""


def test_without_the_extra_scratchnn_and_batching_work_and_the_rest_says_what_to_install() -> None:
    out = subprocess.run([sys.executable, "-c", WITHOUT_EXTRA], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)
    assert report["padded"] == [[5, 6, 2], [7, 2, 0]]
    assert report["mask"] == [[False, False, False], [False, False, True]]
    assert (report["first"], report["lead"]) == ("Foo is a tool.", "a b")
    assert report["train"] == (
        "BPETokenizer.train needs the `tokenizers` package, an optional dependency of scratchnn: "
        "pip install 'scratchnn[text]'"
    )
    assert report["load"].startswith("BPETokenizer.load needs the `tokenizers` package")
    for name in ("rouge", "best_lead_k"):
        assert report[name].startswith("ROUGE needs the `rouge_score` package") and "scratchnn[text]" in report[name]
    assert report["loaded"] == []


def test_require_returns_the_module_or_names_the_extra() -> None:
    assert require("json", "test") is json
    with pytest.raises(
        ImportError, match=r"^thing needs the `no_such_module_xyz` package.*pip install 'scratchnn\[text\]'"
    ):
        require("no_such_module_xyz.sub", "thing")
