"""Encoder and decoder layers, their stacks and nn.Transformer against torch's: forward, input and parameter
gradients, post-LN and pre-LN, relu and gelu, both layouts, padded and causal, and train mode with every
dropout mask injected into torch (its F.dropout replaced by one that applies the masks ours drew, in order).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
import torch

from scratchnn import nn

from ..twins.twins import assert_close, to_torch_state

E, NHEAD, FF = 8, 2, 16
TORCH_DTYPE = {np.dtype(np.float32): torch.float32, np.dtype(np.float64): torch.float64}


class MaskRecorder:
    """Records every dropout mask ours applies, in call order, and replays them into torch's F.dropout."""

    def __init__(self, ours: nn.Module, theirs: torch.nn.Module, monkeypatch: pytest.MonkeyPatch) -> None:
        self.masks: list[np.ndarray] = []
        self.used = 0
        for m in ours.modules():
            if isinstance(m, nn.Dropout):
                # the mask the module drew (its cache), not out != 0: an output that is exactly 0 where the
                # mask kept it (a zero-bias projection of a fully dropped attention row) would read as dropped
                m.register_forward_hook(lambda mod, inputs, out: self.masks.append(mod._saved()[0] != 0))
            if isinstance(m, nn.MultiheadAttention):
                draw = m.draw_dropout_mask
                m.draw_dropout_mask = lambda shape, draw=draw: self._keep(draw(shape))  # type: ignore[method-assign]
        for m in theirs.modules():
            if isinstance(m, torch.nn.MultiheadAttention):  # the explicit-softmax path, whose dropout is F.dropout
                fwd = m.forward
                m.forward = lambda *a, fwd=fwd, **k: fwd(*a, **{**k, "need_weights": True})  # type: ignore[method-assign]
        monkeypatch.setattr(torch.nn.functional, "dropout", self._replay)

    def _keep(self, keep: np.ndarray) -> np.ndarray:
        self.masks.append(keep)
        return keep

    def _replay(self, x: torch.Tensor, p: float = 0.5, training: bool = True, inplace: bool = False) -> torch.Tensor:
        if not training or p == 0:
            return x
        keep = self.masks[self.used]
        if keep.ndim == 3 and keep.shape != tuple(x.shape):  # ours runs batch-major inside a sequence-first layer
            keep = keep.transpose(1, 0, 2)
        keep = torch.from_numpy(np.ascontiguousarray(keep)).reshape(x.shape)
        self.used += 1
        return x * keep / (1 - p)


def _compare(
    ours: nn.Module,
    theirs: torch.nn.Module,
    inputs: list[np.ndarray],
    kwargs: dict[str, Any],
    dtype: Any,
    train: bool,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    dtype = np.dtype(dtype)
    theirs.to(TORCH_DTYPE[dtype])
    theirs.load_state_dict(to_torch_state(ours.state_dict()))
    ours.train(train)
    theirs.train(train)
    recorder = MaskRecorder(ours, theirs, monkeypatch) if train else None
    xs = [x.astype(dtype) for x in inputs]
    txs = [torch.tensor(x, requires_grad=True) for x in xs]
    tkw = {k: torch.from_numpy(v) if isinstance(v, np.ndarray) else v for k, v in kwargs.items()}
    out = ours(*xs, **kwargs)
    tout = theirs(*txs, **tkw)
    if recorder is not None:
        assert recorder.masks and recorder.used == len(recorder.masks), "every mask ours drew was replayed"
    assert_close(out, tout, "forward", dtype)
    g = np.random.default_rng(5).standard_normal(out.shape).astype(dtype)
    grads = ours.backward(g)
    tout.backward(torch.from_numpy(g))
    grads = grads if isinstance(grads, tuple) else (grads,)
    for i, (d, tx) in enumerate(zip(grads, txs)):
        assert_close(d, tx.grad, f"grad of input {i}", dtype)
    tparams = dict(theirs.named_parameters())
    assert [n for n, _ in ours.named_parameters()] == list(tparams)
    for name, p in ours.named_parameters():
        assert_close(p.grad, tparams[name].grad, f"grad of {name}", dtype)


def _x(shape: tuple[int, ...], seed: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(shape)


LAYER_CASES = [
    dict(norm_first=False, activation="relu", batch_first=True),
    dict(norm_first=True, activation="gelu", batch_first=True),
    dict(norm_first=False, activation="gelu", batch_first=False),
    dict(norm_first=True, activation="relu", batch_first=False),
]


def _kpm(N: int, T: int) -> np.ndarray:
    m = np.zeros((N, T), dtype=bool)
    m[1, -2:] = True
    return m


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", range(len(LAYER_CASES)))
@pytest.mark.parametrize("train", [False, True])
def test_encoder_layer(dtype: Any, case: int, train: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    kw = LAYER_CASES[case]
    N, T = 2, 5
    ours = nn.TransformerEncoderLayer(E, NHEAD, FF, dropout=0.2, dtype=dtype, rng=np.random.default_rng(case), **kw)
    theirs = torch.nn.TransformerEncoderLayer(E, NHEAD, FF, dropout=0.2, **kw)
    x = _x((N, T, E) if kw["batch_first"] else (T, N, E), case)
    masks = {"src_key_padding_mask": _kpm(N, T), "src_mask": np.triu(np.ones((T, T), dtype=bool), 1)}
    _compare(ours, theirs, [x], masks, dtype, train, monkeypatch)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", range(len(LAYER_CASES)))
@pytest.mark.parametrize("train", [False, True])
def test_decoder_layer(dtype: Any, case: int, train: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    kw = LAYER_CASES[case]
    N, T, S = 2, 4, 6
    ours = nn.TransformerDecoderLayer(E, NHEAD, FF, dropout=0.2, dtype=dtype, rng=np.random.default_rng(case), **kw)
    theirs = torch.nn.TransformerDecoderLayer(E, NHEAD, FF, dropout=0.2, **kw)
    bf = kw["batch_first"]
    tgt, memory = _x((N, T, E) if bf else (T, N, E), 1), _x((N, S, E) if bf else (S, N, E), 2)
    masks = {
        "tgt_mask": np.triu(np.ones((T, T), dtype=bool), 1),  # bool, as the padding mask (torch warns on a mix)
        "tgt_key_padding_mask": _kpm(N, T),
        "memory_key_padding_mask": _kpm(N, S),
    }
    _compare(ours, theirs, [tgt, memory], masks, dtype, train, monkeypatch)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("train", [False, True])
def test_stacks_with_final_norm(norm_first: bool, train: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    dtype = np.float64
    layer = nn.TransformerEncoderLayer(E, NHEAD, FF, batch_first=True, norm_first=norm_first, dtype=dtype)
    ours = nn.TransformerEncoder(layer, 3, norm=nn.LayerNorm(E, dtype=dtype))
    tlayer = torch.nn.TransformerEncoderLayer(E, NHEAD, FF, batch_first=True, norm_first=norm_first)
    theirs = torch.nn.TransformerEncoder(tlayer, 3, norm=torch.nn.LayerNorm(E), enable_nested_tensor=False)
    for i in range(3):  # give the copies different weights, as training would
        for p in ours.layers[i].parameters():
            p.data += 0.1 * i
    _compare(ours, theirs, [_x((2, 5, E), 0)], {"src_key_padding_mask": _kpm(2, 5)}, dtype, train, monkeypatch)


@pytest.mark.parametrize("train", [False, True])
def test_decoder_stack(train: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    dtype = np.float64
    ours = nn.TransformerDecoder(
        nn.TransformerDecoderLayer(E, NHEAD, FF, dtype=dtype), 2, norm=nn.LayerNorm(E, dtype=dtype)
    )
    theirs = torch.nn.TransformerDecoder(torch.nn.TransformerDecoderLayer(E, NHEAD, FF), 2, norm=torch.nn.LayerNorm(E))
    for p in ours.layers[1].parameters():
        p.data *= 1.1
    kw = {"tgt_mask": nn.Transformer.generate_square_subsequent_mask(4, dtype=dtype), "tgt_is_causal": True}
    _compare(ours, theirs, [_x((4, 2, E), 0), _x((6, 2, E), 1)], kw, dtype, train, monkeypatch)


# torch.nn.Transformer warns that its pre-LN encoder cannot take its nested-tensor fast path: not our concern
@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("norm_first", [False, True])
def test_transformer(dtype: Any, norm_first: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    kw = dict(
        d_model=E,
        nhead=NHEAD,
        num_encoder_layers=2,
        num_decoder_layers=2,
        dim_feedforward=FF,
        batch_first=True,
        norm_first=norm_first,
    )
    ours = nn.Transformer(**kw, dtype=dtype, rng=np.random.default_rng(0))
    theirs = torch.nn.Transformer(**kw)
    masks = {
        "tgt_mask": np.triu(np.ones((4, 4), dtype=bool), 1),
        "src_key_padding_mask": _kpm(2, 6),
        "memory_key_padding_mask": _kpm(2, 6),
    }
    _compare(ours, theirs, [_x((2, 6, E), 0), _x((2, 4, E), 1)], masks, dtype, True, monkeypatch)


@pytest.mark.filterwarnings("ignore:enable_nested_tensor is True")
def test_state_dict_names_and_init_match_torch() -> None:
    ours, theirs = nn.Transformer(16, 4, 2, 1, 32, rng=np.random.default_rng(0)), torch.nn.Transformer(16, 4, 2, 1, 32)
    assert list(ours.state_dict()) == list(theirs.state_dict())
    for name, t in theirs.state_dict().items():
        o = ours.state_dict()[name]
        assert o.shape == tuple(t.shape), name
        if o.ndim > 1:  # xavier_uniform_ on every matrix
            bound = np.sqrt(6 / sum(o.shape))
            assert 0.8 * bound < np.abs(o).max() <= bound, name
    ours.load_state_dict({k: v.numpy() for k, v in theirs.state_dict().items()})
    assert all(np.array_equal(ours.state_dict()[k], v.numpy()) for k, v in theirs.state_dict().items())


def test_stack_copies_share_the_generator_and_start_equal() -> None:
    rng = np.random.default_rng(0)
    enc = nn.TransformerEncoder(nn.TransformerEncoderLayer(E, NHEAD, FF, rng=rng), 2)
    a, b = enc.layers[0], enc.layers[1]
    np.testing.assert_array_equal(a.linear1.weight.data, b.linear1.weight.data)
    assert a.dropout.rng is rng and b.self_attn.rng is rng


def test_square_subsequent_mask_matches_torch() -> None:
    np.testing.assert_array_equal(
        nn.Transformer.generate_square_subsequent_mask(5),
        torch.nn.Transformer.generate_square_subsequent_mask(5).numpy(),
    )


def test_bad_arguments_name_themselves() -> None:
    with pytest.raises(ValueError, match="`nhead`"):
        nn.TransformerEncoderLayer(10, 3)
    with pytest.raises(ValueError, match="`activation`"):
        nn.TransformerDecoderLayer(8, 2, activation="tanh")
    with pytest.raises(ValueError, match="`num_layers`"):
        nn.TransformerEncoder(nn.TransformerEncoderLayer(8, 2), 0)
    with pytest.raises(TypeError, match="`encoder_layer`"):
        nn.TransformerEncoder(nn.Linear(2, 2), 2)  # type: ignore[arg-type]
    # found by fuzzing: an array compared with "relu" elementwise, and 2**70 deep copies of a layer begun
    with pytest.raises(TypeError, match=r"^Invalid type for `activation`: expected \"relu\", \"gelu\" or a "):
        nn.TransformerEncoderLayer(8, 2, activation=np.array([1, 2]))
    with pytest.raises(ValueError, match=r"^Invalid value for `num_layers`: expected a size whose array of shape "):
        nn.TransformerDecoder(nn.TransformerDecoderLayer(8, 2, 16), 2**70)


def test_bad_inputs_name_the_layers_own_arguments() -> None:
    """Wrong inputs fail at the layer with its own argument names (torch's), not deep inside as `query`/`key`."""
    enc = nn.TransformerEncoderLayer(8, 2, 16, batch_first=True, dtype=np.float64)
    dec = nn.TransformerDecoderLayer(8, 2, 16, dtype=np.float64)  # sequence-first: the batch is axis 1
    full = nn.Transformer(8, 2, 1, 1, 16, batch_first=True, dtype=np.float64)
    x = np.zeros((2, 3, 8))
    cases: list[tuple[Any, type, str]] = [
        (lambda: enc(np.zeros((2, 3, 6))), ValueError, r"^Invalid shape for `src`: expected \(\.\.\., E\) with E = d"),
        (lambda: enc(np.zeros((1, 2, 3, 8))), ValueError, r"^Invalid shape for `src`: expected a 2-D or 3-D array"),
        (lambda: enc(x.astype(np.float32)), TypeError, r"^Invalid dtype for `src`: expected float64 to match Transf"),
        (lambda: enc(x.astype(np.int64)), TypeError, r"^Invalid type for `src`: expected a floating numpy.ndarray"),
        (lambda: dec(x, np.zeros((4, 3, 7))), ValueError, r"^Invalid shape for `memory`: expected \(\.\.\., E\)"),
        (lambda: dec(x, np.zeros((4, 5, 8))), ValueError, r"^Invalid shape for `memory`: expected N = 3 samples as"),
        (lambda: dec(x, np.zeros((4, 8))), ValueError, r"^Invalid shape for `memory`: expected N = 3 samples as tgt"),
        (lambda: dec(np.zeros((3, 8)), x), ValueError, r"^Invalid shape for `memory`: expected \(S, E\) as tgt is"),
        (lambda: dec(x.astype(np.float32), x), TypeError, r"^Invalid dtype for `tgt`: expected float64"),
        (lambda: full(x, np.zeros((3, 3, 8))), ValueError, r"^Invalid shape for `tgt`: expected N = 2 samples as src"),
        (lambda: full(x, np.zeros((3, 7))), ValueError, r"^Invalid shape for `tgt`: expected N = 2 samples as src"),
    ]
    for call, error, message in cases:
        with pytest.raises(error, match=message):
            call()


def test_input_grad_false_returns_none_and_the_same_parameter_gradients() -> None:
    rng = np.random.default_rng(0)
    layer = nn.TransformerEncoderLayer(8, 2, 16, dropout=0.0, dtype=np.float64, rng=rng)
    stacks: list[tuple[nn.Module, tuple[np.ndarray, ...]]] = [
        (layer, (rng.standard_normal((3, 2, 8)),)),
        (nn.TransformerEncoder(layer, 2), (rng.standard_normal((3, 2, 8)),)),
        (nn.TransformerDecoderLayer(8, 2, 16, 0.0, dtype=np.float64, rng=rng), (rng.standard_normal((3, 2, 8)),) * 2),
        (nn.Transformer(8, 2, 1, 2, 16, 0.0, dtype=np.float64, rng=rng), (rng.standard_normal((4, 2, 8)),) * 2),
    ]
    for m, inputs in stacks:
        out = m(*inputs)
        g = rng.standard_normal(out.shape)
        m.zero_grad()
        assert m.backward(g) is not None
        grads = {k: p.grad.copy() for k, p in m.named_parameters()}
        m.zero_grad()
        assert m.backward(g, input_grad=False) is None, type(m).__name__
        for k, p in m.named_parameters():
            np.testing.assert_array_equal(p.grad, grads[k], err_msg=k)
