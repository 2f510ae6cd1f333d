"""Config and data files that could hang, exhaust memory or train a garbage model are refused
in one line, before they are opened or read (issue 12, part C).

Cases that would hang (a FIFO) or take gigabytes (/dev/zero, a 4 GB file) on code without
these checks run `decai` in a subprocess with a timeout and a 2 GiB address-space limit, so a
regression fails the test instead of hanging or swapping the machine. Further cases, each
with its data file, are in tests/bad_inputs/data_*.toml.
"""

import os
import re
import resource
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sim import cli, data_files, datasets
from sim.config import MAX_CONFIG_BYTES
from sim.datasets import MAX_FEATURE_VALUE, MAX_FILE_BYTES, DatasetError, load_dataset

ROOT = Path(__file__).resolve().parents[1]
DECAI = Path(sys.executable).with_name("decai")

CONFIG = """\
[experiment]
name = "files"
duration_days = 1
[data]
dataset = "{dataset}"
[[agents]]
name = "honest"
kind = "honest"
count = 1
"""


def _limited() -> None:
    """In the child: at most 2 GiB of address space, so a regression cannot take 7 GB."""
    resource.setrlimit(resource.RLIMIT_AS, (2 << 30, 2 << 30))


def _decai_run(config: Path | str, out: Path) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(
            [str(DECAI), "run", str(config), "--out", str(out), "--quiet"],
            cwd=out.parent,
            capture_output=True,
            text=True,
            timeout=30,
            preexec_fn=_limited,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"decai run {config} still running after 30 s (blocked reading it?)")


def _assert_refused(done: subprocess.CompletedProcess, out: Path, *expected: str) -> None:
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 2, done.stderr
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("decai: error: "), done.stderr
    for text in expected:
        assert text in lines[0], f"{text!r} not in {lines[0]!r}"
    assert not out.exists() or not any(out.iterdir())


def _special(tmp_path: Path, kind: str) -> Path:
    """A FIFO, a directory or a device: never a file to read."""
    if kind == "fifo":
        path = tmp_path / "pipe"
        os.mkfifo(path)
        return path
    if kind == "directory":
        return tmp_path
    return Path("/dev/zero")


@pytest.mark.parametrize("kind", ["fifo", "directory", "device"])
def test_config_that_is_not_a_regular_file(tmp_path, kind):
    # Before: a FIFO blocked forever, /dev/zero took 7 GB (here: MemoryError at 2 GiB).
    path = _special(tmp_path, kind)
    out = tmp_path / "out"
    done = _decai_run(path, out)
    _assert_refused(done, out, f"decai: error: {path}: not a regular file")


@pytest.mark.parametrize(
    "dataset", ["csv:fifo", "parquet:fifo", "svmlight:fifo", "csv:device", "svmlight:directory"]
)
def test_data_file_that_is_not_a_regular_file(tmp_path, dataset):
    # Before: a FIFO blocked forever, csv:/dev/zero took 4.4 GB before its error.
    kind, _, special = dataset.partition(":")
    path = _special(tmp_path, special)
    config = tmp_path / "config.toml"
    config.write_text(CONFIG.format(dataset=f"{kind}:{path}"))
    out = tmp_path / "out"
    done = _decai_run(config, out)
    _assert_refused(done, out, str(config), f"cannot read {kind} file {path}: not a regular file")


def test_data_file_over_the_size_limit_is_not_opened(tmp_path):
    # Before: pandas read a 4 GB file of NUL bytes (here: out of memory at 2 GiB).
    path = tmp_path / "huge.csv"
    with open(path, "wb") as file:
        file.truncate(MAX_FILE_BYTES + 1)  # sparse: no disk space taken
    config = tmp_path / "config.toml"
    config.write_text(CONFIG.format(dataset=f"csv:{path}"))
    out = tmp_path / "out"
    done = _decai_run(config, out)
    _assert_refused(done, out, f"csv file {path} has {MAX_FILE_BYTES + 1:,} bytes, over MAX_FILE")


def test_data_size_limit_can_be_raised(tmp_path, monkeypatch):
    path = tmp_path / "data.csv"
    pd.DataFrame({"a": [1, 2, 3, 4], "label": [0, 1, 0, 1]}).to_csv(path, index=False)
    monkeypatch.setattr(datasets, "MAX_FILE_BYTES", path.stat().st_size - 1)
    with pytest.raises(DatasetError, match="raise MAX_FILE_BYTES in sim/datasets.py"):
        load_dataset(f"csv:{path}")
    monkeypatch.setattr(datasets, "MAX_FILE_BYTES", path.stat().st_size)
    assert load_dataset(f"csv:{path}").X.toarray().shape == (4, 1)


def test_config_over_the_size_limit_is_not_read(tmp_path, capsys):
    # Before: a valid config padded past 1 MiB was read and run.
    config = tmp_path / "big.toml"
    padding = "# padding\n" * (MAX_CONFIG_BYTES // 10 + 1)
    config.write_text(CONFIG.format(dataset="breast_cancer") + padding)
    out = tmp_path / "out"
    assert cli.main(["run", str(config), "--out", str(out), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert err == (
        f"decai: error: {config}: {config.stat().st_size:,} bytes, over the "
        f"{MAX_CONFIG_BYTES:,} a config may have (MAX_CONFIG_BYTES in sim/config.py)\n"
    )
    assert not out.exists()


def test_parquet_over_max_cells_is_refused_before_reading(tmp_path, monkeypatch):
    # Before: Parquet files were not bounded by MAX_CELLS at all (compressed, a small file
    # can hold a huge table); now the metadata's row count is checked before reading.
    path = tmp_path / "data.parquet"
    pd.DataFrame({"a": range(6), "label": [0, 1] * 3}).to_parquet(path)
    monkeypatch.setattr(datasets, "MAX_CELLS", 11)

    def unread(*args, **kwargs):
        raise AssertionError("the data was read")

    monkeypatch.setitem(data_files._FILE_READERS, "parquet", unread)
    with pytest.raises(DatasetError, match=r"6 samples x 2 features is over MAX_CELLS=11"):
        load_dataset(f"parquet:{path}")


def test_csv_over_max_cells_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "data.csv"
    pd.DataFrame({"a": range(6), "label": [0, 1] * 3}).to_csv(path, index=False)
    monkeypatch.setattr(datasets, "MAX_CELLS", 11)
    with pytest.raises(DatasetError, match=r"6 samples x 2 features is over MAX_CELLS=11"):
        load_dataset(f"csv:{path}")


def test_duplicate_feature_column(tmp_path):
    # Before: pandas renamed the second 'a' to 'a.1' and used both.
    path = tmp_path / "data.csv"
    path.write_text("a,b,a,label\n1,2,3,0\n4,5,6,1\n")
    with pytest.raises(DatasetError, match=f"csv file {path}: column 'a' appears 2 times$"):
        load_dataset(f"csv:{path}")


def test_names_that_only_look_renamed_are_accepted(tmp_path):
    path = tmp_path / "data.csv"
    path.write_text("label.1,label,\n1,0,7\n2,1,8\n")  # and one unnamed column
    assert load_dataset(f"csv:{path}").X.toarray().shape == (2, 2)


def _table(kind: str, path: Path, columns: dict) -> str:
    if kind == "parquet":
        pq.write_table(pa.table({name: pa.array(v) for name, v in columns.items()}), path)
    else:
        pd.DataFrame(columns).to_csv(path, index=False)
    return f"{kind}:{path}"


@pytest.mark.parametrize("kind", ["csv", "parquet"])
@pytest.mark.parametrize(
    "value, message",
    [
        (np.inf, "has infinite or NaN feature values in column 'a'"),
        (-np.inf, "has infinite or NaN feature values in column 'a'"),
        (
            MAX_FEATURE_VALUE + 1,
            "feature column 'a' holds 1000000001.0, over MAX_FEATURE_VALUE=1e+09",
        ),
        (-1e300, "feature column 'a' holds 1e+300, over MAX_FEATURE_VALUE=1e+09"),
    ],
    ids=["inf", "-inf", "1e9+1", "-1e300"],
)
def test_feature_values_out_of_range(tmp_path, kind, value, message):
    # Before: 1e9 + 1 and 1e300 were accepted (1e300 overflowed in standardizing); an
    # infinity was refused with another message.
    a = [0.5, 1.5, value, 2.5]
    name = _table(kind, tmp_path / f"data.{kind}", {"b": [1, 2, 3, 4], "a": a, "label": [0, 1] * 2})
    with pytest.raises(DatasetError, match=re.escape(message)):
        load_dataset(name)


def test_svmlight_feature_out_of_range(tmp_path):
    path = tmp_path / "data.svm"
    path.write_text("1 0:3 1:2\n0 0:1 1:2000000000\n")
    with pytest.raises(DatasetError, match=r"feature column #1 \(0-based\) holds 2000000000.0"):
        load_dataset(f"svmlight:{path}")
    with pytest.raises(DatasetError, match=r"feature column #1 \(0-based\) holds 2000000000.0"):
        load_dataset(f"svmlight:{path}", binary=True)  # the file's values, before presence


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_values_at_the_limit_are_kept_exactly_without_warnings(tmp_path, kind):
    a = [MAX_FEATURE_VALUE, -MAX_FEATURE_VALUE, 0.0, 7.0]
    name = _table(kind, tmp_path / f"data.{kind}", {"a": a, "label": [0, 1] * 2})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        data = load_dataset(name)
    assert data.X.toarray()[:, 0].tolist() == a


@pytest.mark.parametrize("kind", ["csv", "parquet"])
def test_infinite_labels(tmp_path, kind):
    # Before: inf became a third class (perceptron: "binary but ... 3 classes").
    name = _table(kind, tmp_path / f"data.{kind}", {"a": [1, 2, 3], "label": [0, 1, np.inf]})
    with pytest.raises(DatasetError, match=r"has infinite or NaN labels \(column 'label'\)"):
        load_dataset(name)
