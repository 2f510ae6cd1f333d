"""Shared by test_config.py and test_cli.py: one small experiment that runs in well under 1 s."""

from pathlib import Path

import pytest

SMALL_TOML = """\
[experiment]
name = "small"
seed = 3
replicates = 2
duration_days = 3
eval_every_hours = 12

[data]
dataset = "synthetic"
n_samples = 400
n_features = 20
binary = true
initial_fraction = 0.1
test_fraction = 0.2

[model]
kind = "perceptron"

[mechanism]
kind = "dtr"
cost_weight = 1
refund_window_days = 1
take_window_days = 2

[[agents]]
name = "honest"
kind = "honest"
count = 3
start_balance = 10000
mean_deposit = 50
mean_wait_hours = 1
mistake_rate = 0.0

[[agents]]
name = "attacker"
kind = "adversarial"
strategy = "label_flip"
count = 1
start_balance = 10000
mean_deposit = 100
mean_wait_hours = 2
"""


@pytest.fixture(scope="session")
def small_toml() -> str:
    """A valid config: synthetic data, 3 honest agents and 1 label-flipping attacker, no sweep."""
    return SMALL_TOML


SWEEP = '\n[sweep]\n"mechanism.refund_window_days" = [0.5, 1]\n'
"""Two sweep points over the refund window, added to the small config."""


@pytest.fixture(scope="module")
def config_file(tmp_path_factory, small_toml) -> Path:
    """The small config with a two-point sweep, as a file."""
    path = tmp_path_factory.mktemp("config") / "small.toml"
    path.write_text(small_toml + SWEEP)
    return path
