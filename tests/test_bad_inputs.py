"""The catalogue of bad inputs in tests/bad_inputs/: each gives one clear error line.

Every `tests/bad_inputs/*.toml` starts with `# expect: TEXT`, a part of the message that
names the bad key or file, and may give `# args: ...`, extra command-line arguments.
`decai run CASE --out TMP` must exit with status 2, print exactly one line
`decai: error: ...` holding TEXT on stderr (no traceback), and write nothing. Data paths in
the cases are relative to the repository root, where these tests run.
"""

import json
import shlex
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sim import cli

ROOT = Path(__file__).resolve().parents[1]
CASES_DIR = ROOT / "tests" / "bad_inputs"
CASES = sorted(CASES_DIR.glob("*.toml"))


def _header(case: Path, field: str) -> str:
    for line in case.read_text().splitlines():
        if line.startswith(f"# {field}:"):
            return line.split(":", 1)[1].strip()
    return ""


def _params():
    for case in CASES:
        yield pytest.param(case, id=case.stem)


@pytest.fixture(autouse=True)
def _at_root(monkeypatch):
    monkeypatch.chdir(ROOT)


def _assert_one_error_line(status: int, stderr: str, expected: str) -> None:
    assert "Traceback" not in stderr
    assert status == 2, stderr
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("decai: error: "), stderr
    assert expected in lines[0], f"{expected!r} not in {lines[0]!r}"


def _assert_nothing_written(out: Path) -> None:
    assert not out.exists() or not any(out.iterdir()), sorted(out.rglob("*"))


def test_catalogue_is_complete():
    assert len(CASES) >= 25
    for case in CASES:
        assert _header(case, "expect"), f"{case.name} has no '# expect:' line"


@pytest.mark.parametrize("case", list(_params()))
def test_run_bad_input(case, tmp_path, capsys):
    out = tmp_path / "out"
    args = shlex.split(_header(case, "args"))
    path = str(case.relative_to(ROOT))
    status = cli.main(["run", path, "--out", str(out), "--quiet", *args])
    err = capsys.readouterr().err
    _assert_one_error_line(status, err, _header(case, "expect"))
    # It names the config file, or else the option or option value to blame.
    blamed = [path, "--set", *args]
    assert any(err.startswith(f"decai: error: {name}") for name in blamed), err
    _assert_nothing_written(out)


@pytest.mark.parametrize(
    "name",
    ["unknown_key_mechanism", "take_shorter_than_refund", "missing_csv", "csv_non_numeric"],
)
def test_validate_bad_input(name, capsys):
    case = CASES_DIR / f"{name}.toml"
    status = cli.main(["validate", str(case.relative_to(ROOT))])
    captured = capsys.readouterr()
    assert captured.out == ""
    _assert_one_error_line(status, captured.err, _header(case, "expect"))


@pytest.mark.parametrize("name", ["unknown_key_agents", "name_escape_dotdot"])
def test_console_script(name, tmp_path):
    case = CASES_DIR / f"{name}.toml"
    decai = Path(sys.executable).with_name("decai")
    out = tmp_path / "out"
    done = subprocess.run(
        [str(decai), "run", str(case.relative_to(ROOT)), "--out", str(out)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    _assert_one_error_line(done.returncode, done.stderr, _header(case, "expect"))
    assert done.stdout == ""
    _assert_nothing_written(out)
    assert not (ROOT / "x").exists() and not (tmp_path / "x").exists()


def _not_results(tmp_path: Path, kind: str) -> Path:
    """A path that is not a results folder, made as `kind` says."""
    path = tmp_path / kind
    config = (CASES_DIR / "set_unknown_key.toml").read_text()
    if kind == "missing":
        return path
    if kind == "a_file":
        path.write_text("not a folder\n")
        return path
    path.mkdir()
    if kind == "bad_json":
        (path / "config.toml").write_text(config)
        (path / "manifest.json").write_text("{not json")
    elif kind == "bad_config":
        (path / "config.toml").write_text("x\n")
        (path / "manifest.json").write_text("{}")
    elif kind == "other_points":
        (path / "config.toml").write_text(config)
        (path / "manifest.json").write_text(json.dumps({"points": [{"a": 1}]}))
    elif kind == "manifest_list":
        (path / "config.toml").write_text(config)
        (path / "manifest.json").write_text("[1, 2]")
    elif kind == "manifest_list_all_files":
        (path / "config.toml").write_text(config)
        (path / "manifest.json").write_text("[]")
        for name in ("summary.csv", "timeseries.parquet", "agents.parquet"):
            (path / name).write_text("junk\n")
    elif kind in ("finished_junk_tables", "finished_other_tables"):
        (path / "config.toml").write_text(config)
        (path / "manifest.json").write_text(json.dumps({"finished": 1.0, "runs": []}))
        other = pd.DataFrame({"a": [1, 2]})
        other.to_csv(path / "summary.csv", index=False)
        for name in ("timeseries.parquet", "agents.parquet"):
            if kind == "finished_junk_tables":
                (path / name).write_bytes(b"PAR1" + b"\xff" * 64 + b"PAR1")
            else:
                other.to_parquet(path / name)
    return path


NOT_RESULTS = [
    ("missing", "not a results folder"),
    ("empty", "not a results folder"),
    ("a_file", "not a results folder"),
    ("bad_json", "cannot read results"),
    ("bad_config", "config.toml"),
    ("other_points", "config.toml does not give the sweep points"),
    ("manifest_list", "manifest.json"),
]


@pytest.mark.parametrize(
    ("kind", "expected"),
    [pytest.param(kind, expected, id=kind) for kind, expected in NOT_RESULTS],
)
def test_resume_not_a_results_folder(kind, expected, tmp_path, capsys):
    path = _not_results(tmp_path, kind)
    before = sorted(tmp_path.rglob("*"))
    status = cli.main(["run", "--resume", str(path), "--quiet"])
    err = capsys.readouterr().err
    _assert_one_error_line(status, err, expected)
    assert str(path) in err
    assert sorted(tmp_path.rglob("*")) == before


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("missing", "not a results folder"),
        ("empty", "not a results folder"),
        ("a_file", "not a results folder"),
        ("bad_json", "not a results folder"),
        pytest.param("manifest_list_all_files", "manifest.json", id="manifest_list"),
        ("finished_junk_tables", "cannot read results"),
        ("finished_other_tables", "summary.csv: not a results table (no point, replicate,"),
    ],
)
def test_plot_not_a_results_folder(kind, expected, tmp_path, capsys):
    path = _not_results(tmp_path, kind)
    before = sorted(tmp_path.rglob("*"))
    status = cli.main(["plot", str(path)])
    err = capsys.readouterr().err
    _assert_one_error_line(status, err, expected)
    assert str(path) in err
    assert sorted(tmp_path.rglob("*")) == before


def test_resume_with_a_file_is_a_usage_error(tmp_path, capsys):
    case = CASES_DIR / "unknown_key_top.toml"
    status = cli.main(["run", str(case), "--resume", str(tmp_path)])
    _assert_one_error_line(status, capsys.readouterr().err, "--resume")
    assert not any(tmp_path.iterdir())
