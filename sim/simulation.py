"""One simulation run: a resolved config and a replicate number in, tidy results out."""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.config import ExperimentConfig
from sim.datasets import Split, load_dataset, split_dataset
from sim.mechanism import DAY
from sim.model import DecaiModel

KINDS = ("honest", "lazy", "adversarial")


@dataclass
class RunResult:
    summary: dict
    timeseries: pd.DataFrame
    agents: pd.DataFrame


def replicate_seeds(seed: int, replicate: int) -> tuple[np.random.SeedSequence, ...]:
    """(data order, behaviour) streams of replicate r: the same at every sweep point.

    Equal to child r of `SeedSequence(seed).spawn(...)`, split again in two, so a run's
    streams depend only on (seed, replicate), never on which worker runs it or when.
    """
    return tuple(np.random.SeedSequence(seed, spawn_key=(replicate,)).spawn(2))


def make_split(config: ExperimentConfig, replicate: int) -> Split:
    data_cfg = config.data
    data = load_dataset(
        data_cfg.dataset,
        seed=config.experiment.seed,
        n_samples=data_cfg.n_samples,
        n_features=data_cfg.n_features,
        binary=data_cfg.binary,
        n_informative=data_cfg.n_informative,
        class_sep=data_cfg.class_sep,
        flip_y=data_cfg.flip_y,
        n_classes=data_cfg.n_classes,
        label_column=data_cfg.label_column,
    )
    data_stream, _ = replicate_seeds(config.experiment.seed, replicate)
    return split_dataset(
        data,
        initial_fraction=data_cfg.initial_fraction,
        test_fraction=data_cfg.test_fraction,
        rng=np.random.default_rng(data_stream),
    )


def full_data_accuracy(config: ExperimentConfig, split: Split) -> float:
    """The baseline: the same learner trained on all clean training data."""
    X = np.vstack([split.X_init, split.X_pool])
    y = np.concatenate([split.y_init, split.y_pool])
    return config.model.learner(split.n_features, split.n_classes, X, y).accuracy(
        split.X_test, split.y_test
    )


def simulate(config: ExperimentConfig, replicate: int = 0, *, strict: bool = False) -> RunResult:
    """Run one replicate; `strict` re-checks the ledger after every transaction."""
    split = make_split(config, replicate)
    _, behaviour_stream = replicate_seeds(config.experiment.seed, replicate)
    model = DecaiModel(config, split, rng=np.random.default_rng(behaviour_stream), strict=strict)
    model.run()

    timeseries = (
        model.datacollector.get_model_vars_dataframe()
        .melt(id_vars="time_days", var_name="metric", value_name="value")
        .astype({"value": "float64"})
    )
    agents = model.datacollector.get_agent_vars_dataframe().reset_index()
    agents = agents.assign(time_days=agents["Step"] / DAY)[
        ["time_days", "agent", "kind", "balance"]
    ]

    summary = {
        "initial_accuracy": model.initial_accuracy,
        "final_accuracy": model.accuracy,
        "full_data_accuracy": full_data_accuracy(config, split),
        "contributions": len(model.contract.contributions),
        "rejected": model.contract.rejections["add_data"],
        "duration_days": model.time / DAY,
    }
    for kind in KINDS:
        members = [a for a in model.agents if a.kind == kind]
        change = [a.balance - a.start_balance for a in members]
        summary[f"{kind}_balance_change"] = np.mean(change) if members else np.nan
        summary[f"{kind}_roi"] = (
            np.mean([c / a.start_balance for c, a in zip(change, members, strict=True)])
            if members
            else np.nan
        )
    summary.update(model.contract.mechanism.summary())
    return RunResult(summary, timeseries, agents)
