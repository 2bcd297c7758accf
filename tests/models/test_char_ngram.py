"""CharNGram: interpolated Kneser-Ney probabilities against plain counting, normalization, errors."""

from __future__ import annotations

import itertools
from collections import Counter

import numpy as np
import pytest

from scratchnn.models.char_ngram import CharNGram, closed_form_discounts

ALPHABET = "abrcd"  # ids 0..4; id 5 ("e") is in the vocabulary but never in the text


def _ids(text: str) -> np.ndarray:
    return np.array(["abrcde".index(ch) for ch in text], dtype=np.int64)


class ReferenceKN:
    """Interpolated KN written from the formula with Counters and recursion, no shared code."""

    def __init__(self, text: str, order: int, discounts: list[tuple[float, float, float]], V: int = 6) -> None:
        self.order, self.D, self.V = order, discounts, V
        raw = {k: Counter(text[i : i + k] for i in range(len(text) - k + 1)) for k in range(1, order + 1)}
        # continuation count of x: the number of distinct characters seen right before x
        cont = {k: Counter(g[1:] for g in raw[k + 1]) for k in range(1, order)}
        self.counts = {k: raw[k] if k == order else cont[k] for k in range(1, order + 1)}

    def prob(self, w: str, history: str, k: int | None = None) -> float:
        k = self.order if k is None else k
        if k == 0:
            return 1 / self.V
        if len(history) < k - 1:  # not enough history for this level: skip it
            return self.prob(w, history, k - 1)
        h = history[len(history) - k + 1 :] if k > 1 else ""
        row = {g[-1]: c for g, c in self.counts[k].items() if g[:-1] == h}
        total = sum(row.values())
        if total == 0:
            return self.prob(w, history, k - 1)
        d = self.D[k - 1]
        gamma = sum(d[min(c, 3) - 1] for c in row.values())
        c = row.get(w, 0)
        return (c - (d[min(c, 3) - 1] if c else 0.0) + gamma * self.prob(w, history, k - 1)) / total


def test_kn_by_hand_on_aab() -> None:
    # bigrams aa:1, ab:1; continuation counts c'(a) = c'(b) = 1 (the first a has no left neighbour)
    # p1(a) = (1 - .5 + .5 * 2 / 3) / 2 = 5/12 = p1(b), p1(c) = (.5 * 2 / 3) / 2 = 1/6
    # p(a | a) = (1 - .5 + .5 * 2 * 5/12) / 2 = 11/24 = p(b | a), p(c | a) = (1 * 1/6) / 2 = 1/12
    model = CharNGram(2, smoothing="kn", discount=0.5).fit(np.array([0, 0, 1]), vocab_size=3)
    np.testing.assert_allclose(model.next_probs(np.array([0])), [11 / 24, 11 / 24, 1 / 12], rtol=0, atol=1e-15)
    np.testing.assert_allclose(model.next_probs(np.array([1])), [5 / 12, 5 / 12, 1 / 6], rtol=0, atol=1e-15)
    np.testing.assert_allclose(model.next_probs(np.array([], dtype=np.int64)), [5 / 12, 5 / 12, 1 / 6], atol=1e-15)
    expected = [np.log(5 / 12), np.log(11 / 24), np.log(11 / 24)]  # the first a has only the unigram level
    np.testing.assert_allclose(model.log_prob(np.array([0, 0, 1])), expected, rtol=0, atol=1e-15)
    assert model.bits_per_char(np.array([0, 0, 1])) == pytest.approx(-np.mean(np.log2(np.exp(expected))), abs=1e-14)


@pytest.mark.parametrize("order", [1, 2, 3, 4])
@pytest.mark.parametrize("smoothing", ["kn", "modified_kn"])
def test_every_conditional_matches_plain_counting(order: int, smoothing: str) -> None:
    text = "abracadabr"
    rng = np.random.default_rng(order)
    if smoothing == "kn":
        d = rng.uniform(0.1, 1.0, order)
        discounts = [(x, x, x) for x in d]
    else:
        d = np.stack([rng.uniform(0.1, 1.0, order), rng.uniform(0.1, 2, order), rng.uniform(0.1, 3, order)], axis=1)
        discounts = [tuple(row) for row in d]
    ref = ReferenceKN(text, order, discounts)
    model = CharNGram(order, smoothing=smoothing, discount=d).fit(_ids(text), vocab_size=6)
    for length in range(order):  # full contexts and the shorter ones at the start of a text
        for history in itertools.product("abrcde", repeat=length):
            h = "".join(history)
            want = [ref.prob(w, h) for w in "abrcde"]
            np.testing.assert_allclose(model.next_probs(_ids(h)), want, rtol=1e-13, atol=0)
    held_out = "dabracee"
    want = [np.log(ref.prob(w, held_out[:t])) for t, w in enumerate(held_out)]
    np.testing.assert_allclose(model.log_prob(_ids(held_out)), want, rtol=1e-13)
    # context: the held-out text continues a history that is conditioned on, not scored
    want = [np.log(ref.prob(w, "ab" + held_out[:t])) for t, w in enumerate(held_out)]
    np.testing.assert_allclose(model.log_prob(_ids(held_out), context=_ids("ab")), want, rtol=1e-13)


def test_closed_form_discounts_by_hand() -> None:
    # n1 = 3, n2 = 2, n3 = 1, n4 = 1: Y = 3/7, D1 = 1 - 2Y 2/3 = 3/7, D2 = 2 - 3Y 1/2 = 19/14, D3 = 3 - 4Y = 9/7
    np.testing.assert_allclose(closed_form_discounts(np.array([1, 1, 1, 2, 2, 3, 4, 9])), [3 / 7, 19 / 14, 9 / 7])
    # no count of 2 or 3: D2 and D3+ fall back to the discount before them; no count of 1 at all: 0.5
    np.testing.assert_allclose(closed_form_discounts(np.array([1, 1, 4])), [1.0, 1.0, 1.0])
    np.testing.assert_allclose(closed_form_discounts(np.array([1, 1, 3])), [1.0, 1.0, 3.0])  # n4 = 0: D3+ = 3
    np.testing.assert_allclose(closed_form_discounts(np.array([5, 7])), [0.5, 0.5, 0.5])
    # many 3s against one 2: D2 = 2 - 3 (1/2) 6 < 0 takes D1 = 1 - 2 (1/2) (1/2) = 1/2; n4 = 0: D3+ = 3
    np.testing.assert_allclose(closed_form_discounts(np.array([1, 1, 2, 3, 3, 3, 3, 3, 3])), [0.5, 0.5, 3.0])


def test_closed_form_discounts_are_the_levels_own() -> None:
    text = "abracadabracadabrabbad" * 3
    model = CharNGram(3).fit(_ids(text), vocab_size=6)
    top = Counter(text[i : i + 3] for i in range(len(text) - 2))
    cont1 = Counter(g[1:] for g in Counter(text[i : i + 2] for i in range(len(text) - 1)))
    np.testing.assert_allclose(model.discounts()[2], closed_form_discounts(np.array(list(top.values()))))
    np.testing.assert_allclose(model.discounts()[0], closed_form_discounts(np.array(list(cont1.values()))))
    plain = CharNGram(3, smoothing="kn").fit(_ids(text), vocab_size=6).discounts()
    np.testing.assert_array_equal(plain, np.repeat(model.discounts()[:, :1], 3, axis=1))  # D = Y = D1


def _markov_text(n: int, V: int = 7, seed: int = 0) -> np.ndarray:
    """A random order-2 Markov chain over V - 1 characters (id V - 1 never occurs)."""
    rng = np.random.default_rng(seed)
    table = rng.dirichlet(np.full(V - 1, 0.3), size=(V - 1, V - 1))  # (V-1, V-1, V-1)
    out = [0, 1]
    for u in rng.random(n - 2):
        out.append(int(np.searchsorted(np.cumsum(table[out[-2], out[-1]]), u * 0.999999)))
    return np.array(out, dtype=np.int64)


@pytest.mark.parametrize("smoothing", ["kn", "modified_kn"])
def test_each_conditional_sums_to_one_for_seen_and_unseen_contexts(smoothing: str) -> None:
    ids = _markov_text(3000)
    model = CharNGram(4, smoothing=smoothing).fit(ids, vocab_size=8)  # ids 6 and 7 never seen
    rng = np.random.default_rng(1)
    contexts = [ids[t - 3 : t] for t in rng.integers(3, ids.size, 20)]  # seen
    contexts += [rng.integers(0, 8, k) for k in (0, 1, 2, 3, 3, 3, 5)]  # mostly unseen, and short ones
    contexts += [np.array([6, 7, 6]), np.array([0, 1, 7])]
    for context in contexts:
        p = model.next_probs(context)
        assert p.dtype == np.float64 and p.shape == (8,)
        assert abs(p.sum() - 1.0) < 1e-12 and (p > 0).all()


def test_a_text_shorter_than_the_order_backs_off_to_what_it_has() -> None:
    model = CharNGram(5, smoothing="kn", discount=0.5).fit(np.array([0, 1]), vocab_size=3)
    # levels 2-5 hold continuation counts (none: no trigram) or 5-grams (none): every context gets the
    # continuation unigram, c'(1) = 1 and c'(0) = 0 (no left neighbour): (1 - .5 + .5/3, .5/3, .5/3)
    for context in (np.array([0, 1, 0, 1]), np.array([1]), np.array([], dtype=np.int64)):
        np.testing.assert_allclose(model.next_probs(context), [1 / 6, 2 / 3, 1 / 6], rtol=1e-15)


def test_order_one_is_a_smoothed_unigram() -> None:
    ids = np.array([0, 0, 0, 1, 1, 2, 0, 1, 0, 3])  # counts 5, 3, 1, 1 and id 4 unseen
    model = CharNGram(1, smoothing="kn", discount=0.25).fit(ids, vocab_size=5)
    counts = np.array([5, 3, 1, 1, 0])
    want = (np.maximum(counts - 0.25, 0) + 0.25 * 4 / 5) / 10  # 4 seen characters leave 4 D to spread over 5
    np.testing.assert_allclose(model.next_probs(np.array([2, 3], dtype=np.int64)), want, rtol=1e-14)
    np.testing.assert_allclose(model.log_prob(np.array([4, 0])), np.log(want[[4, 0]]), rtol=1e-14)


def test_train_bits_per_char_decrease_with_order() -> None:
    ids = _markov_text(5000)
    model = CharNGram(6).fit(ids, vocab_size=7)
    bpc = [model.truncated(k).bits_per_char(ids) for k in range(1, 7)]
    assert all(a > b for a, b in zip(bpc, bpc[1:])), bpc
    assert bpc[0] < np.log2(6)  # the unigram already beats the uniform over the six characters seen


def test_truncated_equals_a_fit_of_that_order() -> None:
    ids, held_out = _markov_text(2000), _markov_text(300, seed=1)
    big = CharNGram(5).fit(ids, vocab_size=7)
    for k in range(1, 6):
        direct = CharNGram(k).fit(ids, vocab_size=7)
        np.testing.assert_array_equal(big.truncated(k).log_prob(held_out), direct.log_prob(held_out))
        np.testing.assert_array_equal(big.truncated(k).discounts(), direct.discounts())


def test_sample_draws_from_next_probs() -> None:
    ids = _markov_text(2000)
    model = CharNGram(3).fit(ids, vocab_size=7)
    a = model.sample(50, context=np.array([0, 1]), rng=np.random.default_rng(3))
    b = model.sample(50, context=np.array([0, 1]), rng=np.random.default_rng(3))
    assert a.shape == (50,) and a.dtype == np.int64 and (a >= 0).all() and (a < 7).all()
    np.testing.assert_array_equal(a, b)
    stop = int(a[4])
    short = model.sample(50, context=np.array([0, 1]), stop=stop, rng=np.random.default_rng(3))
    assert short[-1] == stop and stop not in short[:-1].tolist() and len(short) <= 5
    rng = np.random.default_rng(4)
    first = [int(model.sample(1, context=np.array([2, 3]), rng=rng)[0]) for _ in range(3000)]
    freq = np.bincount(first, minlength=7) / 3000
    np.testing.assert_allclose(freq, model.next_probs(np.array([2, 3])), atol=0.03)
    assert model.sample(0).shape == (0,)


def test_bad_input_is_refused_with_the_template() -> None:
    with pytest.raises(ValueError, match=r"Invalid value for `order`: expected an int >= 1. Received: order=0"):
        CharNGram(0)
    with pytest.raises(TypeError, match="Invalid type for `order`: expected an int >= 1"):
        CharNGram(2.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="Invalid value for `smoothing`: expected one of 'kn', 'modified_kn'"):
        CharNGram(2, smoothing="witten_bell")
    with pytest.raises(ValueError, match=r"Invalid value for `discount`: expected a float in \(0, 1\]"):
        CharNGram(2, smoothing="kn", discount=1.5)
    with pytest.raises(ValueError, match=r"Invalid value for `discount`: expected a float in \(0, 3\]"):
        CharNGram(2, discount=(0.5, 1.0, 3.5))
    with pytest.raises(ValueError, match=r"Invalid value for `discount`: expected a float in \(0, 2\]"):
        CharNGram(2, discount=[(0.5, 1.0, 1.0), (0.5, 0.0, 1.0)])
    with pytest.raises(ValueError, match=r"Invalid shape for `discount`: expected \(3,\) or \(2, 3\)"):
        CharNGram(2, discount=0.5)
    with pytest.raises(TypeError, match="Invalid type for `discount`"):
        CharNGram(2, smoothing="kn", discount="0.5")
    with pytest.raises(TypeError, match="Invalid type for `discount`: expected a sequence"):
        CharNGram(2, discount=[(0.5, 1.0, 1.0), (0.5,)])
    model = CharNGram(2)
    with pytest.raises(RuntimeError, match=r"CharNGram is not fitted: call fit\(ids\) first"):
        model.bits_per_char(np.array([0, 1]))
    with pytest.raises(ValueError, match=r"Invalid value for `ids`: expected a non-empty array of character ids"):
        model.fit(np.array([], dtype=np.int64))
    with pytest.raises(
        ValueError, match=r"Invalid value for `ids`: expected character ids in \[0, 3\). Received: an id 3"
    ):
        model.fit(np.array([0, 3]), vocab_size=3)
    with pytest.raises(ValueError, match=r"expected character ids in \[0, vocab_size\). Received: an id -1"):
        model.fit(np.array([0, -1]))
    with pytest.raises(TypeError, match="Invalid dtype for `ids`: expected an integer dtype"):
        model.fit(np.array([0.0, 1.0]))
    with pytest.raises(ValueError, match=r"Invalid shape for `ids`: expected \(T,\). Received: ids.shape=\(1, 2\)"):
        model.fit(np.array([[0, 1]]))
    with pytest.raises(TypeError, match="Invalid type for `ids`: expected a 1-D numpy.ndarray"):
        model.fit([0, 1])  # type: ignore[arg-type]
    model.fit(np.array([0, 1, 2]))  # vocab_size 3 from the ids
    with pytest.raises(
        ValueError, match=r"Invalid value for `ids`: expected character ids in \[0, 3\). Received: an id 5"
    ):
        model.log_prob(np.array([0, 5]))
    with pytest.raises(ValueError, match="Invalid value for `ids`: expected a non-empty array"):
        model.bits_per_char(np.array([], dtype=np.int64))
    with pytest.raises(ValueError, match=r"Invalid value for `context`: expected character ids in \[0, 3\)"):
        model.next_probs(np.array([7]))
    with pytest.raises(ValueError, match=r"Invalid value for `order`: expected an int in \[1, 2\]"):
        model.truncated(3)
    with pytest.raises(
        ValueError, match=r"Invalid value for `order`: .*\(vocab_size \+ 1\)\*\*order < 2\*\*63 \(<= 8 here\)"
    ):
        CharNGram(9).fit(np.array([0, 1]), vocab_size=177)
