"""The results folder of one run of a config: its files, written durably, and reading it back.

    <out>/<name>/<timestamp>/
      config.toml  manifest.json    written first; the manifest is rewritten after each run
      runs/p<point>-r<replicate>/   each run's own part, written as soon as it finishes:
        timeseries.parquet  agents.parquet  leaderboard.parquet  summary.json (last)
      summary.csv  timeseries.parquet  agents.parquet  leaderboard.csv  plots/
                                    assembled from the parts, sorted by (point, replicate),
                                    once no run is left to do

Every file is written under a temporary name and renamed, so a crash or Ctrl-C leaves
whole files or none, and `decai run --resume` can tell which runs are done. The manifest's
`finished` is set last: until then the folder is unfinished and `load_results` says so.

The manifest records what the runs were made from (sim.provenance), and each part says
which run it is: a resume finds them unchanged or refuses, so a folder never mixes the runs
of two experiments.
"""

import json
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
from filelock import lock_descriptor

from sim.params import first_line

TABLES = {"summary": "summary.csv", "timeseries": "timeseries.parquet", "agents": "agents.parquet"}
FILES = ("config.toml", "manifest.json", *TABLES.values())
FRAMES = ("timeseries", "agents", "leaderboard")
"""The tables of a run's part, each a parquet file beside the part's summary.json."""
COLUMNS = {
    "summary": ("point", "replicate", "final_accuracy", "full_data_accuracy"),
    "timeseries": ("point", "replicate", "time_days", "metric", "value"),
    "agents": ("point", "replicate", "time_days", "agent", "kind", "balance", "points"),
    "leaderboard": (),
}
"""Columns each table must have to be assembled and plotted: a file without them is damaged."""


def missing_columns(name: str, table: pd.DataFrame) -> list[str]:
    return [column for column in COLUMNS[name] if column not in table.columns]


class ResultsError(ValueError):
    """A folder that is not a complete results folder."""


@dataclass
class Run:
    """One (point, replicate): its summary row and tables keyed by point and replicate, or
    the error it raised. What a worker sends back, and what a part folder holds."""

    point: int
    replicate: int
    seconds: float
    summary: dict | None = None
    mechanism: dict | None = None
    timeseries: pd.DataFrame | None = None
    agents: pd.DataFrame | None = None
    leaderboard: pd.DataFrame | None = None
    error: str | None = None
    traceback: str | None = None

    def entry(self) -> dict:
        """The run's line in the manifest."""
        entry = {"point": self.point, "replicate": self.replicate}
        if self.error is None:
            return entry | {"status": "done", "seconds": self.seconds, "mechanism": self.mechanism}
        return entry | {
            "status": "failed",
            "seconds": self.seconds,
            "error": self.error,
            "traceback": self.traceback,
        }


def refuse_links(path: Path) -> None:
    """Refuse a results folder holding a symlink: writing through it (a `runs/`, a part or
    `plots/` that links elsewhere) would write outside the folder."""
    for folder, subfolders, files in os.walk(path):
        for name in sorted([*subfolders, *files]):
            if (Path(folder) / name).is_symlink():
                raise ResultsError(
                    f"{Path(folder) / name}: a symlink in a results folder (it would be "
                    "written through, outside the folder); replace it by what it links to"
                )


def new_results_dir(out: Path, name: str) -> Path:
    """A fresh `<out>/<name>/<UTC timestamp>` path (not yet created)."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H-%M-%SZ")
    path = out / name / stamp
    suffix = 1
    while path.exists():
        suffix += 1
        path = out / name / f"{stamp}-{suffix}"
    return path


# --- writing, one file at a time ----------------------------------------------------------


def _atomic(target: Path, write: Callable[[Path], object]) -> None:
    """`write(temporary path)`, then rename it to `target`: whole or not there at all."""
    temporary = target.with_name(f".{target.name}.tmp")
    try:
        write(temporary)
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)


def _json(value) -> str:
    def plain(item):  # numpy scalars (from the mechanisms' and kinds' figures)
        if isinstance(item, np.generic):
            return item.item()
        raise TypeError(f"{type(item).__name__} is not JSON serializable")

    return json.dumps(value, indent=2, default=plain) + "\n"


def write_text(target: Path, text: str) -> None:
    _atomic(target, lambda temporary: temporary.write_text(text))


def write_manifest(path: Path, manifest: dict) -> None:
    write_text(path / "manifest.json", _json(manifest))


def start_results(path: Path, config_toml: str, manifest: dict) -> None:
    """Create the folder with its config.toml and first manifest (every run pending): all of
    it, or nothing (a full disk or a file-size limit removes what it made, and the folders
    above it it made, if empty)."""
    made = [folder for folder in (path, *path.parents) if not folder.exists()]
    try:
        (path / "runs").mkdir(parents=True)
        write_text(path / "config.toml", config_toml)
        write_manifest(path, manifest)
    except BaseException:
        shutil.rmtree(path, ignore_errors=True)
        for folder in made[1:]:
            try:
                folder.rmdir()
            except OSError:  # not empty: another run's folder, made meanwhile
                break
        raise


@contextmanager
def held(path: Path) -> Iterator[None]:
    """Hold the results folder while a sweep writes it: a `--resume` of a folder another
    process is still writing would mix two writers' files. The lock (flock on the folder)
    goes with its process, however it ends, so a killed sweep can be resumed at once.

    Where there is no such lock, the sweep goes on unguarded rather than not at all: a file
    system without locks, or Windows, which cannot open a folder as a file to lock it."""
    if os.name != "posix":
        yield
        return
    folder = os.open(path, os.O_RDONLY)
    try:
        try:
            busy = not lock_descriptor(folder, blocking=False)
        except OSError:  # a file system without locks
            busy = False
        if busy:
            raise ResultsError(
                f"{path}: another decai process is writing this folder; let it finish "
                "(or stop it) first"
            )
        yield
    finally:
        os.close(folder)


def remove_temporaries(path: Path) -> None:
    """Delete the half-written temporary files (and staging folder) a killed run left."""
    for stale in sorted(path.rglob(".*.tmp"), reverse=True):
        if stale.is_dir():
            shutil.rmtree(stale)
        else:
            stale.unlink()


def part_dir(path: Path, point: int, replicate: int) -> Path:
    return path / "runs" / f"p{point}-r{replicate}"


def write_part(path: Path, run: Run) -> None:
    """A finished run's tables, then its summary.json: the part is complete once that exists."""
    folder = part_dir(path, run.point, run.replicate)
    folder.mkdir(parents=True, exist_ok=True)
    for name in FRAMES:
        _atomic(folder / f"{name}.parquet", getattr(run, name).to_parquet)
    meta = {
        "point": run.point,
        "replicate": run.replicate,
        "seconds": run.seconds,
        "mechanism": run.mechanism,
        "summary": run.summary,
    }
    write_text(folder / "summary.json", _json(meta))


def read_part(path: Path, point: int, replicate: int, expect: dict | None = None) -> Run | None:
    """The run's part as written, or None if it is missing, truncated or corrupt.

    A part that reads cleanly but is not this run (its summary.json's point, replicate, or
    the values of `expect`: the seed and swept values; its tables' point and replicate) was
    edited or comes from another run or experiment: ResultsError names it, rather than
    redo it (hiding the edit) or keep it (mixing two experiments)."""
    folder = part_dir(path, point, replicate)
    expected = {"point": point, "replicate": replicate, **(expect or {})}
    try:
        meta = json.loads((folder / "summary.json").read_text())
        frames = {name: pd.read_parquet(folder / f"{name}.parquet") for name in FRAMES}
        run = Run(point, replicate, meta["seconds"], meta["summary"], meta["mechanism"], **frames)
        found = [(key, meta[key]) for key in ("point", "replicate")]
        found += [(key, run.summary[key]) for key in expected]
        if any(missing_columns(name, frame) for name, frame in frames.items()):
            return None
    except Exception:  # whatever reading a damaged file raises: the run is redone
        return None
    for key, value in found:
        if not _same(value, expected[key]):
            raise ResultsError(
                f"{folder}: not the part of this run ({key} {value!r} in its summary.json, "
                f"{expected[key]!r} expected): edited, or from another run; delete it to run "
                "it again"
            )
    for name, frame in frames.items():
        for key in ("point", "replicate"):
            if key in frame.columns and not (frame[key] == expected[key]).all():
                raise ResultsError(
                    f"{folder / name}.parquet: rows of another run ({key} other than "
                    f"{expected[key]}): edited, or from another run; delete the part to run "
                    "it again"
                )
    return run


def _same(value, expected) -> bool:
    """Equal, NaN counting as equal to NaN (a swept value may be nan)."""
    return value == expected or (value != value and expected != expected)


def write_final(
    path: Path, manifest: dict, runs: list[Run], draw_plots: Callable[..., object]
) -> None:
    """Assemble the finished runs' parts into the final tables and plots; mark it finished.

    The plots are drawn by `draw_plots(folder, manifest, summary, timeseries, agents)` into
    `folder/plots` (plotting is a layer above this one: sim.results). Everything is written
    in a hidden folder and moved in at the end, so the final files are whole ones, and the
    same for every executor, since `runs` are in (point, replicate) order.
    """
    summary = pd.DataFrame([run.summary for run in runs])
    tables = {name: _tidy([getattr(run, name) for run in runs]) for name in FRAMES}
    stage = path / ".final.tmp"
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir()
    try:
        summary.to_csv(stage / "summary.csv", index=False)
        tables["timeseries"].to_parquet(stage / "timeseries.parquet", index=False)
        tables["agents"].to_parquet(stage / "agents.parquet", index=False)
        if not tables["leaderboard"].empty:
            tables["leaderboard"].to_csv(stage / "leaderboard.csv", index=False)
        draw_plots(stage, manifest, summary, tables["timeseries"], tables["agents"])
        if (path / "plots").exists():  # from an earlier assembly: replaced as a whole
            (path / "plots").rename(stage / "old-plots")
        (stage / "plots").rename(path / "plots")
        (path / "leaderboard.csv").unlink(missing_ok=True)
        for name in ("leaderboard.csv", "agents.parquet", "timeseries.parquet", "summary.csv"):
            if (stage / name).exists():
                os.replace(stage / name, path / name)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    manifest["finished"] = time.time()
    write_manifest(path, manifest)


def _tidy(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """Concatenate runs with `point, replicate` first (empty tables are left out)."""
    frames = [frame for frame in frames if not frame.empty] or frames[:1]
    tidy = pd.concat(frames, ignore_index=True)
    return tidy[["point", "replicate", *tidy.columns.drop(["point", "replicate"])]]


# --- reading --------------------------------------------------------------------------------


def open_results(path: Path) -> tuple[str, dict]:
    """(config.toml text, manifest) of a results folder, finished or not."""
    missing = [name for name in FILES[:2] if not (path / name).is_file()]
    if missing:
        raise ResultsError(f"{path}: not a results folder (missing {', '.join(missing)})")
    try:
        config, manifest = (
            (path / "config.toml").read_text(),
            json.loads((path / "manifest.json").read_text()),
        )
    except (OSError, ValueError) as error:
        raise ResultsError(f"{path}: cannot read results: {first_line(error)}") from None
    if not isinstance(manifest, dict):
        raise ResultsError(f"{path}: manifest.json is not a results manifest (not an object)")
    keys = manifest.get("swept_keys", [])
    if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
        raise ResultsError(f"{path}: manifest.json: swept_keys is not a list of config keys")
    return config, manifest


def read_finished(path: Path) -> tuple[str, dict, dict[str, pd.DataFrame]]:
    """(config.toml text, manifest, tables by name) of a finished results folder, each
    table checked for the columns it must have."""
    resume = f"; finish it with: decai run --resume {path}"
    missing = [name for name in FILES if not (path / name).is_file()]
    if missing:
        unfinished = (path / "runs").is_dir() and (path / "manifest.json").is_file()
        raise ResultsError(
            f"{path}: {'unfinished' if unfinished else 'not a'} results folder "
            f"(missing {', '.join(missing)}){resume if unfinished else ''}"
        )
    config, manifest = open_results(path)
    if manifest.get("finished") is None:
        raise ResultsError(f"{path}: unfinished results folder (being resumed?){resume}")
    files = dict(TABLES)
    if (path / "leaderboard.csv").is_file():
        files["leaderboard"] = "leaderboard.csv"
    try:
        tables = {name: _read_table(path / file) for name, file in files.items()}
    except (OSError, ValueError) as error:
        raise ResultsError(f"{path}: cannot read results: {first_line(error)}") from None
    for name, table in tables.items():
        if missing := missing_columns(name, table):
            missing = ", ".join(missing)
            raise ResultsError(f"{path / files[name]}: not a results table (no {missing})")
    return config, manifest, tables


def _read_table(file: Path) -> pd.DataFrame:
    return pd.read_csv(file) if file.suffix == ".csv" else pd.read_parquet(file)
