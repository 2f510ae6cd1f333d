"""Datasets published once by the sweep and mapped read-only by its worker processes."""

import os
import tempfile

import numpy as np
import pandas as pd
import pytest

import sim.runner
from sim.executor import make_executor
from sim.experiment import Experiment
from sim.results import load_results
from sim.runner import run_experiment
from sim.shared_data import data_key, shared_datasets
from sim.simulation import load_data, simulate


@pytest.fixture(scope="module")
def experiment(config_file) -> Experiment:
    return Experiment.from_file(config_file)


def test_a_mapped_dataset_equals_the_built_one_and_is_read_only(experiment):
    config = experiment.points[0][1]
    built = load_data(config)
    with shared_datasets([config, config], load_data) as shared:
        assert len(list(shared.folder.glob("*.json"))) == 1  # one copy per content key
        mapped = shared.dataset(config)
        assert mapped is not built and mapped.X == built.X
        np.testing.assert_array_equal(mapped.y, built.y)
        assert (mapped.name, mapped.n_classes, mapped.binary) == (
            built.name,
            built.n_classes,
            built.binary,
        )
        for array in (mapped.X.indptr, mapped.X.indices, mapped.X.values, mapped.y):
            assert isinstance(array.base, np.memmap)  # the file's pages, not a copy
            with pytest.raises(ValueError, match="read-only"):
                array[0] = 1
        other = experiment.points[0][1].model_copy(
            update={"experiment": config.experiment.model_copy(update={"seed": 4})}
        )
        assert data_key(other) != data_key(config) and shared.dataset(other) is None


def test_a_run_on_mapped_data_equals_a_run_on_built_data(experiment):
    config = experiment.points[0][1]
    with shared_datasets([config], load_data) as shared:
        mapped = simulate(config, 1, shared=shared)
    built = simulate(config, 1)
    assert mapped.summary == built.summary
    pd.testing.assert_frame_equal(mapped.timeseries, built.timeseries)
    pd.testing.assert_frame_equal(mapped.agents, built.agents)


def test_pool_workers_read_the_published_data_and_the_folder_is_removed(
    tmp_path, monkeypatch, experiment
):
    """The sweep publishes other data (another seed's) under the config's key: the
    workers' results follow it, so they mapped it rather than building their own."""
    own = simulate(experiment.points[0][1], 0).summary["initial_accuracy"]
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "tmp"))
    os.mkdir(tmp_path / "tmp")

    def other_seed(config):
        reseeded = config.experiment.model_copy(update={"seed": 99})
        return load_data(config.model_copy(update={"experiment": reseeded}))

    monkeypatch.setattr(sim.runner, "load_data", other_seed)
    with make_executor(2) as pool:
        pooled = run_experiment(experiment, tmp_path / "pool", executor=pool).path
    monkeypatch.setattr(sim.simulation, "load_data", other_seed)
    serial = run_experiment(experiment, tmp_path / "serial").path

    summaries = [load_results(path).summary for path in (pooled, serial)]
    pd.testing.assert_frame_equal(*summaries)
    assert summaries[0]["initial_accuracy"].iloc[0] != own  # not the config's own data
    assert not list((tmp_path / "tmp").glob("decai-data-*"))  # the published files are gone
