"""One simulation run: a resolved config and a replicate number in, tidy results out."""

from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.chain import DAY
from sim.config import ExperimentConfig
from sim.datasets import Dataset, Split, load_dataset, split_dataset
from sim.features import Features
from sim.mechanism import AwardsPoints, points_of
from sim.model import DecaiModel
from sim.registry import summarised_kinds
from sim.shared_data import SharedData


@dataclass
class RunResult:
    summary: dict
    timeseries: pd.DataFrame
    agents: pd.DataFrame
    mechanism: dict
    """The mechanism's own figures (also in `summary`), for the manifest."""
    leaderboard: pd.DataFrame
    """rank, agent, kind, points, badges at the end (empty unless points are given)."""


def replicate_seeds(seed: int, replicate: int) -> tuple[np.random.SeedSequence, ...]:
    """(data order, behaviour, pre-training) streams of replicate r: the same at every
    sweep point.

    Equal to child r of `SeedSequence(seed).spawn(...)`, split again in three, so a run's
    streams depend only on (seed, replicate), never on which worker runs it or when. The
    pre-training stream (the learner's epoch shuffles) is the third child, so it leaves the
    other two as they were before it existed.
    """
    return tuple(np.random.SeedSequence(seed, spawn_key=(replicate,)).spawn(3))


def load_data(config: ExperimentConfig) -> Dataset:
    """The config's dataset (cached in-process: replicates and sweep points share it)."""
    data_cfg = config.data
    return load_dataset(
        data_cfg.dataset,
        seed=config.experiment.seed,
        n_samples=data_cfg.n_samples,
        n_features=data_cfg.n_features,
        binary=data_cfg.binary,
        n_informative=data_cfg.n_informative,
        class_sep=data_cfg.class_sep,
        flip_y=data_cfg.flip_y,
        n_classes=data_cfg.n_classes,
        mean_length=data_cfg.mean_length,
        zipf_exponent=data_cfg.zipf_exponent,
        sentiment_share=data_cfg.sentiment_share,
        sentiment_strength=data_cfg.sentiment_strength,
        label_column=data_cfg.label_column,
        label_threshold=data_cfg.label_threshold,
    )


def make_split(config: ExperimentConfig, replicate: int, shared: SharedData | None = None) -> Split:
    """Replicate r's split of the config's data (mapped from `shared` when it is there)."""
    data = shared.dataset(config) if shared else None
    if data is None:
        data = load_data(config)
    data_cfg = config.data
    data_stream, *_ = replicate_seeds(config.experiment.seed, replicate)
    return split_dataset(
        data,
        initial_fraction=data_cfg.initial_fraction,
        test_fraction=data_cfg.test_fraction,
        rng=np.random.default_rng(data_stream),
    )


def full_data_accuracy(config: ExperimentConfig, split: Split, replicate: int) -> float:
    """The baseline: the same learner pre-trained the same way on all clean training data."""
    X = Features.stack([split.X_init, split.X_pool])
    y = np.concatenate([split.y_init, split.y_pool])
    rng = pretrain_rng(config, replicate)
    learner = config.model.learner(split.n_features, split.n_classes, X, y, rng)
    return learner.accuracy(split.X_test, split.y_test)


def pretrain_rng(config: ExperimentConfig, replicate: int) -> np.random.Generator:
    """The generator that shuffles replicate r's pre-training epochs."""
    return np.random.default_rng(replicate_seeds(config.experiment.seed, replicate)[2])


def build_model(
    config: ExperimentConfig, split: Split, replicate: int, *, strict: bool = False
) -> DecaiModel:
    """Replicate r's model on its split, with its own behaviour and pre-training streams."""
    _, behaviour_stream, pretrain_stream = replicate_seeds(config.experiment.seed, replicate)
    return DecaiModel(
        config,
        split,
        rng=np.random.default_rng(behaviour_stream),
        pretrain_rng=np.random.default_rng(pretrain_stream),
        strict=strict,
    )


def simulate(
    config: ExperimentConfig,
    replicate: int = 0,
    *,
    strict: bool = False,
    shared: SharedData | None = None,
) -> RunResult:
    """Run one replicate; `strict` re-checks the ledger after every transaction, `shared`
    holds datasets the sweep's process has built (see sim/shared_data.py)."""
    split = make_split(config, replicate, shared)
    model = build_model(config, split, replicate, strict=strict)
    model.run()
    timeseries, agents = timeseries_frame(model), agents_frame(model)
    summary = {
        "initial_accuracy": model.initial_accuracy,
        "final_accuracy": model.accuracy,
        "full_data_accuracy": full_data_accuracy(config, split, replicate),
        "contributions": len(model.contract.contributions),
        "rejected": model.contract.rejections["add_data"],
        "duration_days": model.time / DAY,
    }
    mechanism = model.contract.mechanism.summary()
    if model.config.experiment.chain == "evm":
        summary["deploy_gas"] = model.contract.deploy_gas()
    summary.update(kind_summary(model))
    summary.update(mechanism)
    return RunResult(summary, timeseries, agents, mechanism, leaderboard(model))


def timeseries_frame(model: DecaiModel) -> pd.DataFrame:
    """The model's metric samples so far, long: time_days, metric, value."""
    return (
        model.datacollector.get_model_vars_dataframe()
        .melt(id_vars="time_days", var_name="metric", value_name="value")
        .astype({"value": "float64"})
    )


def agents_frame(model: DecaiModel) -> pd.DataFrame:
    """Each agent at each sample so far: time_days, agent, kind, balance, points and the
    contract's counters."""
    agents = model.datacollector.get_agent_vars_dataframe().reset_index()
    return agents.assign(time_days=agents["Step"] / DAY)[
        ["time_days", "agent", "kind", "balance", "points", *model.account_stats]
    ]


def leaderboard(model: DecaiModel) -> pd.DataFrame:
    """The mechanism's final leaderboard; tied points share a rank (1, 2, 2, 4)."""
    mechanism = model.contract.mechanism
    awards_points = isinstance(mechanism, AwardsPoints)
    board = pd.DataFrame(
        mechanism.leaderboard() if awards_points else [], columns=["agent", "points"]
    )
    kinds = {agent.name: agent.kind for agent in model.agents}
    return board.assign(
        rank=board["points"].rank(method="min", ascending=False).astype("int64"),
        kind=board["agent"].map(kinds),
        badges=[len(mechanism.badges(agent)) for agent in board["agent"]],
    )[["rank", "agent", "kind", "points", "badges"]]


def kind_summary(model: DecaiModel) -> dict[str, float]:
    """Per kind K: K_balance_change and K_roi, and per-agent means of the contract's
    counters (K_accepted, K_deposited, K_lost, ..., with --chain evm K_gas and K_gas_<call>
    and K_roi_net_gas at `gas_price_gwei`); K_mean_deposit is the mean deposit the kind
    paid per accepted add. Kinds with no agents get NaN, so columns stay fixed."""
    summary = {}
    points = points_of(model.contract.mechanism)
    for kind in summarised_kinds():
        members = [agent for agent in model.agents if agent.kind == kind]
        stats = [model.contract.stats[agent.name] for agent in members]
        change = np.array([agent.balance - agent.start_balance for agent in members])
        start = np.array([agent.start_balance for agent in members])
        summary[f"{kind}_balance_change"] = change.mean() if members else np.nan
        summary[f"{kind}_roi"] = (change / start).mean() if members else np.nan
        summary[f"{kind}_points"] = (
            np.mean([points(a.name) for a in members]) if members else np.nan
        )
        for key in model.account_stats:
            summary[f"{kind}_{key}"] = np.mean([s[key] for s in stats]) if members else np.nan
        if "gas" in model.account_stats:  # --chain evm: what the gas would have cost
            wei = model.config.experiment.gas_price_gwei * 1e9  # a unit of money is a wei
            net = change - wei * np.array([s["gas"] for s in stats])
            summary[f"{kind}_roi_net_gas"] = (net / start).mean() if members else np.nan
        accepted = sum(s["accepted"] for s in stats)
        summary[f"{kind}_mean_deposit"] = (
            sum(s["deposited"] for s in stats) / accepted if accepted else np.nan
        )
    return summary
