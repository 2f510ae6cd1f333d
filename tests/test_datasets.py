import re

import numpy as np
import pandas as pd
import pytest

from sim import datasets, generated_datasets
from sim.datasets import DATASETS, Dataset, DatasetError, load_dataset, split_dataset
from sim.features import Features


def assert_on_chain_integers(data: Dataset) -> None:
    assert data.X.values.dtype.kind == "i"  # integers, in the smallest type that holds them
    assert data.X.dense or data.X.indices.dtype == np.int32
    assert data.y.dtype == np.int64
    assert set(np.unique(data.y)) == set(range(data.n_classes))


@pytest.mark.parametrize(
    "name, shape, n_classes",
    [
        ("breast_cancer", (569, 30), 2),
        ("digits", (1797, 64), 10),
        ("wine", (178, 13), 3),
        ("iris", (150, 4), 3),
        ("synthetic", (2000, 20), 2),
    ],
)
def test_builtin_datasets_load_as_integer_features(name, shape, n_classes):
    data = load_dataset(name)
    assert data.name == name
    assert data.X.toarray().shape == shape and data.y.shape == (shape[0],)
    assert data.n_classes == n_classes
    assert_on_chain_integers(data)
    assert name in DATASETS


def test_float_features_are_standardized_to_fixed_point_but_integers_are_kept():
    cancer = load_dataset("breast_cancer")
    # Fixed point with two decimals: per column mean ~0 and std ~100.
    assert np.allclose(cancer.X.toarray().mean(axis=0), 0, atol=1)
    assert np.allclose(cancer.X.toarray().std(axis=0), 100, atol=1)
    digits = load_dataset("digits")
    assert (
        digits.X.toarray().min() == 0 and digits.X.toarray().max() == 16
    )  # raw pixel counts, untouched
    assert not digits.binary


def test_constant_columns_become_zero(tmp_path):
    path = tmp_path / "constant.csv"
    pd.DataFrame({"a": [0.1] * 5, "b": [0.5, 1.5, 2.5, 3.5, 4.5], "label": [0, 1, 0, 1, 0]}).to_csv(
        path, index=False
    )
    data = load_dataset(f"csv:{path}")
    assert np.all(data.X.toarray()[:, 0] == 0)
    assert np.array_equal(data.X.toarray()[:, 1], [-141, -71, 0, 71, 141])


def test_synthetic_binary_is_sparse_and_learnable():
    data = load_dataset("synthetic", n_samples=3000, n_features=200, binary=True)
    assert data.X.toarray().shape == (3000, 200) and data.binary
    assert set(np.unique(data.X.toarray())) == {0.0, 1.0}
    assert 0.08 < data.X.toarray().mean() < 0.13
    # A nearest-centroid rule on the first 2,000 samples beats chance clearly on the rest.
    X_train, y_train, X_test, y_test = (
        data.X.toarray()[:2000],
        data.y[:2000],
        data.X.toarray()[2000:],
        data.y[2000:],
    )
    centroids = np.stack([X_train[y_train == c].mean(axis=0) for c in (0, 1)])
    predicted = np.argmin(((X_test[:, None, :] - centroids) ** 2).sum(axis=2), axis=1)
    assert (predicted == y_test).mean() > 0.65


def test_synthetic_imdb_shape_is_binary_with_ten_percent_density():
    data = load_dataset("synthetic", n_samples=25_000, n_features=1_000, binary=True)
    assert data.X.toarray().shape == (25_000, 1_000) and data.binary
    assert 0.09 < data.X.toarray().mean() < 0.13


def test_synthetic_options_shape_the_data():
    data = load_dataset("synthetic", n_samples=300, n_features=8, n_classes=4, seed=3)
    assert data.X.toarray().shape == (300, 8) and data.n_classes == 4
    assert_on_chain_integers(data)


def test_same_seed_same_data_different_seed_different_data():
    a = load_dataset("synthetic", n_samples=500, seed=1)
    datasets._synthetic.cache_clear()  # regenerate rather than hit the cache
    b = load_dataset("synthetic", n_samples=500, seed=1)
    assert a is not b
    c = load_dataset("synthetic", n_samples=500, seed=2)
    assert np.array_equal(a.X.toarray(), b.X.toarray()) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.X.toarray(), c.X.toarray())


def test_loaded_arrays_are_read_only_and_cached():
    data = load_dataset("wine")
    assert load_dataset("wine") is data
    assert data.X.dense  # standardized measurements: nearly every value is nonzero
    for array in (data.X.indptr, data.X.values, data.X.rows):
        with pytest.raises(ValueError, match="read-only"):
            array[0] = 1
    with pytest.raises(ValueError, match="read-only"):
        data.y[0] = 1


def test_split_partitions_every_sample():
    n = 1000
    ids = np.arange(n, dtype=np.float64)[:, None]  # the one feature is the sample's id
    data = Dataset(
        name="ids", X=Features.from_array(ids), y=np.arange(n) % 2, n_classes=2, binary=False
    )
    split = split_dataset(
        data, initial_fraction=0.1, test_fraction=0.25, rng=np.random.default_rng(7)
    )
    assert (len(split.y_test), len(split.y_init), len(split.y_pool)) == (250, 100, 650)
    parts = [
        split.X_test.toarray()[:, 0],
        split.X_init.toarray()[:, 0],
        split.X_pool.toarray()[:, 0],
    ]
    assert np.array_equal(np.sort(np.concatenate(parts)), np.arange(n))  # disjoint and complete
    assert np.array_equal(
        split.y_pool, split.X_pool.toarray()[:, 0].astype(np.int64) % 2
    )  # rows keep labels
    assert split.n_features == 1 and split.n_classes == 2
    # The split is row ids into the dataset's one matrix: no feature value is copied.
    for X in (split.X_init, split.X_pool, split.X_test):
        assert X.values is data.X.values and X.indices is data.X.indices


def test_split_is_determined_by_the_rng_state():
    data = load_dataset("iris")
    a, b, c = (
        split_dataset(data, initial_fraction=0.2, test_fraction=0.3, rng=np.random.default_rng(s))
        for s in (5, 5, 6)
    )
    assert np.array_equal(a.X_pool.toarray(), b.X_pool.toarray()) and np.array_equal(
        a.y_test, b.y_test
    )
    assert not np.array_equal(a.X_pool.toarray(), c.X_pool.toarray())


def test_split_without_pre_training_set():
    split = split_dataset(
        load_dataset("iris"), initial_fraction=0, test_fraction=0.2, rng=np.random.default_rng(0)
    )
    assert split.X_init.toarray().shape == (0, 4) and len(split.y_pool) == 120


@pytest.mark.parametrize(
    "initial_fraction, test_fraction, parameter",
    [
        (0.1, 0.0, "test_fraction"),
        (0.1, 1.0, "test_fraction"),
        (-0.1, 0.2, "initial_fraction"),
        (1.0, 0.2, "initial_fraction"),
        (0.5, 0.5, "initial_fraction \\+ test_fraction"),
    ],
)
def test_split_rejects_bad_fractions(initial_fraction, test_fraction, parameter):
    with pytest.raises(ValueError, match=parameter):
        split_dataset(
            load_dataset("iris"),
            initial_fraction=initial_fraction,
            test_fraction=test_fraction,
            rng=np.random.default_rng(0),
        )


def test_split_needs_a_sample_in_every_part():
    tiny = Dataset(
        name="tiny", X=np.zeros((4, 1)), y=np.array([0, 1, 0, 1]), n_classes=2, binary=True
    )
    with pytest.raises(DatasetError, match="'tiny' has too few samples"):
        split_dataset(tiny, initial_fraction=0.1, test_fraction=0.25, rng=np.random.default_rng(0))


def sample_frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "count": [3, 0, 7, 1, 2, 5],
            "flag": [1, 0, 1, 1, 0, 0],
            "label": ["spam", "ham", "spam", "eggs", "ham", "eggs"],
        }
    )


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_file_round_trip_encodes_labels_in_sorted_order(tmp_path, kind):
    path = tmp_path / f"data.{kind}"
    frame = sample_frame()
    if kind == "csv":
        frame.to_csv(path, index=False)
    else:
        frame.to_parquet(path)
    data = load_dataset(f"{kind}:{path}")
    assert data.name == f"{kind}:{path}"
    assert np.array_equal(data.X.toarray(), frame[["count", "flag"]].to_numpy(dtype=np.float64))
    assert np.array_equal(data.y, [2, 1, 2, 0, 1, 0])  # eggs=0, ham=1, spam=2
    assert data.n_classes == 3 and not data.binary
    assert_on_chain_integers(data)


def test_file_label_column_can_be_chosen(tmp_path):
    path = tmp_path / "data.csv"
    sample_frame().rename(columns={"label": "class"}).to_csv(path, index=False)
    assert load_dataset(f"csv:{path}", label_column="class").n_classes == 3


def test_edited_file_is_reloaded(tmp_path):
    path = tmp_path / "data.csv"
    sample_frame().to_csv(path, index=False)
    first = load_dataset(f"csv:{path}")
    sample_frame().head(4).to_csv(path, index=False)
    assert len(load_dataset(f"csv:{path}").y) == 4 != len(first.y)


def write_csv(tmp_path, frame: pd.DataFrame) -> str:
    path = tmp_path / "bad.csv"
    frame.to_csv(path, index=False)
    return str(path)


def test_file_errors_name_the_file_and_column(tmp_path):
    good = sample_frame()
    path = write_csv(tmp_path, good.drop(columns="label"))
    with pytest.raises(
        DatasetError, match=re.escape(f"csv file {path} has no label column 'label'")
    ):
        load_dataset(f"csv:{path}")

    path = write_csv(tmp_path, good.assign(colour=["red"] * 6, shade=["x"] * 6))
    with pytest.raises(DatasetError, match=r"feature column 'colour' is not numeric"):
        load_dataset(f"csv:{path}")

    path = write_csv(tmp_path, good.assign(count=[3, None, 7, 1, 2, 5]))
    with pytest.raises(DatasetError, match=r"column 'count' has missing values"):
        load_dataset(f"csv:{path}")

    path = write_csv(tmp_path, good.assign(label=["a"] * 6))
    with pytest.raises(DatasetError, match=r"has 1 class\(es\); at least 2"):
        load_dataset(f"csv:{path}")

    path = write_csv(tmp_path, good[["label"]])
    with pytest.raises(DatasetError, match="no feature columns"):
        load_dataset(f"csv:{path}")


def test_missing_and_corrupt_files(tmp_path):
    missing = tmp_path / "nowhere.parquet"
    with pytest.raises(DatasetError, match=re.escape(f"parquet file not found: {missing}")):
        load_dataset(f"parquet:{missing}")
    corrupt = tmp_path / "corrupt.parquet"
    corrupt.write_bytes(b"definitely not parquet")
    with pytest.raises(DatasetError, match=re.escape(f"cannot read parquet file {corrupt}: ")):
        load_dataset(f"parquet:{corrupt}")
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    with pytest.raises(DatasetError, match=re.escape(f"cannot read csv file {empty}: No columns")):
        load_dataset(f"csv:{empty}")


@pytest.mark.parametrize(
    "name, options, message",
    [
        ("mnist", {}, "unknown dataset 'mnist'; valid names: breast_cancer, digits"),
        ("xlsx:data.xlsx", {}, "unknown file prefix 'xlsx' in 'xlsx:data.xlsx'"),
        ("mnist", {"n_samples": 5}, "unknown dataset 'mnist'"),
        ("csv:x.csv", {"n_classes": 3}, "option n_classes=3 does not apply to 'csv:x.csv'"),
        ("csv:", {}, "names no file"),
        ("synthetic", {"n_samples": 0}, "n_samples must be a positive integer, got 0"),
        ("synthetic", {"n_features": -3}, "n_features must be a positive integer, got -3"),
        ("synthetic", {"n_classes": 1}, "n_classes must be at least 2, got 1"),
        ("synthetic", {"n_informative": 30}, "n_informative must be between 1 and n_features=20"),
        ("synthetic", {"n_classes": 10, "n_features": 3}, "needs at least 4 informative features"),
        ("synthetic", {"flip_y": 2.0}, "synthetic: The 'flip_y' parameter"),
        (
            "iris",
            {"binary": True},
            "option binary=True does not apply to 'iris', only to synthetic",
        ),
        (
            "digits",
            {"label_column": "y"},
            "option label_column='y' does not apply to 'digits', only to csv/parquet",
        ),
    ],
)
def test_bad_names_and_options(name, options, message):
    with pytest.raises(DatasetError, match=message) as error:
        load_dataset(name, **options)
    assert "\n" not in str(error.value)


# --- bag_of_words: generated IMDB-like documents ----------------------------------------

BOW = {"n_samples": 8000, "n_features": 500}
"""Counts large enough for per-word statistics, generated in a fraction of a second."""


def word_stats(data: Dataset) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per word: the log ratio of its class 1 to class 0 frequency, centred on the median
    word (most words carry no sentiment), its z-score, and its total count."""
    counts = np.stack([data.X.toarray()[data.y == c].sum(axis=0) for c in (0, 1)])
    frequency = counts / counts.sum(axis=1, keepdims=True)
    log_ratio = np.log(frequency[1] / frequency[0])
    log_ratio -= np.median(log_ratio)
    z = log_ratio / np.sqrt(1 / counts[0] + 1 / counts[1])
    return log_ratio, z, counts.sum(axis=0)


def test_bag_of_words_counts_and_presence():
    counts = load_dataset("bag_of_words", **BOW)
    assert counts.name == "bag_of_words" and counts.X.toarray().shape == (8000, 500)
    assert_on_chain_integers(counts)
    assert counts.X.toarray().min() == 0 and counts.X.toarray().max() > 1 and not counts.binary
    assert counts.n_classes == 2 and np.array_equal(np.bincount(counts.y), [4000, 4000])
    assert 0 < counts.y[:100].mean() < 1  # shuffled, not one class then the other
    presence = load_dataset("bag_of_words", binary=True, **BOW)
    assert presence.binary and set(np.unique(presence.X.toarray())) == {0.0, 1.0}
    assert np.array_equal(presence.X.toarray(), counts.X.toarray() > 0)  # the same documents
    assert np.array_equal(np.bincount(load_dataset("bag_of_words", n_samples=7).y), [3, 4])


def test_bag_of_words_defaults_are_imdb_sized():
    # The options, not the data: generating 25,000 x 1,000 takes ~1.5 s (see the calibration).
    given = {option: datasets._DEFAULTS[option] for option in datasets._OPTIONS["bag_of_words"]}
    filled = generated_datasets.bag_of_words_options(
        **given, cell_limit=datasets.cell_limit("bag_of_words")
    )
    assert (filled["n_samples"], filled["n_features"], filled["binary"]) == (25_000, 1_000, False)
    assert filled["mean_length"] == 230 and filled["sentiment_strength"] == 0.68


def test_bag_of_words_same_seed_same_data_different_seed_different_data():
    a = load_dataset("bag_of_words", n_samples=300, n_features=50, seed=1)
    datasets._bag_of_words.cache_clear()  # regenerate rather than hit the cache
    b = load_dataset("bag_of_words", n_samples=300, n_features=50, seed=1)
    c = load_dataset("bag_of_words", n_samples=300, n_features=50, seed=2)
    assert a is not b
    assert np.array_equal(a.X.toarray(), b.X.toarray()) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.X.toarray(), c.X.toarray())


@pytest.mark.parametrize("mean_length", [230, 60])
def test_bag_of_words_document_lengths_are_lognormal_with_that_mean(mean_length):
    lengths = load_dataset("bag_of_words", mean_length=mean_length, **BOW).X.toarray().sum(axis=1)
    assert lengths.min() >= 1
    assert lengths.mean() == pytest.approx(mean_length, rel=0.03)
    skewed_median = mean_length * np.exp(-(generated_datasets.LENGTH_SIGMA**2) / 2)  # 174 for 230
    assert np.median(lengths) == pytest.approx(skewed_median, rel=0.05)


@pytest.mark.parametrize("zipf_exponent", [1.0, 0.7])
def test_bag_of_words_word_frequencies_follow_zipf(zipf_exponent):
    data = load_dataset("bag_of_words", zipf_exponent=zipf_exponent, **BOW)
    _, z, total = word_stats(data)
    rank = np.arange(1, 201)
    neutral = np.abs(z[:200]) < 5  # the words that carry no sentiment
    slope = np.polyfit(np.log(rank[neutral]), np.log(total[:200][neutral]), 1)[0]
    assert slope == pytest.approx(-zipf_exponent, abs=0.05)


def test_bag_of_words_sentiment_words_differ_between_classes_and_the_rest_do_not():
    strength = datasets.SENTIMENT_STRENGTH
    log_ratio, z, _ = word_stats(load_dataset("bag_of_words", **BOW))
    positive, negative = z > 5, z < -5
    # sentiment_share 0.1 of 500 words, half leaning to each class; the rest only noise.
    assert positive.sum() == negative.sum() == 25
    assert np.abs(z[~positive & ~negative]).max() < 4
    assert np.abs(z[positive | negative]).min() > 6  # a clear gap between the two kinds
    assert log_ratio[positive].mean() == pytest.approx(strength, abs=0.08)
    assert log_ratio[negative].mean() == pytest.approx(-strength, abs=0.08)
    # Chosen at random by the seed: spread over the ranks, and other words for another seed.
    sentiment = np.flatnonzero(positive | negative)
    assert sentiment.min() < 100 and sentiment.max() > 300
    _, other_z, _ = word_stats(load_dataset("bag_of_words", seed=1, **BOW))
    assert not np.array_equal(np.flatnonzero(np.abs(other_z) > 5), sentiment)


def test_bag_of_words_flip_y_redraws_that_share_of_labels():
    clean = load_dataset("bag_of_words", **BOW)
    noisy = load_dataset("bag_of_words", flip_y=0.3, **BOW)
    assert np.array_equal(clean.X.toarray(), noisy.X.toarray())  # label noise is drawn last
    # As make_classification: 30% of the labels are redrawn at random, so about 15% change.
    assert (clean.y != noisy.y).mean() == pytest.approx(0.15, abs=0.015)


def test_bag_of_words_is_learnable_by_a_linear_model_but_not_perfectly():
    from sklearn.linear_model import SGDClassifier

    data = load_dataset("bag_of_words", n_samples=3000, n_features=300, binary=True)
    model = SGDClassifier(
        loss="perceptron", learning_rate="optimal", penalty=None, tol=1e-3, random_state=0
    )
    model.fit(data.X.toarray()[:2400], data.y[:2400])
    assert 0.62 < model.score(data.X.toarray()[2400:], data.y[2400:]) < 0.95


MAX_DRAWN_CELLS_MESSAGE = (
    "bag_of_words: 2,000,001 samples x 1,000 features is over MAX_DRAWN_CELLS=2,000,000,000 "
    "cells; lower data.n_samples or data.n_features"
)


@pytest.mark.parametrize(
    "name, options, message",
    [
        ("iris", {"mean_length": 100}, "mean_length=100 does not apply to 'iris', only to bag_of_"),
        ("synthetic", {"sentiment_share": 0.2}, "sentiment_share=0.2 does not apply to 'synth"),
        ("csv:x.csv", {"zipf_exponent": 2}, "zipf_exponent=2 does not apply to 'csv:x.csv'"),
        ("bag_of_words", {"n_informative": 3}, "n_informative=3 does not apply to 'bag_of_words'"),
        ("bag_of_words", {"n_informative": 3}, "'bag_of_words', only to synthetic$"),
        ("bag_of_words", {"class_sep": 2.0}, "class_sep=2.0 does not apply to 'bag_of_words'"),
        ("bag_of_words", {"label_column": "y"}, "only to csv/parquet files$"),
        ("bag_of_words", {"label_threshold": 7}, "only to csv/parquet/svmlight files$"),
        ("svmlight:x.txt", {"n_samples": 9}, "only to synthetic and bag_of_words$"),
        ("svmlight:x.txt", {"flip_y": 0.1}, "flip_y=0.1 does not apply to 'svmlight:x.txt'"),
        ("svmlight:x.txt", {"label_column": "y"}, "does not apply to 'svmlight:x.txt'"),
        ("iris", {"n_features": 3}, "only to synthetic, bag_of_words and svmlight files$"),
        ("bag_of_words", {"sentiment_share": 0}, r"sentiment_share must be between 0 and 1 \("),
        ("bag_of_words", {"sentiment_share": 1.0}, "sentiment_share must be between 0 and 1"),
        ("bag_of_words", {"mean_length": 0}, "mean_length must be a positive number, got 0"),
        ("bag_of_words", {"zipf_exponent": -1.0}, "zipf_exponent must be a positive number"),
        ("bag_of_words", {"sentiment_strength": 0}, "sentiment_strength must be a positive"),
        ("bag_of_words", {"flip_y": 1.5}, "flip_y must be between 0 and 1, got 1.5"),
        ("bag_of_words", {"n_samples": 1}, "n_samples must be at least 2"),
        ("bag_of_words", {"n_features": 0}, "n_features must be a positive integer, got 0"),
        ("bag_of_words", {"n_features": 10}, "gives fewer than 2 sentiment words"),
        ("bag_of_words", {"n_samples": 2_000_001}, re.escape(MAX_DRAWN_CELLS_MESSAGE)),
        ("synthetic", {"n_samples": 10**6, "n_features": 101}, "synthetic: 1,000,000 samples"),
        ("svmlight:x.txt", {"n_features": 0}, "n_features must be a positive integer, got 0"),
        ("tsv:x.tsv", {}, "use csv:PATH, parquet:PATH or svmlight:PATH"),
        ("svmlight:", {}, "names no file; use svmlight:PATH"),
    ],
)
def test_bag_of_words_and_svmlight_bad_options(name, options, message):
    with pytest.raises(DatasetError, match=message) as error:
        load_dataset(name, **options)
    assert "\n" not in str(error.value)


def data_config(**data) -> dict:
    """The tests' small experiment (conftest.SMALL_TOML) with these [data] keys instead."""
    import tomllib

    from conftest import SMALL_TOML

    raw = tomllib.loads(SMALL_TOML)
    raw["data"] = data
    return raw


@pytest.mark.parametrize(
    "key, value, message",
    [
        ("sentiment_share", 0, "greater than 0"),
        ("sentiment_share", 1, "less than 1"),
        ("mean_length", 0, "greater than 0"),
        ("mean_length", -5.0, "greater than 0"),
        ("zipf_exponent", 0, "greater than 0"),
        ("sentiment_strength", -0.5, "greater than 0"),
        ("label_threshold", "seven", "valid number"),
    ],
)
def test_bad_bag_of_words_values_are_one_line_config_errors(key, value, message):
    from sim.config import ConfigError, validate

    with pytest.raises(ConfigError) as error:
        validate(data_config(dataset="bag_of_words", **{key: value}), "exp.toml")
    assert str(error.value).startswith(f"exp.toml: data.{key}: ")
    assert message in str(error.value) and "\n" not in str(error.value)


def test_config_accepts_the_new_datasets_and_matches_load_datasets_defaults():
    from sim.config import DataSection, validate

    bag = validate(data_config(dataset="bag_of_words"), "exp.toml").data
    assert bag.known_classes() == 2
    ratings = validate(data_config(dataset="svmlight:x.feat", label_threshold=7), "exp.toml")
    assert ratings.data.label_threshold == 7.0 and ratings.data.known_classes() == 2
    assert validate(data_config(dataset="svmlight:x.feat"), "exp.toml").data.known_classes() is None
    for option, default in datasets._DEFAULTS.items():
        if option != "seed":
            assert DataSection.model_fields[option].default == default, option


# --- svmlight: the user's own sparse file (IMDB's labeledBow.feat) -----------------------

LABELED_BOW = """\
9 0:4 1:2 5:1 10:3
2 0:1 3:1 4:2
7 1:1 2:5
1 0:2 10:1
10 0:3 2:1 6:1
4 0:1 7:2 8:1 9:1
"""
"""labeledBow.feat style: `rating idx:count ...`, zero-based word indices, ratings 1-4, 7-10."""


def labeled_bow_dense() -> np.ndarray:
    X = np.zeros((6, 11))
    for row, line in enumerate(LABELED_BOW.splitlines()):
        for pair in line.split()[1:]:
            index, count = pair.split(":")
            X[row, int(index)] = float(count)
    return X


def write(tmp_path, text: str, name: str = "labeledBow.feat") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_svmlight_labeled_bow_style_file(tmp_path):
    path = write(tmp_path, LABELED_BOW)
    ratings = load_dataset(f"svmlight:{path}")
    assert ratings.name == f"svmlight:{path}"
    assert np.array_equal(ratings.X.toarray(), labeled_bow_dense())
    assert np.array_equal(ratings.y, [4, 1, 3, 0, 5, 2])  # every rating a class: 1,2,4,7,9,10
    assert ratings.n_classes == 6 and not ratings.binary
    assert_on_chain_integers(ratings)
    sentiment = load_dataset(f"svmlight:{path}", label_threshold=7)
    assert np.array_equal(sentiment.y, [1, 0, 1, 0, 1, 0]) and sentiment.n_classes == 2
    assert np.array_equal(sentiment.X.toarray(), ratings.X.toarray())


def test_svmlight_round_trip_through_scikit_learn(tmp_path):
    from sklearn.datasets import dump_svmlight_file

    rng = np.random.default_rng(0)
    X = rng.poisson(0.5, size=(40, 12)).astype(np.float64)
    X[:, 0] += 1  # word 0 is in every document (as "the" is), so the indices read as zero-based
    ratings = rng.choice([1, 2, 3, 4, 7, 8, 9, 10], size=40)
    path = tmp_path / "dumped.svm"
    dump_svmlight_file(X, ratings, str(path), zero_based=True)
    data = load_dataset(f"svmlight:{path}", label_threshold=7)
    assert (
        np.array_equal(data.X.toarray(), X[:, : data.X.toarray().shape[1]])
        and data.X.toarray().shape[1] <= 12
    )
    assert np.array_equal(data.y, ratings >= 7)


def test_svmlight_n_features_keeps_the_first_columns_and_binary_gives_presence(tmp_path):
    path = write(tmp_path, LABELED_BOW)
    first = load_dataset(f"svmlight:{path}", n_features=3)
    assert np.array_equal(first.X.toarray(), labeled_bow_dense()[:, :3])
    presence = load_dataset(f"svmlight:{path}", binary=True)
    assert presence.binary and np.array_equal(presence.X.toarray(), labeled_bow_dense() > 0)
    with pytest.raises(DatasetError, match="has 11 feature columns, fewer than n_features=12"):
        load_dataset(f"svmlight:{path}", n_features=12)


def test_edited_svmlight_file_is_reread(tmp_path):
    path = write(tmp_path, LABELED_BOW)
    assert len(load_dataset(f"svmlight:{path}").y) == 6
    write(tmp_path, "".join(LABELED_BOW.splitlines(keepends=True)[:4]))
    assert len(load_dataset(f"svmlight:{path}").y) == 4


def test_svmlight_is_read_sparse_whatever_its_width(tmp_path, monkeypatch):
    """An svmlight file is never densified: the dense-cell bound does not apply to it."""
    path = write(tmp_path, LABELED_BOW)
    monkeypatch.setattr(datasets, "MAX_CELLS", 6 * 10)
    data = load_dataset(f"svmlight:{path}")
    assert data.X.shape == (6, 11)
    # Held in whichever layout is smaller: never more bytes than its nonzeros as CSR.
    stored = data.X.values.nbytes + (0 if data.X.dense else data.X.indices.nbytes)
    assert stored <= np.count_nonzero(data.X.toarray()) * (data.X.values.itemsize + 4)


@pytest.mark.parametrize(
    "text, message",
    [
        ("label,the,movie\n9,1,0\n", "could not convert string to float"),
        ("9 the:4\n", "invalid literal for int"),
        ("9 3:1 1:2\n2 0:1\n", "should be sorted and unique"),
        ("", "has no rows"),
        ("9 0:inf\n2 1:1\n", "has infinite or NaN feature values"),
        ("nan 0:1\n2 1:1\n", "has infinite or NaN labels"),
        ("9 0:1\n9 1:2\n", "has 1 class\\(es\\); at least 2 are needed"),
    ],
)
def test_malformed_svmlight_files(tmp_path, text, message):
    path = write(tmp_path, text, "bad.svm")
    with pytest.raises(DatasetError, match=message) as error:
        load_dataset(f"svmlight:{path}")
    assert str(path) in str(error.value) and "\n" not in str(error.value)


def test_missing_unreadable_and_one_sided_svmlight_files(tmp_path):
    missing = tmp_path / "nowhere.feat"
    with pytest.raises(DatasetError, match=re.escape(f"svmlight file not found: {missing}")):
        load_dataset(f"svmlight:{missing}")
    with pytest.raises(DatasetError, match=re.escape(f"cannot read svmlight file {tmp_path}: ")):
        load_dataset(f"svmlight:{tmp_path}")  # a directory
    path = write(tmp_path, LABELED_BOW)
    with pytest.raises(DatasetError) as error:
        load_dataset(f"svmlight:{path}", label_threshold=1)
    assert str(error.value) == (
        f"svmlight file {path}: every label is at least label_threshold=1, leaving one class"
    )


def test_csv_label_threshold(tmp_path):
    path = tmp_path / "ratings.csv"
    pd.DataFrame({"the": [1, 0, 2, 1], "label": [9, 2, 7, 4]}).to_csv(path, index=False)
    assert np.array_equal(load_dataset(f"csv:{path}", label_threshold=7).y, [1, 0, 1, 0])
    path = tmp_path / "words.csv"
    sample_frame().to_csv(path, index=False)
    with pytest.raises(DatasetError, match="label_threshold needs numbers, but label column"):
        load_dataset(f"csv:{path}", label_threshold=7)


@pytest.mark.parametrize("source", ["svmlight", "bag_of_words"])
def test_a_tiny_experiment_runs_on_the_new_datasets(tmp_path, source, capsys):
    import tomllib

    from conftest import SMALL_TOML
    from sklearn.datasets import dump_svmlight_file

    from sim.cli import main

    docs = load_dataset("bag_of_words", n_samples=400, n_features=50, binary=False)
    if source == "svmlight":
        path = tmp_path / "labeledBow.feat"
        ratings = np.where(docs.y == 1, 7 + np.arange(400) % 4, 1 + np.arange(400) % 4)
        dump_svmlight_file(docs.X.toarray(), ratings, str(path), zero_based=True)
        data = f'dataset = "svmlight:{path}"\nlabel_threshold = 7\nbinary = true'
    else:
        data = 'dataset = "bag_of_words"\nn_samples = 400\nn_features = 50\nbinary = true'
    config = tmp_path / "tiny.toml"
    raw = SMALL_TOML.replace(
        'dataset = "synthetic"\nn_samples = 400\nn_features = 20\nbinary = true', data
    )
    assert raw != SMALL_TOML
    config.write_text(raw)
    out = tmp_path / "out"
    assert main(["run", str(config), "--out", str(out), "--quiet"]) == 0, capsys.readouterr().err
    (folder,) = (out / "small").iterdir()
    summary = pd.read_csv(folder / "summary.csv")
    assert len(summary) == 2 and summary["final_accuracy"].between(0, 1).all()
    resolved = tomllib.loads((folder / "config.toml").read_text())["data"]
    assert resolved["dataset"] == (
        "bag_of_words" if source == "bag_of_words" else f"svmlight:{path}"
    )
