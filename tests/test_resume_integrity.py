"""`--resume` cannot mix results, and nothing writes outside a results folder.

Each test runs a tiny experiment with `run_experiment` into a real folder, damages it as a
careless user could (edits config.toml, a run part or a data file, resumes from another
working directory, puts a symlink in it) and checks that `--resume` or `decai plot` refuses
in one line naming what changed, or, where the folder is sound, finishes it exactly.
"""

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import SMALL_TOML, SWEEP

import sim
from sim.cli import main
from sim.experiment import Experiment
from sim.results_folder import part_dir
from sim.runner import run_experiment

ROOT = Path(__file__).resolve().parent.parent


def one_error_line(capsys) -> str:
    captured = capsys.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("decai: error: "), captured.err
    assert "Traceback" not in captured.err
    return lines[0]


def copy_of(folder: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "copy" / folder.name
    shutil.copytree(folder, copy, symlinks=True)
    return copy


def summary_json(folder: Path, point: int, replicate: int) -> tuple[Path, dict]:
    file = part_dir(folder, point, replicate) / "summary.json"
    return file, json.loads(file.read_text())


def sha256(file: Path) -> str:
    return hashlib.sha256(file.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    """The small 2-point x 2-replicate sweep on synthetic data, run to the end."""
    config = tmp_path_factory.mktemp("config") / "small.toml"
    config.write_text(SMALL_TOML + SWEEP)
    return run_experiment(Experiment.from_file(config), tmp_path_factory.mktemp("out")).path


# --- data files: two points, each its own CSV, named relative to the working directory ------


def write_csv(file: Path, seed: int) -> None:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(300, 6))
    label = (X[:, 0] + X[:, 1] > 0).astype(int)
    pd.DataFrame(X, columns=[f"x{i}" for i in range(6)]).assign(label=label).to_csv(
        file, index=False
    )


CSV_TOML = SMALL_TOML.replace('dataset = "synthetic"', 'dataset = "csv:a.csv"').replace(
    "n_samples = 400\nn_features = 20\nbinary = true\n", ""
).replace("replicates = 2", "replicates = 1") + (
    '\n[sweep]\n"data.dataset" = ["csv:a.csv", "csv:b.csv"]\n'
)


@pytest.fixture
def csv_run(tmp_path, monkeypatch) -> Path:
    """The CSV sweep run from `tmp_path/start` (its data there), finished."""
    start = tmp_path / "start"
    start.mkdir()
    write_csv(start / "a.csv", 1)
    write_csv(start / "b.csv", 2)
    (start / "csv.toml").write_text(CSV_TOML)
    monkeypatch.chdir(start)
    return run_experiment(Experiment.from_file("csv.toml"), tmp_path / "out").path


# --- 1. the manifest's fingerprint, and config.toml or a data file changed -------------------


def test_the_manifest_records_the_config_and_each_data_file(csv_run):
    manifest = json.loads((csv_run / "manifest.json").read_text())
    assert manifest["config_sha256"] == sha256(csv_run / "config.toml")
    start = csv_run.parent.parent.parent / "start"
    assert manifest["data_files"] == {
        f"csv:{name}": {"path": str(start / name), "sha256": sha256(start / name)}
        for name in ("a.csv", "b.csv")
    }


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("seed = 3", "seed = 4"),
        ("cost_weight = 1", "cost_weight = 2"),
        ("replicates = 2", "replicates = 1"),
    ],
)
def test_resume_refuses_an_edited_config(tmp_path, finished, capsys, old, new):
    folder = copy_of(finished, tmp_path)
    shutil.rmtree(part_dir(folder, 1, 0))
    config = folder / "config.toml"
    assert old in config.read_text()
    config.write_text(config.read_text().replace(old, new))
    before = sorted(folder.rglob("*"))
    assert main(["run", "--resume", str(folder)]) == 2
    assert "config.toml changed since the run started (sha256 " in one_error_line(capsys)
    assert sorted(folder.rglob("*")) == before


def test_resume_refuses_a_data_file_changed_in_place(csv_run, capsys):
    shutil.rmtree(part_dir(csv_run, 0, 0))
    data = Path("b.csv").resolve()  # the second point's file
    write_csv(data, 3)
    assert main(["run", "--resume", str(csv_run)]) == 2
    assert f"data file {data} changed since the run started" in one_error_line(capsys)
    assert not part_dir(csv_run, 0, 0).exists()


def test_resume_reads_the_data_the_run_started_with_from_any_directory(
    tmp_path, csv_run, monkeypatch, capsys
):
    """`csv:a.csv` is the file in the directory the run started from, wherever resumed."""
    expected = (csv_run / "summary.csv").read_bytes()
    shutil.rmtree(part_dir(csv_run, 0, 0))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    write_csv(elsewhere / "a.csv", 4)  # other files of these names here: not the run's data
    write_csv(elsewhere / "b.csv", 5)
    monkeypatch.chdir(elsewhere)
    assert main(["run", "--resume", str(csv_run), "--quiet"]) == 0
    assert (csv_run / "summary.csv").read_bytes() == expected
    assert json.loads((csv_run / "manifest.json").read_text())["finished"] is not None


def test_resume_refuses_a_manifest_without_a_fingerprint(tmp_path, finished, capsys):
    """A folder whose manifest records no config.toml hash cannot be checked: refused."""
    folder = copy_of(finished, tmp_path)
    shutil.rmtree(part_dir(folder, 1, 0))
    manifest = json.loads((folder / "manifest.json").read_text())
    for key in ("config_sha256", "data_files"):
        manifest.pop(key, None)
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert main(["run", "--resume", str(folder)]) == 2
    assert "config_sha256" in one_error_line(capsys)


# --- 2. run parts checked against the manifest ---------------------------------------------


def edit_seed(meta: dict) -> None:
    meta["summary"]["seed"] = 99


def edit_point_value(meta: dict) -> None:
    meta["summary"]["mechanism.refund_window_days"] = 7


def edit_table(folder: Path) -> None:
    file = part_dir(folder, 0, 1) / "timeseries.parquet"
    pd.read_parquet(file).assign(point=1).to_parquet(file)


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (edit_seed, "seed"),
        (edit_point_value, "mechanism.refund_window_days"),
        (edit_table, "point"),
    ],
)
def test_resume_refuses_a_part_of_another_experiment(tmp_path, finished, capsys, edit, named):
    folder = copy_of(finished, tmp_path)
    shutil.rmtree(part_dir(folder, 1, 0))
    if edit is edit_table:
        edit(folder)
    else:
        file, meta = summary_json(folder, 0, 1)
        edit(meta)
        file.write_text(json.dumps(meta))
    assert main(["run", "--resume", str(folder)]) == 2
    line = one_error_line(capsys)
    assert str(part_dir(folder, 0, 1)) in line and named in line
    assert not part_dir(folder, 1, 0).exists()


def test_resume_refuses_a_part_copied_from_another_run(tmp_path, finished, capsys):
    """p0-r1's part put in place of p1-r0's: it reads cleanly, but it is not that run."""
    folder = copy_of(finished, tmp_path)
    shutil.rmtree(part_dir(folder, 1, 0))
    shutil.copytree(part_dir(folder, 0, 1), part_dir(folder, 1, 0))
    assert main(["run", "--resume", str(folder)]) == 2
    assert str(part_dir(folder, 1, 0)) in one_error_line(capsys)


def test_a_damaged_part_is_still_redone(tmp_path, finished, capsys):
    folder = copy_of(finished, tmp_path)
    expected = (folder / "summary.csv").read_bytes()
    (part_dir(folder, 1, 0) / "agents.parquet").write_bytes(b"PAR1 truncated")
    file = part_dir(folder, 0, 1) / "timeseries.parquet"
    pd.read_parquet(file).drop(columns="value").to_parquet(file)
    assert main(["run", "--resume", str(folder), "--quiet"]) == 0
    assert (folder / "summary.csv").read_bytes() == expected


# --- 3. symlinks --------------------------------------------------------------------------


def link_out(folder: Path, name: str, outside: Path) -> Path:
    """Replace `folder/name` by a symlink to a copy of it in `outside`."""
    target = outside / name.replace("/", "_")
    shutil.copytree(folder / name, target)
    shutil.rmtree(folder / name)
    (folder / name).symlink_to(target)
    return target


def test_plot_refuses_a_plots_symlink(tmp_path, finished, capsys):
    folder = copy_of(finished, tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    target = link_out(folder, "plots", outside)
    shutil.rmtree(target)
    target.mkdir()
    assert main(["plot", str(folder)]) == 2
    assert str(folder / "plots") in one_error_line(capsys)
    assert list(target.iterdir()) == []


@pytest.mark.parametrize("name", ["runs", "runs/p0-r1", "plots"])
def test_resume_refuses_a_symlink(tmp_path, finished, capsys, name):
    folder = copy_of(finished, tmp_path)
    outside = tmp_path / "outside"
    outside.mkdir()
    target = link_out(folder, name, outside)
    if name == "plots":
        shutil.rmtree(part_dir(folder, 0, 1))
    else:
        shutil.rmtree(target / ("p0-r1" if name == "runs" else ""), ignore_errors=True)
        target.mkdir(exist_ok=True)
    before = sorted(outside.rglob("*"))
    assert main(["run", "--resume", str(folder)]) == 2
    assert f"{folder / name}: a symlink" in one_error_line(capsys)
    assert sorted(outside.rglob("*")) == before


# --- 4. smaller ones ------------------------------------------------------------------------


def test_an_empty_out_is_refused(tmp_path, monkeypatch, capsys):
    config = tmp_path / "small.toml"
    config.write_text(SMALL_TOML)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    assert main(["run", str(config), "--out", ""]) == 2
    assert "--out" in one_error_line(capsys)
    assert list(work.iterdir()) == []
    with pytest.raises(ValueError, match="out"):
        sim.run(config, out="")
    assert list(work.iterdir()) == []


def test_a_file_size_limit_leaves_no_folder(tmp_path):
    """`ulimit -f 0`: writing config.toml fails (EFBIG, as Python ignores SIGXFSZ)."""
    config = tmp_path / "small.toml"
    config.write_text(SMALL_TOML)
    out = tmp_path / "out"
    command = f'ulimit -f 0; exec "{sys.executable}" -m sim.cli run "{config}" --out "{out}"'
    done = subprocess.run(
        ["bash", "-c", command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr  # (joblib warns it cannot make its semaphore file)
    last = done.stderr.splitlines()[-1]
    assert last.startswith("decai: error: ") and "File too large" in last, done.stderr
    assert not out.exists() or list(out.rglob("*")) == []


@pytest.mark.parametrize("jobs", [0, -4])
def test_sim_run_refuses_jobs_below_one(tmp_path, jobs):
    with pytest.raises(ValueError, match="jobs"):
        sim.run(tomllib.loads(SMALL_TOML), out=tmp_path / "out", jobs=jobs)
    assert not (tmp_path / "out").exists()


def test_sim_run_refuses_an_object_that_is_not_an_executor(tmp_path):
    with pytest.raises(TypeError, match="executor"):
        sim.run(tomllib.loads(SMALL_TOML), out=tmp_path / "out", executor=object())
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("keys", [[1], [None], [["a"]], "mechanism.kind", {"a": 1}])
def test_plot_refuses_swept_keys_that_are_not_names(tmp_path, finished, capsys, keys):
    folder = copy_of(finished, tmp_path)
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["swept_keys"] = keys
    (folder / "manifest.json").write_text(json.dumps(manifest))
    assert main(["plot", str(folder)]) == 2
    assert "swept_keys" in one_error_line(capsys)
