import re

import numpy as np
import pandas as pd
import pytest

from sim import datasets
from sim.datasets import DATASETS, Dataset, DatasetError, load_dataset, split_dataset


def assert_on_chain_integers(data: Dataset) -> None:
    assert data.X.dtype == np.float64 and data.X.flags.c_contiguous
    assert np.array_equal(data.X, np.rint(data.X))
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
    assert data.X.shape == shape and data.y.shape == (shape[0],)
    assert data.n_classes == n_classes
    assert_on_chain_integers(data)
    assert name in DATASETS


def test_float_features_are_standardized_to_fixed_point_but_integers_are_kept():
    cancer = load_dataset("breast_cancer")
    # Fixed point with two decimals: per column mean ~0 and std ~100.
    assert np.allclose(cancer.X.mean(axis=0), 0, atol=1)
    assert np.allclose(cancer.X.std(axis=0), 100, atol=1)
    digits = load_dataset("digits")
    assert digits.X.min() == 0 and digits.X.max() == 16  # raw pixel counts, untouched
    assert not digits.binary


def test_constant_columns_become_zero(tmp_path):
    path = tmp_path / "constant.csv"
    pd.DataFrame({"a": [0.1] * 5, "b": [0.5, 1.5, 2.5, 3.5, 4.5], "label": [0, 1, 0, 1, 0]}).to_csv(
        path, index=False
    )
    data = load_dataset(f"csv:{path}")
    assert np.all(data.X[:, 0] == 0)
    assert np.array_equal(data.X[:, 1], [-141, -71, 0, 71, 141])


def test_synthetic_binary_is_sparse_and_learnable():
    data = load_dataset("synthetic", n_samples=3000, n_features=200, binary=True)
    assert data.X.shape == (3000, 200) and data.binary
    assert set(np.unique(data.X)) == {0.0, 1.0}
    assert 0.08 < data.X.mean() < 0.13
    # A nearest-centroid rule on the first 2,000 samples beats chance clearly on the rest.
    X_train, y_train, X_test, y_test = data.X[:2000], data.y[:2000], data.X[2000:], data.y[2000:]
    centroids = np.stack([X_train[y_train == c].mean(axis=0) for c in (0, 1)])
    predicted = np.argmin(((X_test[:, None, :] - centroids) ** 2).sum(axis=2), axis=1)
    assert (predicted == y_test).mean() > 0.65


def test_synthetic_imdb_shape_is_binary_with_ten_percent_density():
    data = load_dataset("synthetic", n_samples=25_000, n_features=1_000, binary=True)
    assert data.X.shape == (25_000, 1_000) and data.binary
    assert 0.09 < data.X.mean() < 0.13


def test_synthetic_options_shape_the_data():
    data = load_dataset("synthetic", n_samples=300, n_features=8, n_classes=4, seed=3)
    assert data.X.shape == (300, 8) and data.n_classes == 4
    assert_on_chain_integers(data)


def test_same_seed_same_data_different_seed_different_data():
    a = load_dataset("synthetic", n_samples=500, seed=1)
    datasets._synthetic.cache_clear()  # regenerate rather than hit the cache
    b = load_dataset("synthetic", n_samples=500, seed=1)
    assert a is not b
    c = load_dataset("synthetic", n_samples=500, seed=2)
    assert np.array_equal(a.X, b.X) and np.array_equal(a.y, b.y)
    assert not np.array_equal(a.X, c.X)


def test_loaded_arrays_are_read_only_and_cached():
    data = load_dataset("wine")
    assert load_dataset("wine") is data
    with pytest.raises(ValueError, match="read-only"):
        data.X[0, 0] = 1
    with pytest.raises(ValueError, match="read-only"):
        data.y[0] = 1


def test_split_partitions_every_sample():
    n = 1000
    ids = np.arange(n, dtype=np.float64)[:, None]  # the one feature is the sample's id
    data = Dataset(name="ids", X=ids, y=np.arange(n) % 2, n_classes=2, binary=False)
    split = split_dataset(
        data, initial_fraction=0.1, test_fraction=0.25, rng=np.random.default_rng(7)
    )
    assert (len(split.y_test), len(split.y_init), len(split.y_pool)) == (250, 100, 650)
    parts = [split.X_test[:, 0], split.X_init[:, 0], split.X_pool[:, 0]]
    assert np.array_equal(np.sort(np.concatenate(parts)), np.arange(n))  # disjoint and complete
    assert np.array_equal(split.y_pool, split.X_pool[:, 0].astype(np.int64) % 2)  # rows keep labels
    assert split.n_features == 1 and split.n_classes == 2
    assert split.X_pool.flags.c_contiguous and split.X_pool.flags.writeable


def test_split_is_determined_by_the_rng_state():
    data = load_dataset("iris")
    a, b, c = (
        split_dataset(data, initial_fraction=0.2, test_fraction=0.3, rng=np.random.default_rng(s))
        for s in (5, 5, 6)
    )
    assert np.array_equal(a.X_pool, b.X_pool) and np.array_equal(a.y_test, b.y_test)
    assert not np.array_equal(a.X_pool, c.X_pool)


def test_split_without_pre_training_set():
    split = split_dataset(
        load_dataset("iris"), initial_fraction=0, test_fraction=0.2, rng=np.random.default_rng(0)
    )
    assert split.X_init.shape == (0, 4) and len(split.y_pool) == 120


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
    assert np.array_equal(data.X, frame[["count", "flag"]].to_numpy(dtype=np.float64))
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
