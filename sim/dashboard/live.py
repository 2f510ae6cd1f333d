"""The dashboard's model: replicate 0 of a config under the page's controls, stepped by hand.

Mesa's SolaraViz builds a model from keyword parameters (its Reset button) and calls its
`step` (Step and Play). `LiveRun` is that model: its keywords are the controls, applied to
the config as `--set` overrides would be, and each step runs the wrapped `DecaiModel` on by
the chosen span of simulated time. At the config's own values it is the very run `decai
run` makes as replicate 0: the same events, samples and balances (tests/test_dashboard.py).

Nothing here imports Solara: `controls` describes the inputs as SolaraViz's plain dicts.
"""

import mesa
import numpy as np
import pandas as pd

from sim.api import override_key
from sim.chain import DAY
from sim.config import ConfigError, ExperimentConfig, validate
from sim.datasets import DatasetError
from sim.experiment import set_key
from sim.mechanism import points_of
from sim.registry import mechanisms
from sim.simulation import (
    agents_frame,
    build_model,
    full_data_accuracy,
    make_split,
    timeseries_frame,
)

STEPS = {
    "1 hour": 3600,
    "6 hours": 6 * 3600,
    "12 hours": 12 * 3600,
    "1 day": DAY,
    "7 days": 7 * DAY,
}
"""What one Step advances the simulated clock by, as the page offers it."""

POPULATION = ("contributors", "attack_rate", "lazy_rate")
"""The controls that reshape who takes part (see `reshape`); every other control is a
config key, written as `sim.run`'s keywords are (`mechanism__dtr__cost_weight`)."""

RATED_KINDS = {"attack_rate": "adversarial", "lazy_rate": "lazy"}
"""The agent kind each rate is the share of, as in the config's `[population]`."""


class LiveRun(mesa.Model):
    """Replicate 0 of `base` with the controls applied, advanced `step` at a time.

    Controls that give a bad config leave the run unbuilt: `problem` is the one-line
    error, the page shows it, and Step and Play stay off until the controls are fixed.
    """

    def __init__(self, base: ExperimentConfig, step: str = "1 day", scenario=None, **controls):
        super().__init__(scenario=scenario)  # SolaraViz's Reset passes Mesa's scenario on
        self.span = STEPS[step]
        self.problem: str | None = None
        self.run = None
        try:
            self.config = controlled(base, controls)
            split = make_split(self.config, 0)
            self.run = build_model(self.config, split, 0)
        except (ConfigError, DatasetError) as error:
            self.problem = str(error)
            self.running = False
            return
        self.full_data_accuracy = full_data_accuracy(self.config, split, 0)

    def step(self) -> None:
        self.run.advance(self.run.time + self.span)
        self.running = not self.run.over()

    @property
    def day(self) -> float:
        return self.run.time / DAY

    @property
    def samples(self) -> int:
        """Metric samples taken so far: the charts change only when this does."""
        return len(self.run.datacollector.model_vars["time_days"])

    def timeseries(self) -> pd.DataFrame:
        """The samples so far, as the results' timeseries (point 0, replicate 0)."""
        return timeseries_frame(self.run).assign(point=0, replicate=0)

    def agents(self) -> pd.DataFrame:
        """Each agent at each sample so far, as the results' agents table."""
        return agents_frame(self.run).assign(point=0, replicate=0)

    def summary(self) -> pd.DataFrame:
        return pd.DataFrame([{"point": 0, "full_data_accuracy": self.full_data_accuracy}])

    def description(self) -> str:
        """What runs: the mechanism and its explored parameters, who takes part, the seed."""
        mechanism = self.config.mechanism
        params = mechanism.model_extra[mechanism.kind]
        shown = ", ".join(
            f"{name} {params[name]:g}" for name in mechanisms()[mechanism.kind].explore
        )
        kinds = pd.Series([agent.kind for agent in self.run.agents]).value_counts()
        people = ", ".join(f"{n} {kind}" for kind, n in kinds.items())
        return (
            f"{mechanism.kind}" + (f" ({shown})" if shown else "")
            + f" · {people} · seed {self.config.experiment.seed}"
        )  # fmt: skip

    def agent_table(self) -> pd.DataFrame:
        """Every agent now: kind, balance and what became of its contributions."""
        points = points_of(self.run.contract.mechanism)
        stats = self.run.contract.stats
        return pd.DataFrame(
            [
                {
                    "agent": agent.name,
                    "kind": agent.kind,
                    "balance": agent.balance,
                    "accepted": stats[agent.name]["accepted"],
                    "refunded": stats[agent.name]["refunded"],
                    "taken": stats[agent.name]["taken"],
                    "points": points(agent.name),
                }
                for agent in self.run.agents
            ]
        )


def controlled(base: ExperimentConfig, controls: dict) -> ExperimentConfig:
    """`base` with the controls applied, checked as a config file is."""
    raw = base.resolved()
    controls = dict(controls)
    people = {key: controls.pop(key) for key in POPULATION if key in controls}
    if people:
        reshape(raw, base, **people)
    for key, value in controls.items():
        set_key(raw, override_key(key), value)
    return validate(raw, "dashboard")


def reshape(
    raw: dict, base: ExperimentConfig, contributors: int, attack_rate: float, lazy_rate: float
) -> None:
    """Give the config `contributors` agents, of which shares `attack_rate` adversarial and
    `lazy_rate` lazy, as `[population]` would make them.

    A `[population]` config takes the three as its own keys. With `[[agents]]` groups,
    each kind keeps its groups' settings: a rated kind gets its share, any other kind
    but honest keeps its share of the file's agents, and honest ones are the rest; a
    kind's agents are spread over its groups as the file spreads them, and a rated kind
    the file lacks gets a group of default settings, named after the kind.
    """
    if base.population is not None:
        raw["population"] |= {
            "contributors": contributors,
            "attack_rate": attack_rate,
            "lazy_rate": lazy_rate,
        }
        return
    rates = {RATED_KINDS["attack_rate"]: attack_rate, RATED_KINDS["lazy_rate"]: lazy_rate}
    groups = raw["agents"]
    total = sum(group["count"] for group in groups)
    counts: dict[str, int] = {}
    for group in groups:
        counts[group["kind"]] = counts.get(group["kind"], 0) + group["count"]
    wanted = {kind: round(contributors * n / total) for kind, n in counts.items()}
    wanted |= {kind: round(contributors * rate) for kind, rate in rates.items()}
    wanted["honest"] = contributors - sum(n for kind, n in wanted.items() if kind != "honest")
    if wanted["honest"] < 0:
        raise ConfigError(
            "dashboard: attack_rate + lazy_rate and the other kinds' shares are more than "
            "all the contributors"
        )
    names = {group["name"] for group in groups}
    for kind, n in wanted.items():
        members = [group for group in groups if group["kind"] == kind]
        if not members and n:
            name = kind if kind not in names else f"{kind}-added"
            members = [{"name": name, "kind": kind, "count": 0}]
            groups.append(members[0])
        if sum(group["count"] for group in members) == n:
            continue
        for group, count in zip(members, shares(n, [g["count"] for g in members]), strict=True):
            group["count"] = count


def shares(n: int, weights: list[int]) -> list[int]:
    """`n` split in proportion to `weights` (whole numbers, largest remainders first);
    with no weight at all, all to the first."""
    total = sum(weights)
    if total == 0:
        return [n, *[0] * (len(weights) - 1)]
    exact = np.array(weights, dtype=float) * n / total
    whole = np.floor(exact).astype(int)
    for index in np.argsort(-(exact - whole), kind="stable")[: n - whole.sum()]:
        whole[index] += 1
    return whole.tolist()


def population(base: ExperimentConfig) -> dict[str, float]:
    """The config's own contributors, attack rate and lazy rate."""
    if base.population is not None:
        return {key: getattr(base.population, key) for key in POPULATION}
    groups = base.groups()
    total = sum(group.count for group in groups)
    return {"contributors": total} | {
        key: sum(group.count for group in groups if group.kind == kind) / total
        for key, kind in RATED_KINDS.items()
    }


def slider(label: str, value: float, low: float, high: float, step: float, whole: bool):
    """A SolaraViz slider from `low` to `high`, widened to take `value` if it lies outside."""
    return {
        "type": "SliderInt" if whole else "SliderFloat",
        "value": value,
        "min": min(low, value),
        "max": max(high, value),
        "step": step,
        "label": label,
    }


def controls(base: ExperimentConfig) -> dict[str, object]:
    """SolaraViz's `model_params` for `LiveRun`: the fixed `base`, then an input per
    control, starting at the config's own value."""
    inputs: dict[str, object] = {
        "base": base,
        "step": {"type": "Select", "value": "1 day", "values": list(STEPS), "label": "step"},
        "mechanism__kind": {
            "type": "Select",
            "value": base.mechanism.kind,
            "values": list(mechanisms()),
            "label": "mechanism",
        },
    }
    for kind, mechanism in mechanisms().items():
        table = base.mechanism.model_extra.get(kind) or mechanism.Params().model_dump()
        for name, (low, high, step) in mechanism.explore.items():
            whole = mechanism.Params.model_fields[name].annotation is int
            inputs[f"mechanism__{kind}__{name}"] = slider(
                f"{kind}: {name}", table[name], low, high, step, whole
            )
    people = population(base)
    return inputs | {
        "contributors": slider("contributors", people["contributors"], 1, 100, 1, True),
        "attack_rate": slider("attack rate", people["attack_rate"], 0.0, 1.0, 0.05, False),
        "lazy_rate": slider("lazy rate", people["lazy_rate"], 0.0, 1.0, 0.05, False),
        "experiment__seed": slider("seed", base.experiment.seed, 0, 999, 1, True),
    }


def starting(model_params: dict[str, object]) -> dict[str, object]:
    """The keywords SolaraViz first builds `LiveRun` with: every control at its start."""
    return {key: value["value"] if isinstance(value, dict) else value
            for key, value in model_params.items()}  # fmt: skip
