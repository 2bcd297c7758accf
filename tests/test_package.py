"""``import scratchnn`` alone reaches every public subpackage and every name of DESIGN.md's contract list,
and stays light: no matplotlib, Ray or tokenizers until they are used.

Each check runs in a fresh interpreter, because the test session has imported every submodule already.
"""

from __future__ import annotations

import json
import subprocess
import sys

import scratchnn

SUBPACKAGES = ["ops", "nn", "optim", "models", "data", "train", "gradcheck", "analysis", "figures", "recipes"]
SUBPACKAGES += ["experiments", "text"]

# DESIGN.md, "Names that are part of the contract", plus the issue's own examples (snn.train.Trainer, ...)
CONTRACT = """
nn.Linear nn.ReLU nn.LeakyReLU nn.Sigmoid nn.Tanh nn.GELU nn.Softmax nn.Flatten nn.Identity nn.Sequential
nn.ModuleList nn.CrossEntropyLoss nn.MSELoss nn.BCEWithLogitsLoss nn.MultiMarginLoss nn.BatchNorm1d
nn.BatchNorm2d nn.LayerNorm nn.GroupNorm nn.Dropout nn.Conv2d nn.MaxPool2d nn.AvgPool2d nn.AdaptiveAvgPool2d
nn.ConvTranspose2d
nn.utils.clip_grad_norm_ nn.init.xavier_uniform_ nn.init.kaiming_normal_
nn.Embedding nn.RNN nn.LSTM nn.GRU nn.RNNCell nn.LSTMCell nn.GRUCell nn.utils.rnn
nn.utils.rnn.pack_padded_sequence nn.utils.rnn.pad_packed_sequence nn.utils.rnn.PackedSequence
nn.MultiheadAttention nn.TransformerEncoderLayer nn.TransformerDecoderLayer nn.TransformerEncoder
nn.TransformerDecoder nn.Transformer
optim.SGD optim.Adagrad optim.RMSprop optim.Adam optim.AdamW optim.lr_scheduler.StepLR
optim.lr_scheduler.ExponentialLR optim.lr_scheduler.CosineAnnealingLR optim.lr_scheduler.LambdaLR
optim.lr_scheduler.LinearLR optim.lr_scheduler.ReduceLROnPlateau
gradcheck.eval_numerical_gradient gradcheck.eval_numerical_gradient_array gradcheck.rel_error
gradcheck.check_op gradcheck.check_module
models.FullyConnectedNet models.ThreeLayerConvNet
data.load_fashion_mnist data.load_mnist data.load_cifar10 data.DataLoader
manual_seed set_default_dtype save load train.Trainer train.Solver experiments.run_experiment
""".split()

# names of DESIGN.md's list that the open issues add, by issue: asserted absent, so this list stays true and
# a name moves to CONTRACT when its area lands
PENDING: dict[int, list[str]] = {}

PROBE = """
import json, sys, time
t = time.perf_counter()
import scratchnn
seconds = time.perf_counter() - t
def resolves(dotted):
    obj = scratchnn
    for part in dotted.split("."):
        if not hasattr(obj, part):
            return False
        obj = getattr(obj, part)
    return True
names = json.loads(sys.argv[1])
heavy = [m for m in ("matplotlib", "ray", "tokenizers", "torch", "rouge_score") if m in sys.modules]
print(json.dumps({"resolves": {n: resolves(n) for n in names}, "heavy": heavy, "seconds": seconds}))
"""


def _probe(names: list[str]) -> dict[str, object]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, json.dumps(names)], capture_output=True, text=True, check=True, timeout=60
    )
    result: dict[str, object] = json.loads(out.stdout)
    return result


def test_all_lists_every_subpackage_and_every_name_resolves() -> None:
    assert set(SUBPACKAGES) <= set(scratchnn.__all__)
    pending = [n for names in PENDING.values() for n in names]
    result = _probe(list(scratchnn.__all__) + CONTRACT + pending)
    resolves = result["resolves"]
    assert isinstance(resolves, dict)
    missing = [n for n in list(scratchnn.__all__) + CONTRACT if not resolves[n]]
    assert not missing, f"not reachable after a plain `import scratchnn`: {missing}"
    landed = [n for n in pending if resolves[n]]
    assert not landed, f"these landed: move them from PENDING to CONTRACT: {landed}"


def test_import_stays_light() -> None:
    result = _probe([])
    assert result["heavy"] == [], f"imported by `import scratchnn` alone: {result['heavy']}"
