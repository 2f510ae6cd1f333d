"""Small configs and models shared by the tests."""

import copy
import dataclasses
from functools import cache

import numpy as np
import pytest
from scipy import sparse

import sim.runner
from sim.config import validate
from sim.contract import CollaborativeTrainer
from sim.features import Features, compact
from sim.ledger import Ledger, Rejected
from sim.params import Params
from sim.simulation import build_model, make_split, simulate


class Chain:
    """A contract on a strict ledger (conservation re-checked after every transaction) with
    a settable clock: `at(time)` moves it and returns the contract to call."""

    def __init__(self, mechanism, learner, samples, balances: dict[str, int]):
        self.now = 0.0
        self.ledger = Ledger(strict=True)
        for name, balance in balances.items():
            self.ledger.open_account(name, balance)
        self.mechanism = mechanism
        self.learner = learner
        self.contract = CollaborativeTrainer(
            self.ledger, learner, mechanism, samples, clock=lambda: self.now
        )

    def at(self, time):
        self.now = time
        return self.contract


class ScriptedLearner:
    """A model that 'predicts' the label written in a sample's only feature."""

    n_classes = 2

    def __init__(self):
        self.updates = []

    def predict(self, x):
        return int(x[0])

    def update(self, x, y):
        self.updates.append(y)

    def state(self):
        return (list(self.updates),)


def small_config(cost_weight=20, attackers=1, attacker_reports=True, **experiment):
    """The default experiment's shape on a smaller pool (2,880 samples)."""
    raw = {
        "experiment": {"seed": 3, "duration_days": 60, "eval_every_hours": 12, **experiment},
        "data": {
            "dataset": "synthetic",
            "n_samples": 4000,
            "n_features": 200,
            "binary": True,
            "initial_fraction": 0.08,
            "test_fraction": 0.2,
        },
        "model": {"kind": "perceptron"},
        "mechanism": {
            "kind": "dtr",
            "cost_weight": cost_weight,
            "refund_window_days": 1,
            "take_window_days": 9,
        },
        "agents": [
            {
                "name": "honest",
                "kind": "honest",
                "count": 4,
                "mean_deposit": 50,
                "mean_wait_hours": 0.5,
                "mistake_rate": 1e-4,
            },
            {
                "name": "attacker",
                "kind": "adversarial",
                "strategy": "label_flip",
                "count": attackers,
                "reports": attacker_reports,
                "mean_deposit": 100,
                "mean_wait_hours": 1,
            },
        ],
    }
    return validate(raw, "test")


def build(config, replicate=0, strict=True):
    return build_model(config, make_split(config, replicate), replicate, strict=strict)


def count_simulations(monkeypatch, experiment) -> list[tuple[int, int]]:
    """The (point, replicate) of each run simulated in this process from now on."""
    calls = []
    configs = [config for _, config in experiment.points]

    def counting(config, replicate, **kwargs):
        calls.append((configs.index(config), replicate))
        return simulate(config, replicate, **kwargs)

    monkeypatch.setattr(sim.runner, "simulate", counting)
    return calls


def one_error_line(capsys) -> str:
    """The single `decai: error: ...` line a CLI call printed (and nothing on stdout)."""
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("decai: error: "), captured.err
    return lines[0]


def dense_layout(X) -> Features:
    """The 2-D array X as Features in the dense layout (every value stored, zeros
    included), whatever its density: `Features.from_array` picks the smaller layout."""
    X = np.asarray(X)
    indptr = np.arange(len(X) + 1, dtype=np.int64) * X.shape[1]
    return Features(indptr, None, compact(X).reshape(-1), X.shape[1])


def csr_layout(X) -> Features:
    """The 2-D array X as Features in the CSR layout (nonzeros only), whatever its density."""
    csr = sparse.csr_array(np.asarray(X))
    indptr, indices = csr.indptr.astype(np.int64), csr.indices.astype(np.int32)
    return Features(indptr, indices, compact(csr.data), csr.shape[1])


def snapshot(chain: Chain) -> dict:
    """Everything a call could change: balances and log, contributions, model, mechanism."""
    mechanism_state = {k: v for k, v in vars(chain.mechanism).items() if k != "contract"}
    return copy.deepcopy(
        {
            "balances": dict(chain.ledger.balances),
            "log": len(chain.ledger.log),
            "contributions": list(chain.contract.contributions),
            "learner": chain.contract.learner.state(),
            "mechanism": mechanism_state,
        }
    )


def differences(a, b, path="state") -> list[str]:
    """Where `a` and `b` differ (numpy arrays, dicts, Counters, sets, tuples, dataclasses)."""
    if type(a) is not type(b):
        return [f"{path}: {type(a).__name__} != {type(b).__name__}"]
    if isinstance(a, np.ndarray):
        same = a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b)
        return [] if same else [f"{path}: arrays differ"]
    if isinstance(a, dict):  # Counters too: keys must match exactly, not just nonzero counts
        if set(a) != set(b):
            return [f"{path}: keys {sorted(map(str, a))} != {sorted(map(str, b))}"]
        return [d for key in a for d in differences(a[key], b[key], f"{path}[{key!r}]")]
    if isinstance(a, list | tuple):
        if len(a) != len(b):
            return [f"{path}: length {len(a)} != {len(b)}"]
        return [
            d
            for i, (x, y) in enumerate(zip(a, b, strict=True))
            for d in differences(x, y, f"{path}[{i}]")
        ]
    if dataclasses.is_dataclass(a) and not isinstance(a, type):
        return differences(vars(a), vars(b), path)
    if isinstance(a, Params):
        return [] if a == b else [f"{path}: params differ"]
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


@cache
def random_binary(n_samples=400, n_features=60, n_classes=2, seed=0):
    """Binary features with labels that depend on them (plus noise), so models learn."""
    rng = np.random.default_rng(seed)
    X = (rng.random((n_samples, n_features)) < 0.3).astype(np.float64)
    scores = X @ rng.normal(size=(n_features, n_classes)) + rng.normal(size=(n_samples, n_classes))
    return X, scores.argmax(axis=1).astype(np.int64)


def assert_refused(chain, call, *args, match, **kwargs):
    """`call(*args, **kwargs)` raises `Rejected` for the reason `match` and changes nothing
    at all: balances and log, contributions, the model, the mechanism's own state."""
    before = snapshot(chain)
    with pytest.raises(Rejected, match=match):
        call(*args, **kwargs)
    assert not differences(before, snapshot(chain))


def fail_without_evm(import_error: Exception | None) -> None:
    """Fail, never skip, a test of the EVM when titanoboa or vyper cannot be imported."""
    if import_error is not None:
        pytest.fail(
            f"titanoboa/vyper cannot be imported ({import_error!r}): "
            'install the evm extra, pip install -e ".[evm]"',
            pytrace=False,
        )
