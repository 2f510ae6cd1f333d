"""The module the Solara server runs: the page `decai dashboard` asked for.

`sim.dashboard.serve` puts its target (a config with its `--set` overrides, or a results
folder) in the environment before the server imports this module; the config was
checked there, so a bad one never gets this far.
"""

import json
import os
from pathlib import Path

import solara

from sim.dashboard.pages import LivePage, ResultsPage
from sim.dashboard.serve import TARGET
from sim.experiment import Experiment

_target = json.loads(os.environ[TARGET])
_experiment = (
    Experiment.from_file(_target["config"], _target["set"]) if "config" in _target else None
)


@solara.component
def Page():
    if _experiment is None:
        return ResultsPage(Path(_target["results"]))
    return LivePage(_experiment.points[0][1])
