"""Plugins: a mechanism, an agent kind and a learner, each one file outside the package,
used by `decai` with no other edit (loaded from entry points or from a config's `plugins`).

Each check runs `decai` in a fresh process, so the toy kinds never join this process's
registry (where they would add columns to every other test's summaries).
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest

TOY_MECHANISM = '''
"""A toll: every add pays a flat fee that is never refunded."""
from pydantic import Field

from sim.ledger import Rejected
from sim.mechanism import Mechanism
from sim.params import Params
from sim.registry import register_mechanism


class TollParams(Params):
    fee: int = Field(3, ge=1, description="units each add pays, kept by the contract")


@register_mechanism
class Toll(Mechanism):
    kind = "toll"
    description = "every add pays a flat fee, never refunded"
    Params = TollParams

    def add_cost(self, now):
        return self.params.fee

    def add_data(self, sender, value, contribution, now):
        if value != self.params.fee:
            raise Rejected(f"an add pays exactly {self.params.fee}, not {value}")
        self.contract.ledger.require(sender, value)
        return ((sender, self.contract.address, value),)
'''

TOY_AGENT = '''
"""A stubborn contributor: labels every sample 0."""
from agents.base import Contributor
from sim.registry import register_behaviour


@register_behaviour
class Stubborn(Contributor):
    kind = "stubborn"
    description = "labels every sample 0, whatever it is"
    colour = "tab:purple"

    def choose_label(self, sample, true_label):
        return 0

    def wants_to_contribute(self):
        return True
'''

TOY_LEARNER = '''
"""A majority vote: predicts the class seen most often so far."""
import numpy as np

from sim.learners.base import Learner
from sim.registry import register_learner


@register_learner
class Majority(Learner):
    """Predicts the most frequent class so far (the lowest on ties)."""

    kind = "majority"

    def __init__(self, n_features, n_classes):
        super().__init__(n_features, n_classes)
        self.counts = np.zeros(self.n_classes, dtype=np.int64)

    def _predict(self, x):
        return int(self.counts.argmax())

    def _predict_many(self, X):
        return np.full(len(X), self.counts.argmax(), dtype=np.int64)

    def _update(self, x, y):
        self.counts[y] += 1

    def _fit(self, X, y, rng):
        self.counts += np.bincount(y, minlength=self.n_classes)

    def state(self):
        return (self.counts.copy(),)
'''

CONFIG = """
{plugins}
[experiment]
name = "toy"
seed = 1
replicates = 2
duration_days = 3

[data]
dataset = "synthetic"
n_samples = 400
n_features = 20

[model]
kind = "majority"

[mechanism]
kind = "toll"
fee = 2

[[agents]]
name = "mule"
kind = "stubborn"
count = 2
mean_wait_hours = 2

[[agents]]
name = "honest"
kind = "honest"
count = 2
mean_wait_hours = 2
"""

FILES = {"toll.py": TOY_MECHANISM, "stubborn.py": TOY_AGENT, "majority.py": TOY_LEARNER}


def decai(*args, cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess:
    env = dict(os.environ)
    if pythonpath is not None:
        env["PYTHONPATH"] = os.pathsep.join([str(pythonpath), env.get("PYTHONPATH", "")])
    return subprocess.run(
        [sys.executable, "-m", "sim.cli", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


@pytest.fixture
def installed(tmp_path) -> Path:
    """A plugin package `toys` on a path, with a distribution that names each of its
    modules as a `decai_sim.plugins` entry point, as `pip install` would leave it."""
    site = tmp_path / "site"
    package = site / "toys"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    for name, text in FILES.items():
        (package / name).write_text(textwrap.dedent(text))
    info = site / "toys-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toys\nVersion: 0.1\n")
    entries = "\n".join(f"{name[:-3]} = toys.{name[:-3]}" for name in FILES)
    (info / "entry_points.txt").write_text(f"[decai_sim.plugins]\n{entries}\n")
    return site


def test_installed_plugins_pass_the_conformance_suite(installed):
    """tests/test_conformance.py, unedited, picks the toy kinds up from the registry."""
    root = Path(__file__).resolve().parents[1]
    suite = subprocess.run(
        [sys.executable, "-m", "pytest", "tests/test_conformance.py", "-p", "no:cacheprovider"]
        + ["-k", "toll or stubborn or majority", "-q", "-rA"],
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(installed)},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert suite.returncode == 0, suite.stdout[-3000:]
    passed = [line for line in suite.stdout.splitlines() if line.startswith("PASSED")]
    for kind in ("toll", "stubborn", "majority"):
        assert any(f"[{kind}" in line for line in passed), kind  # each kind was checked
    assert len(passed) >= 10


def summary_of(out: Path) -> pd.DataFrame:
    (path,) = out.glob("toy/*/summary.csv")
    return pd.read_csv(path)


def test_installed_plugins_are_listed_documented_and_run(installed, tmp_path):
    listing = decai("list", cwd=tmp_path, pythonpath=installed)
    assert listing.returncode == 0, listing.stderr
    for kind in ("toll", "stubborn", "majority"):
        assert f"  {kind} " in listing.stdout

    reference = subprocess.run(
        [sys.executable, "-c", "from sim.docs import config_reference; print(config_reference())"],
        env={**os.environ, "PYTHONPATH": str(installed)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert reference.returncode == 0, reference.stderr
    for section in ("[mechanism.toll]", "[[agents]] kind stubborn", "[model.majority]"):
        assert section in reference.stdout
    assert "`fee`" in reference.stdout  # the toy mechanism's own parameter

    config = tmp_path / "toy.toml"
    config.write_text(CONFIG.format(plugins=""))
    run = decai("run", str(config), "--out", "out", "--quiet", cwd=tmp_path, pythonpath=installed)
    assert run.returncode == 0, run.stderr
    summary = summary_of(tmp_path / "out")
    # The new kind has its columns, as the built-in kinds do, and they hold its results.
    assert {"stubborn_roi", "stubborn_accepted", "stubborn_balance_change"} <= set(summary)
    assert (summary["stubborn_accepted"] > 0).all()
    # Every add paid the toy mechanism's fee, which is never refunded.
    assert (summary["stubborn_balance_change"] < 0).all()
    assert (summary["stubborn_balance_change"] % 2 == 0).all()

    # [population] gives the new kind its share, as it does the built-in ones.
    shorthand = CONFIG.format(plugins="").split("[[agents]]")[0]
    config.write_text(shorthand + "[population]\ncontributors = 4\nshares = {stubborn = 0.5}\n")
    run = decai("run", str(config), "--out", "pop", "--quiet", cwd=tmp_path, pythonpath=installed)
    assert run.returncode == 0, run.stderr
    assert (summary_of(tmp_path / "pop")["stubborn_accepted"] > 0).all()


def test_a_config_loads_plugin_files_by_path_in_every_worker(tmp_path):
    for name, text in FILES.items():
        (tmp_path / name).write_text(textwrap.dedent(text))
    plugins = "plugins = " + repr([name for name in FILES]).replace("'", '"')
    config = tmp_path / "toy.toml"
    config.write_text(CONFIG.format(plugins=plugins))
    summaries = []
    for jobs in ("1", "2"):
        out = f"out{jobs}"
        run = decai("run", str(config), "--out", out, "--quiet", "--jobs", jobs, cwd=tmp_path)
        assert run.returncode == 0, run.stderr
        summaries.append(summary_of(tmp_path / out))
    pd.testing.assert_frame_equal(summaries[0], summaries[1])
    assert (summaries[0]["stubborn_accepted"] > 0).all()


def test_a_broken_or_missing_plugin_is_one_error_line(tmp_path):
    (tmp_path / "broken.py").write_text("raise RuntimeError('half-written plugin')\n")
    for plugins, message in (
        ('["broken.py"]', "plugin broken.py: half-written plugin"),
        ('["missing.py"]', "plugin missing.py: no such file"),
        ('["no_such_module"]', "plugin no_such_module: No module named 'no_such_module'"),
    ):
        config = tmp_path / "toy.toml"
        config.write_text(CONFIG.format(plugins=f"plugins = {plugins}"))
        run = decai("run", str(config), "--out", "out", cwd=tmp_path)
        assert run.returncode == 2
        lines = run.stderr.strip().splitlines()
        assert len(lines) == 1 and "plugins" in lines[0], run.stderr
        assert message.split(": ", 1)[1] in lines[0]
        assert not (tmp_path / "out").exists()
