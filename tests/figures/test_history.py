"""Training curves (scratchnn/figures/history.py)."""

from __future__ import annotations

from pathlib import Path

from scratchnn.figures.history import plot_history


def test_plot_history_skips_partial_entries_and_missing_accuracy(tmp_path: Path) -> None:
    history = [
        {"epoch": 1, "step": 2, "train_loss": 1.0, "lr": 0.1, "time": 0.0},
        {"epoch": 2, "step": 4, "train_loss": 0.5, "val_loss": 0.6, "lr": 0.1, "time": 0.0},
        {"epoch": 3, "step": 5, "train_loss": 0.4, "lr": 0.1, "time": 0.0, "partial": True},
    ]
    out = plot_history(history, tmp_path / "c.png", title="t")
    assert out.read_bytes()[:4] == b"\x89PNG"
