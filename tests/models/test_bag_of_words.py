"""Bag-of-words counts, n-gram features and BagOfWordsClassifier (= torch Linear on the dense features)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from scratchnn.models.bag_of_words import BagOfWordsClassifier, NGramFeatures, bag_of_words, ngram_codes


def test_bag_of_words_counts_the_real_tokens_of_each_row() -> None:
    x = np.array([[1, 2, 2, 3], [3, 3, 3, 1], [2, 0, 0, 0]])
    counts = bag_of_words(x, np.array([3, 2, 0]), 4)  # positions past each length do not count
    np.testing.assert_array_equal(counts, [[0, 1, 2, 0], [0, 0, 0, 2], [0, 0, 0, 0]])
    assert counts.dtype == np.float32
    assert bag_of_words(x, np.array([4, 4, 1]), 4, dtype=np.float64).dtype == np.float64
    np.testing.assert_array_equal(bag_of_words(x, np.array([4, 4, 1]), 4).sum(axis=1), [4, 4, 1])
    assert bag_of_words(np.zeros((0, 5), dtype=np.int64), np.zeros(0, dtype=np.int64), 3).shape == (0, 3)


def test_ngram_codes_by_hand() -> None:
    x = np.array([[1, 2, 3], [3, 1, 0]])
    codes, counts = ngram_codes(x, np.array([3, 1]), 4, 2)
    # bigrams are 4 + 4 a + b (4 unigram codes come first): 12 -> [4 + 6, 4 + 11]; the second row has none
    np.testing.assert_array_equal(codes, [[10, 15], [-1, -1]])
    np.testing.assert_array_equal(counts, [2, 0])
    codes, counts = ngram_codes(x, np.array([3, 2]), 4, 1)
    np.testing.assert_array_equal(codes, [[1, 2, 3], [3, 1, -1]])
    codes, _ = ngram_codes(x, np.array([3, 3]), 4, 3)
    np.testing.assert_array_equal(codes, [[4 + 16 + 1 * 16 + 2 * 4 + 3], [4 + 16 + 3 * 16 + 1 * 4 + 0]])
    assert ngram_codes(x, np.array([3, 3]), 4, 4)[0].shape == (2, 0)


def test_ngram_features_keep_ngrams_by_document_frequency() -> None:
    # rows over tokens 1..3: "1 1 1", "1 2", "2 3" (lengths cut the padding 0s)
    x = np.array([[1, 1, 1], [1, 2, 0], [2, 3, 0]])
    lengths = np.array([3, 2, 2])
    feats = NGramFeatures(4, orders=(1, 2), min_df=2).fit(x, lengths)
    # unigram 1 is in 2 rows (3 times in the first: df counts rows), 2 in 2 rows, 3 in one; bigrams once each
    assert feats.num_features == 3 and feats.df.tolist() == [2, 2]
    ids = feats.transform(np.array([[2, 1, 3, 2]]), np.array([4]))  # unigrams 2 1 3 2, then bigrams (none kept)
    np.testing.assert_array_equal(ids, [[2, 1, 0, 2, 0, 0, 0]])
    np.testing.assert_allclose(feats.idf(), [0.0, np.log(4 / 3) + 1, np.log(4 / 3) + 1])
    everything = NGramFeatures(4, orders=(1, 2)).fit(x, lengths)
    assert everything.num_features == 1 + 3 + 3  # unigrams 1 2 3; bigrams 11, 12, 23
    # ids by code: unigrams 1 2 3 -> 1 2 3; bigrams 11 12 23 -> 4 5 6; padding and missing bigrams -> 0
    np.testing.assert_array_equal(everything.transform(x, lengths), [[1, 1, 1, 4, 4], [1, 2, 0, 5, 0], [2, 3, 0, 6, 0]])


def _model(normalize: bool, idf: bool, dtype: type = np.float64) -> BagOfWordsClassifier:
    weights = np.random.default_rng(5).uniform(0.5, 3.0, 9) if idf else None
    return BagOfWordsClassifier(9, 4, idf=weights, normalize=normalize, dtype=dtype, rng=np.random.default_rng(0))


@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("idf", [False, True])
def test_features_are_the_weighted_counts(normalize: bool, idf: bool) -> None:
    model = _model(normalize, idf)
    x = np.array([[3, 3, 5, 0, 0], [1, 2, 3, 4, 8], [0, 0, 0, 0, 0], [7, 7, 7, 7, 2]])
    want = bag_of_words(x, np.full(4, 5), 9, dtype=np.float64)
    want[:, 0] = 0  # padding_idx
    if idf:
        want *= model.idf
    if normalize:
        norm = np.linalg.norm(want, axis=1, keepdims=True)
        want /= np.where(norm > 0, norm, 1)
    np.testing.assert_allclose(model.features(x), want, rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("normalize", [False, True])
def test_classifier_is_torch_linear_on_the_features(dtype: type, normalize: bool) -> None:
    model = _model(normalize, idf=True, dtype=dtype)
    x = np.random.default_rng(1).integers(0, 9, (6, 7))  # 0 is padding, anywhere
    lin = torch.nn.Linear(9, 4).to(torch.float64 if dtype == np.float64 else torch.float32)
    lin.load_state_dict({k: torch.from_numpy(v.copy()) for k, v in model.state_dict().items() if k != "idf"})
    feats = torch.from_numpy(model.features(x))
    dout = np.random.default_rng(2).standard_normal((6, 4)).astype(dtype)
    out = model(x)
    expected = lin(feats)
    expected.backward(torch.from_numpy(dout))
    tol = 1e-12 if dtype == np.float64 else 1e-5
    assert out.dtype == dtype and out.shape == (6, 4)
    np.testing.assert_allclose(out, expected.detach().numpy(), rtol=tol, atol=tol)
    assert model.backward(dout) is None  # ids have no gradient
    np.testing.assert_allclose(model.weight.grad, lin.weight.grad.numpy(), rtol=tol, atol=tol)
    np.testing.assert_allclose(model.bias.grad, lin.bias.grad.numpy(), rtol=tol, atol=tol)
    model(x)
    model.backward(dout)  # gradients accumulate
    np.testing.assert_allclose(model.weight.grad, 2 * lin.weight.grad.numpy(), rtol=tol, atol=tol)
    assert list(model.state_dict()) == ["weight", "bias", "idf"]


def test_classifier_without_padding_counts_every_id() -> None:
    model = BagOfWordsClassifier(3, 2, padding_idx=None, dtype=np.float64)
    np.testing.assert_array_equal(model.features(np.array([[0, 0, 2]])), [[2, 0, 1]])


def test_bad_input_is_refused_with_the_template() -> None:
    x, lengths = np.array([[1, 2]]), np.array([2])
    with pytest.raises(TypeError, match="Invalid type for `x`: expected an integer numpy.ndarray of token ids"):
        bag_of_words(x.astype(float), lengths, 3)
    with pytest.raises(ValueError, match=r"Invalid shape for `x`: expected \(N, T\). Received: x.shape=\(2,\)"):
        bag_of_words(np.array([1, 2]), lengths, 3)
    with pytest.raises(ValueError, match=r"Invalid shape for `lengths`: expected \(1,\) to match x"):
        bag_of_words(x, np.array([2, 2]), 3)
    with pytest.raises(ValueError, match=r"Invalid value for `lengths`: expected lengths in \[0, 2\]"):
        bag_of_words(x, np.array([3]), 3)
    with pytest.raises(ValueError, match=r"Invalid value for `x`: expected token ids in \[0, 2\). Received: an id 2"):
        bag_of_words(x, lengths, 2)
    bag_of_words(x, np.array([1]), 2)  # the out-of-range id is past the length: ignored
    with pytest.raises(ValueError, match="Invalid value for `V`: expected an int >= 1"):
        bag_of_words(x, lengths, 0)
    with pytest.raises(ValueError, match="Invalid value for `min_df`: expected an int >= 1"):
        NGramFeatures(3, min_df=0)
    with pytest.raises(TypeError, match="Invalid type for `orders`: expected a non-empty sequence"):
        NGramFeatures(3, orders=())
    with pytest.raises(ValueError, match=r"Invalid value for `padding_idx`: expected an int in \[0, 2\]"):
        BagOfWordsClassifier(3, 2, padding_idx=3)
    with pytest.raises(ValueError, match=r"Invalid shape for `idf`: expected \(3,\)"):
        BagOfWordsClassifier(3, 2, idf=np.ones(4))
    with pytest.raises(ValueError, match="Invalid value for `idf`: expected finite weights >= 0"):
        BagOfWordsClassifier(3, 2, idf=np.array([1.0, -1.0, 1.0]))
    model = BagOfWordsClassifier(3, 2)
    with pytest.raises(ValueError, match=r"Invalid value for `x`: expected token ids in \[0, 3\)"):
        model(np.array([[0, 5]]))
    with pytest.raises(ValueError, match=r"Invalid shape for `input`: expected \(N, T\) integer ids"):
        model(np.array([0, 1]))
    with pytest.raises(RuntimeError, match=r"BagOfWordsClassifier.backward\(\) was called before forward\(\)"):
        model.backward(np.zeros((1, 2), dtype=np.float32))
