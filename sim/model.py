"""`DecaiModel`: the Mesa model wiring data, contract, mechanism and contributors.

Time is in seconds. The model is purely event-driven: each contributor schedules its own
next action with `schedule_event`, and metrics are sampled every `eval_every_hours` by a
recurring event; `run` advances with `run_until`.
"""

from functools import partial

import mesa
import numpy as np
from mesa.time import Schedule

from sim.chain import DAY
from sim.config import ConfigError, ExperimentConfig
from sim.contract import CollaborativeTrainer
from sim.datasets import Split
from sim.evaluation import HiddenTestSet
from sim.features import Features
from sim.ledger import Ledger
from sim.mechanism import points_of
from sim.params import KeyedError
from sim.registry import behaviour_class, learner_class, load_plugins, mechanism_class

ACCOUNT_STATS = (
    "accepted",
    "rejected",
    "deposited",
    "refunded",
    "taken",
    "lost",
    "fees",
    "predictions",
)
"""Per-agent counters the contract keeps (see `CollaborativeTrainer.stats`)."""


def _stat_reporter(key: str):
    return lambda agent: agent.contract.stats[agent.name][key]


def _class_accuracy_reporter(k: int):
    return lambda model: model.class_accuracy[k]


def check_data(config: ExperimentConfig, split: Split) -> None:
    """Every check that needs the data, run on the classes alone, without building a model:
    whether the learner can learn this many classes, and each agent group's own (a class
    it aims at, a test set it sets aside). Raises one `ConfigError` line naming the key."""
    try:
        learner_class(config.model.kind).check_classes(split.n_classes, config.data.dataset)
    except ValueError as error:
        raise ConfigError(f"model.kind: {error}") from None
    mechanism = config.mechanism.params()
    if config.experiment.chain == "evm":
        try:  # titanoboa loads only for evm runs
            from sim.evm.trainer import check_deployable
        except ImportError as error:
            raise ConfigError(
                f'experiment.chain: evm needs the evm extra, pip install -e ".[evm]" ({error})'
            ) from None
        try:
            check_deployable(mechanism, split.X_pool)
        except KeyedError as error:
            raise ConfigError(str(error)) from error
    for group in config.all_groups():
        try:
            behaviour_class(group.kind).check_data(group, split, mechanism)
        except KeyedError as error:  # chained: a failed run's traceback shows where
            raise ConfigError(str(error)) from error


class DecaiModel(mesa.Model):
    def __init__(
        self, config: ExperimentConfig, split: Split, *, rng, pretrain_rng, strict: bool = False
    ):
        """`rng` drives the agents; `pretrain_rng` shuffles the learner's pre-training."""
        super().__init__(rng=rng)
        load_plugins(config.plugins or ())  # a pool worker has not read the config
        # Time is in seconds: the default one-unit step would fire every second.
        self._default_schedule.stop()
        self.config = config
        self.split = split
        self.n_classes = split.n_classes
        check_data(config, split)  # before anything is built on the data
        self.ledger = Ledger(strict=strict)
        learner = config.model.learner(
            split.n_features, split.n_classes, split.X_init, split.y_init, pretrain_rng
        )
        mechanism = mechanism_class(config.mechanism.kind)(config.mechanism.params())
        self.account_stats = ACCOUNT_STATS
        """The per-account counters the results carry (with --chain evm, gas too)."""
        contract = CollaborativeTrainer
        if config.experiment.chain == "evm":  # every call also on the EVM, cross-checked
            from sim.evm.mirror import GAS_STATS, EvmCheckedTrainer

            self.account_stats = (*ACCOUNT_STATS, *GAS_STATS)
            contract = partial(EvmCheckedTrainer, test_rows=split.X_test)
        self.contract = contract(self.ledger, learner, mechanism, split.X_pool, clock=self._now)
        self.test_set = HiddenTestSet(split.X_test, split.y_test)
        self._next_sample = 0
        self._pool_end = len(split.y_pool)
        self.last_sampled: float | None = None
        self.watched_classes = sorted(
            set().union(
                *(behaviour_class(group.kind).watched_classes(group) for group in config.groups())
            )
        )
        """Classes a targeted attack aims at: their own test accuracy is sampled too."""
        self.accuracy, self.class_accuracy = self.test_accuracy()
        self.initial_accuracy = self.accuracy
        for group in config.all_groups():
            behaviour = behaviour_class(group.kind)
            for index in range(group.count):
                behaviour(self, f"{group.name}-{index}", group)
        points = points_of(mechanism)
        self.datacollector = mesa.DataCollector(
            model_reporters={
                "time_days": lambda m: m.time / DAY,
                "accuracy": "accuracy",
                **{
                    f"accuracy_class_{k}": _class_accuracy_reporter(k) for k in self.watched_classes
                },
                "contributions": lambda m: len(m.contract.contributions),
                "escrow": lambda m: m.ledger[m.contract.address],
            },
            agent_reporters={
                "agent": "name",
                "kind": "kind",
                "balance": "balance",
                "points": lambda a: points(a.name),
                **{key: _stat_reporter(key) for key in self.account_stats},
            },
        )
        self.end_time = config.experiment.duration_days * DAY
        self.schedule_recurring(
            self.sample, Schedule(interval=config.experiment.eval_every_hours * 3600, start=0.0)
        )
        self.agents.shuffle_do("start")

    def _now(self) -> float:
        return self.time

    # The shared data stream: contributors submit the pool's samples in order.
    def pool_left(self) -> bool:
        return self._next_sample < self._pool_end

    def set_aside(self, n: int) -> tuple[Features, np.ndarray]:
        """Take the last `n` samples out of the pool (before anyone contributes): data of
        someone's own, such as a bounty provider's test set, that contributors never hold."""
        if self._next_sample or n >= self._pool_end:
            raise ValueError(f"cannot set aside {n} of {self._pool_end - self._next_sample}")
        self._pool_end -= n
        aside = slice(self._pool_end, self._pool_end + n)
        return self.split.X_pool[aside], self.split.y_pool[aside]

    def peek_sample(self) -> tuple[int, int]:
        return self._next_sample, int(self.split.y_pool[self._next_sample])

    def take_sample(self) -> None:
        self._next_sample += 1

    def wrong_label(self, true_label: int) -> int:
        """A label other than `true_label`, uniformly at random."""
        return (true_label + int(self.rng.integers(1, self.n_classes))) % self.n_classes

    def test_accuracy(self) -> tuple[float, dict[int, float]]:
        """Accuracy on the hidden test set, overall and for each watched class."""
        y = self.split.y_test
        correct = self.test_set.predictions(self.contract.learner) == y
        by_class = {k: float(correct[y == k].mean()) for k in self.watched_classes}
        return float(correct.mean()), by_class

    def settled(self) -> bool:
        """The pool is used up, no deposit is left in escrow and the mechanism has nothing
        left to settle: nothing can change any more."""
        return (
            not self.pool_left()
            and self.ledger[self.contract.address] == 0
            and self.contract.mechanism.settled(self.time)
        )

    def sample(self) -> None:
        self.last_sampled = self.time
        self.accuracy, self.class_accuracy = self.test_accuracy()
        self.contract.audit()
        self.datacollector.collect(self)
        if self.config.experiment.stop_when_settled and self.settled():
            self.running = False

    def run(self) -> None:
        """Run to `duration_days` (or until settled), then check that money was conserved."""
        self.advance(self.end_time)

    def advance(self, until: float) -> None:
        """Run to `until` (no further than `duration_days`), an evaluation at a time, so
        the run stops at the evaluation that finds it settled (`stop_when_settled`).

        Each leg ends at the next evaluation, wherever the previous `advance` stopped:
        advancing in any steps (the dashboard's) runs the same events as one `run`. When
        the run is over, a last sample is taken and the ledger checked.
        """
        interval = self.config.experiment.eval_every_hours * 3600
        until = min(until, self.end_time)
        while self.running and self.time < until:
            last = self.time if self.last_sampled is None else self.last_sampled
            self.run_until(min(until, last + interval))
        if self.over():
            if self.last_sampled != self.time:
                self.sample()
            self.ledger.check()

    def over(self) -> bool:
        """Whether the run has ended: at `duration_days`, or stopped once settled."""
        return not self.running or self.time >= self.end_time
