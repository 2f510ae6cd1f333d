"""Configs and results are data only: TOML, CSV, Parquet and JSON; nothing is unpickled or
evaluated from them.

Proven three ways:

1. Statically: no module of `sim`, `agents` or `mechanisms` imports a deserializer that can
   run code (pickle, marshal, shelve, dill, cloudpickle, joblib, yaml, runpy), or calls eval,
   exec, compile, __import__, read_pickle, numpy.load, pandas' string evaluators, or
   importlib.import_module on anything but a constant string. The exceptions are in
   sim/registry.py: `load_plugins` imports the modules that `pkgutil` lists in the
   project's own packages, and `import_plugin` the modules a config names under `plugins`,
   by design the one way a config runs code (a config without that key runs none).
   The checker is itself tested on snippets, so it cannot pass by checking nothing.
2. Dynamically: a Parquet file whose field metadata declares pyarrow's legacy pickled
   extension type (`arrow.py_extension_type`), with a pickle that touches a sentinel file
   when unpickled (checked: unpickling the bytes stored in the file does touch it). Used as
   a user dataset, as a results folder's tables and as a run's part, it is read as plain
   data or refused like any other bad input (a one-line error, the part is redone), and
   the sentinel never appears.
3. End to end: `decai run` (in-process, no --jobs), `decai plot` and `load_results` succeed
   with pickle's loaders, eval, exec and compile replaced by functions that record the
   call and raise. (`--jobs` sends runs between the project's own processes with pickle,
   which is not reading a config or a result, so it is out of scope here.)
"""

import ast
import builtins
import contextlib
import io
import json
import pathlib
import pickle
import shutil
import traceback
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from sim.cli import main
from sim.datasets import DatasetError, load_dataset
from sim.results import load_results
from sim.results_folder import ResultsError

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("sim", "agents", "mechanisms")

# --- 1. the package source --------------------------------------------------------------

FORBIDDEN_MODULES = {
    "pickle",
    "_pickle",
    "marshal",
    "shelve",
    "dill",
    "cloudpickle",
    "joblib",
    "yaml",
    "runpy",
}
FORBIDDEN_BUILTINS = {"eval", "exec", "compile", "__import__"}
"""Forbidden as bare calls or as `builtins.NAME(...)`; `re.compile(...)` is fine."""
FORBIDDEN_METHODS = {"read_pickle", "eval", "query"}
"""Forbidden as `anything.NAME(...)`: pandas' read_pickle, pd.eval / DataFrame.eval / .query
(which evaluate strings)."""
NUMPY_NAMES = {"np", "numpy"}
"""`np.load(...)` unpickles object arrays when asked to; the project has no use for it."""
PLUGIN_LOADER = ("sim/registry.py", "load_plugins")
"""A function allowed to import the project's own modules by name; see `_plugin_names`."""
PLUGIN_IMPORTER = ("sim/registry.py", "import_plugin")
"""The function that imports what a config's `plugins` key names: any name."""


def _top(module: str | None) -> str:
    return (module or "").split(".")[0]


def _plugin_names(function: ast.FunctionDef) -> set[str]:
    """Loop variables of `load_plugins` that can only hold the project's own module names:
    `for NAME in ("pkg", ...)` (a tuple of string constants) and
    `for NAME in pkgutil.iter_modules(...)` (the modules of a package's own folder)."""
    names = set()
    for node in ast.walk(function):
        if not (isinstance(node, ast.For) and isinstance(node.target, ast.Name)):
            continue
        loop = node.iter
        constants = isinstance(loop, ast.Tuple) and all(
            isinstance(item, ast.Constant) and isinstance(item.value, str) for item in loop.elts
        )
        iter_modules = (
            isinstance(loop, ast.Call)
            and isinstance(loop.func, ast.Attribute)
            and loop.func.attr == "iter_modules"
            and isinstance(loop.func.value, ast.Name)
            and loop.func.value.id == "pkgutil"
        )
        if constants or iter_modules:
            names.add(node.target.id)
    return names


def _allowed_module_name(node: ast.expr, plugin_names: set[str]) -> bool:
    """A constant string anywhere; in `load_plugins` also a plugin loop variable, its `.name`,
    or an f-string made of those and constants."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str)
    if isinstance(node, ast.Name):
        return node.id in plugin_names
    if isinstance(node, ast.Attribute):
        return node.attr == "name" and _allowed_module_name(node.value, plugin_names)
    if isinstance(node, ast.FormattedValue):
        return node.format_spec is None and _allowed_module_name(node.value, plugin_names)
    if isinstance(node, ast.JoinedStr):
        return all(_allowed_module_name(part, plugin_names) for part in node.values)
    return False


class _Checker(ast.NodeVisitor):
    def __init__(self, filename: str):
        self.filename = filename
        self.problems: list[str] = []
        self.plugin_names: set[str] = set()
        self.any_name = False

    def problem(self, node: ast.AST, what: str) -> None:
        self.problems.append(f"{self.filename}:{node.lineno}: {what}")

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        outer = self.plugin_names, self.any_name
        if (self.filename, node.name) == PLUGIN_LOADER:
            self.plugin_names = _plugin_names(node)
        self.any_name = (self.filename, node.name) == PLUGIN_IMPORTER
        self.generic_visit(node)
        self.plugin_names, self.any_name = outer

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            if _top(alias.name) in FORBIDDEN_MODULES:
                self.problem(node, f"import {alias.name}")

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        names = {alias.name for alias in node.names}
        if _top(node.module) in FORBIDDEN_MODULES:
            self.problem(node, f"from {node.module} import ...")
        elif names & (FORBIDDEN_BUILTINS | FORBIDDEN_METHODS | {"import_module"}) or (
            _top(node.module) in NUMPY_NAMES and "load" in names
        ):
            self.problem(node, f"from {node.module} import {', '.join(sorted(names))}")

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Name) and func.id in FORBIDDEN_BUILTINS:
            self.problem(node, f"call to {func.id}()")
        elif isinstance(func, ast.Attribute):
            owner = func.value.id if isinstance(func.value, ast.Name) else None
            if owner == "builtins" and func.attr in FORBIDDEN_BUILTINS:
                self.problem(node, f"call to builtins.{func.attr}()")
            elif func.attr in FORBIDDEN_METHODS:
                self.problem(node, f"call to .{func.attr}()")
            elif owner in NUMPY_NAMES and func.attr == "load":
                self.problem(node, f"call to {owner}.load()")
            elif func.attr == "import_module" and not self.any_name:
                given = node.args[0] if node.args else None
                if given is None or not _allowed_module_name(given, self.plugin_names):
                    self.problem(node, "import_module() of a computed name")
        self.generic_visit(node)


def source_problems(source: str, filename: str) -> list[str]:
    """`file:line: what` for every forbidden import or call in `source`."""
    checker = _Checker(filename)
    checker.visit(ast.parse(source, filename))
    return checker.problems


def package_sources() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def test_the_package_source_neither_unpickles_nor_evaluates():
    files = package_sources()
    names = {path.relative_to(ROOT).as_posix() for path in files}
    assert {f"{package}/__init__.py" for package in PACKAGES} <= names
    assert PLUGIN_LOADER[0] in names
    problems = [
        problem
        for path in files
        for problem in source_problems(path.read_text(), path.relative_to(ROOT).as_posix())
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    "source",
    [
        "import pickle",
        "import _pickle as p",
        "import xml, marshal",
        "import shelve",
        "from dill import loads",
        "import cloudpickle",
        "from joblib import load",
        "import yaml",
        "import runpy",
        "eval(text)",
        "exec(text)",
        "compile(text, 'f', 'exec')",
        "__import__(name)",
        "builtins.eval(text)",
        "pd.read_pickle(path)",
        "pandas.read_pickle(path)",
        "from pandas import read_pickle",
        "frame.eval('a + b')",
        "frame.query(text)",
        "np.load(path, allow_pickle=True)",
        "numpy.load(path)",
        "from numpy import load",
        "importlib.import_module(name)",
        "importlib.import_module(f'agents.{name}')",
        "importlib.import_module('agents.' + name)",
        "from importlib import import_module",
        # the plugin loader's pattern, outside load_plugins
        "for m in pkgutil.iter_modules(p):\n    importlib.import_module(f'agents.{m.name}')",
    ],
)
def test_the_source_check_catches_what_it_forbids(source):
    (problem,) = source_problems(source, "sim/example.py")
    assert problem.startswith(f"sim/example.py:{len(source.splitlines())}: ")


def test_the_source_check_allows_only_the_plugin_loader_pattern():
    registry = (ROOT / PLUGIN_LOADER[0]).read_text()
    assert "importlib.import_module(f" in registry, "load_plugins changed: update this test"
    assert source_problems(registry, PLUGIN_LOADER[0]) == []
    # The same file under another name (both functions' imports), or load_plugins' names
    # fed from elsewhere, is flagged.
    assert len(source_problems(registry, "sim/other.py")) == 3
    fed_from_config = registry.replace("pkgutil.iter_modules(package.__path__)", "config.names")
    assert fed_from_config != registry, "load_plugins changed: update this test"
    line = registry[: registry.index("importlib.import_module(f")].count("\n") + 1
    assert source_problems(fed_from_config, PLUGIN_LOADER[0]) == [
        f"{PLUGIN_LOADER[0]}:{line}: import_module() of a computed name"
    ]
    harmless = (
        "import re, json, importlib\nfrom json import load\n"
        "re.compile('x')\nimportlib.import_module('agents')\n"
    )
    assert source_problems(harmless, "sim/example.py") == []


# --- 2. files that carry a pickle -------------------------------------------------------


class TouchWhenUnpickled:
    """Unpickling this touches `sentinel`: stands in for any code an attacker would run."""

    def __init__(self, sentinel: Path):
        self.sentinel = sentinel

    def __reduce__(self):
        return (pathlib.Path.touch, (self.sentinel,))


@pytest.fixture
def sentinel(tmp_path) -> Path:
    return tmp_path / "payload-ran"


@pytest.fixture
def payload(sentinel) -> bytes:
    return pickle.dumps(TouchWhenUnpickled(sentinel))


def with_payload(table: pa.Table, payload: bytes) -> pa.Table:
    """`table` with every field declared as pyarrow's legacy pickled extension type.

    pyarrow < 15 unpickled `ARROW:extension:metadata` of an `arrow.py_extension_type` field
    on read (CVE-2023-47248); a safe reader leaves it as inert field metadata.
    """
    declared = {
        b"ARROW:extension:name": b"arrow.py_extension_type",
        b"ARROW:extension:metadata": payload,
    }
    fields = [field.with_metadata({**(field.metadata or {}), **declared}) for field in table.schema]
    return table.cast(pa.schema(fields, metadata=table.schema.metadata))


def add_payload(path: Path, payload: bytes) -> None:
    """Rewrite a Parquet file with the same data, and the payload on every field."""
    pq.write_table(with_payload(pq.read_table(path), payload), path)


def break_pages(path: Path) -> None:
    """Overwrite every data page, keeping the footer (and so the schema and its payload)."""
    data = bytearray(path.read_bytes())
    footer = int.from_bytes(data[-8:-4], "little")
    start = len(data) - 8 - footer
    data[4:start] = b"\xff" * (start - 4)
    path.write_bytes(bytes(data))


def carries_payload(path: Path, payload: bytes) -> bool:
    """Whether the file's schema (its footer, read before any data) holds the payload."""
    return all(
        (field.metadata or {}).get(b"ARROW:extension:metadata") == payload
        for field in pq.read_schema(path)
    )


def feature_table(rows: int = 60) -> pa.Table:
    """Two integer feature columns and a label, learnable enough for the small experiment."""
    return pa.table(
        {
            "x0": [i % 2 for i in range(rows)],
            "x1": [(i // 2) % 2 for i in range(rows)],
            "label": [i % 2 for i in range(rows)],
        }
    )


def test_the_payload_is_live(tmp_path, sentinel, payload):
    """The bytes these tests store do run code when unpickled, so the tests are not vacuous."""
    path = tmp_path / "data.parquet"
    pq.write_table(with_payload(feature_table(), payload), path)
    assert carries_payload(path, payload)
    stored = pq.read_schema(path).field("x0").metadata[b"ARROW:extension:metadata"]
    assert not sentinel.exists()
    pickle.loads(stored)
    assert sentinel.exists()


def test_a_dataset_file_with_a_pickle_payload_is_read_as_plain_data(tmp_path, sentinel, payload):
    path = tmp_path / "data.parquet"
    pq.write_table(with_payload(feature_table(), payload), path)
    assert carries_payload(path, payload)

    data = load_dataset(f"parquet:{path}")

    assert not sentinel.exists()
    plain = feature_table().to_pandas()
    assert data.X.toarray().tolist() == plain[["x0", "x1"]].to_numpy(dtype=float).tolist()
    assert data.y.tolist() == plain["label"].tolist()


DATASET_TOML = """\
[experiment]
name = "payload"
duration_days = 1
[data]
dataset = "parquet:{path}"
[[agents]]
name = "honest"
kind = "honest"
count = 1
"""


def test_a_dataset_column_of_pickled_objects_is_a_clear_error(tmp_path, sentinel, payload, capsys):
    """The legacy extension type stores its values as binary: a non-numeric feature column."""
    path = tmp_path / "data.parquet"
    pickled = pa.table({"x0": pa.array([payload] * 10, pa.binary()), "label": [0, 1] * 5})
    pq.write_table(with_payload(pickled, payload), path)
    assert carries_payload(path, payload)
    config = tmp_path / "payload.toml"
    config.write_text(DATASET_TOML.format(path=path))
    out = tmp_path / "results"

    with pytest.raises(DatasetError, match="feature column 'x0' is not numeric"):
        load_dataset(f"parquet:{path}")
    assert main(["run", str(config), "--out", str(out)]) == 2

    assert not sentinel.exists()
    assert capsys.readouterr().err == (
        f"decai: error: {config}: data.dataset: parquet file {path}: "
        "feature column 'x0' is not numeric (dtype object)\n"
    )
    assert not out.exists()


@pytest.fixture(scope="module")
def results_dir(tmp_path_factory, small_toml) -> Path:
    """A finished results folder of the small experiment (one replicate), to copy and spoil."""
    config = tmp_path_factory.mktemp("config") / "small.toml"
    config.write_text(small_toml)
    out = tmp_path_factory.mktemp("results")
    with contextlib.redirect_stdout(io.StringIO()):
        argv = ["run", str(config), "--out", str(out), "--set", "experiment.replicates=1"]
        assert main(argv) == 0
    (folder,) = (out / "small").iterdir()
    return folder


@pytest.fixture
def results_copy(tmp_path, results_dir) -> Path:
    return Path(shutil.copytree(results_dir, tmp_path / "results"))


PART = Path("runs", "p0-r0")


def test_results_files_with_a_pickle_payload_are_read_as_plain_data(
    results_dir, results_copy, sentinel, payload, capsys
):
    spoiled = [
        results_copy / "timeseries.parquet",
        results_copy / "agents.parquet",
        *(results_copy / PART).glob("*.parquet"),
    ]
    for path in spoiled:
        add_payload(path, payload)
        assert carries_payload(path, payload)
    part = results_copy / PART / "timeseries.parquet"
    part_bytes = part.read_bytes()

    results = load_results(results_copy)
    plot_status = main(["plot", str(results_copy)])
    resume_status = main(["run", "--resume", str(results_copy), "--quiet"])

    assert not sentinel.exists()
    original = load_results(results_dir)
    pd.testing.assert_frame_equal(results.timeseries, original.timeseries)
    pd.testing.assert_frame_equal(results.agents, original.agents)
    assert plot_status == 0
    assert resume_status == 0, capsys.readouterr().err
    assert part.read_bytes() == part_bytes  # the part read back as data: kept, not redone
    pd.testing.assert_frame_equal(load_results(results_copy).timeseries, original.timeseries)


def test_unreadable_results_files_with_a_pickle_payload_are_bad_input(
    results_dir, results_copy, sentinel, payload, capsys
):
    final, part = results_copy / "timeseries.parquet", results_copy / PART / "timeseries.parquet"
    for path in (final, part):
        add_payload(path, payload)
        break_pages(path)
        assert carries_payload(path, payload)

    with pytest.raises(ResultsError, match="cannot read results"):
        load_results(results_copy)
    assert main(["plot", str(results_copy)]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith(f"decai: error: {results_copy}: cannot read results: ")

    assert main(["run", "--resume", str(results_copy), "--quiet"]) == 0

    assert not sentinel.exists()
    assert not carries_payload(part, payload)  # the part was redone
    assert not carries_payload(final, payload)  # and the final tables assembled again
    pd.testing.assert_frame_equal(
        load_results(results_copy).timeseries, load_results(results_dir).timeseries
    )


# --- 3. a whole run with unpickling and evaluation switched off ---------------------------


def test_an_experiment_runs_with_unpickling_and_eval_disabled(tmp_path, small_toml, results_dir):
    # `results_dir` has already run the same experiment in this process, so every module it
    # needs, including those imported lazily (plot backends, pyarrow's pandas support), is
    # imported before the switch-off: importing is not reading a config or a result.
    # A new seed makes the data be generated again rather than come from the cache.
    config = tmp_path / "small.toml"
    config.write_text(small_toml)
    out = tmp_path / "results"
    calls: list[str] = []

    def refuse(name):
        def refused(*args, **kwargs):
            caller = traceback.extract_stack(limit=2)[0]
            calls.append(f"{name} called from {caller.filename}:{caller.lineno}")
            raise RuntimeError(f"{name} is switched off in this test")

        return refused

    import _pickle

    stdout = io.StringIO()
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(stdout):
        for module in (pickle, _pickle):
            for name in ("load", "loads", "Unpickler"):
                patch.setattr(module, name, refuse(f"{module.__name__}.{name}"))
        for name in ("eval", "exec", "compile"):
            patch.setattr(builtins, name, refuse(name))
        run_status = main(["run", str(config), "--out", str(out), "--set", "experiment.seed=4"])
        (folder,) = (out / "small").iterdir()
        plot_status = main(["plot", str(folder)])
        results = load_results(folder)
        runs = [run["status"] for run in json.loads((folder / "manifest.json").read_text())["runs"]]

    assert calls == []  # also catches a call whose exception some library swallowed
    assert run_status == 0 and plot_status == 0
    assert runs == ["done", "done"]
    assert len(results.timeseries) > 0 and set(results.summary["seed"]) == {4}
