"""The Vyper contracts deployed and set up for one DTR run with the on-chain perceptron,
and what the Python side must convert to call them (features, windows, the cost weight)."""

import math
from collections import defaultdict

import numpy as np
from boa.contracts.vyper.vyper_contract import VyperContract
from boa.util.abi import Address
from eth_utils import keccak

from mechanisms.dtr import DTRParams
from sim.chain import DAY
from sim.evm.chain import INSUFFICIENT_FUNDS, MAX_FEATURES, EvmChain, Receipt
from sim.features import Features, Row
from sim.learners.perceptron import Perceptron
from sim.params import KeyedError

GAS_CALLS = ("add_data", "refund", "report", "take", "predict")
"""The kinds of call whose gas each account pays (a take is a report after the take window)."""

WEIGHT_BATCH = 256
"""Pre-trained weights the owner sets per transaction."""


def cost_weight_parts(cost_weight: float) -> tuple[int, int]:
    """(significand, exponent) with cost_weight = significand * 2**exponent exactly and
    2**52 <= significand < 2**53: every normal float converts exactly. Refuses weights the
    contract's arithmetic does not cover (below 2**-1000, where cost_weight * 60 or the
    deposit's quotient could be subnormal)."""
    cost_weight = float(cost_weight)
    if not math.isfinite(cost_weight) or not 2.0**-1000 <= cost_weight <= 2.0**1000:
        raise ValueError(f"cost_weight {cost_weight!r} is outside 2**-1000 .. 2**1000")
    mantissa, exponent = math.frexp(cost_weight)
    significand = int(mantissa * 2**53)
    return significand, exponent - 53


def check_deployable(params: DTRParams, samples: Features) -> None:
    """What the contracts cannot run, found when a config is checked, before any run:
    windows of whole seconds, a cost weight the contract's arithmetic covers, binary
    features. Raises `KeyedError` naming the config key."""
    for key in ("refund_window_days", "take_window_days"):
        try:
            whole_seconds(getattr(params, key), key)
        except ValueError as error:
            raise KeyedError(f"mechanism.{key}", f"on the EVM: {error}") from None
    try:
        cost_weight_parts(params.cost_weight)
    except ValueError as error:
        raise KeyedError("mechanism.cost_weight", f"on the EVM: {error}") from None
    values = samples.values  # the whole matrix: a split's rows are views of it
    if not np.all((values == 0) | (values == 1)):
        raise KeyedError(
            "data.dataset", "the on-chain perceptron takes binary features (0 or 1): set binary"
        )


def whole_seconds(days: float, name: str) -> int:
    """A window in days as whole seconds, as the contract holds it; refuses a window that
    is not a whole number of seconds (block timestamps are whole seconds)."""
    seconds = days * DAY
    if seconds != int(seconds):
        raise ValueError(f"{name} = {days} days is not a whole number of seconds")
    return int(seconds)


def features_of(row: Row) -> list[int]:
    """A binary sample as the contracts take it: the ascending indices of its present
    features."""
    indices, values = row
    if not np.all(np.asarray(values) == 1):
        raise ValueError("the on-chain perceptron takes binary features (every value 1)")
    if len(indices) > MAX_FEATURES:
        raise ValueError(f"a sample has {len(indices)} present features, at most {MAX_FEATURES}")
    return [int(i) for i in indices]


def bound_for(rows) -> int:
    """The feature bound to compile the contracts with for samples `rows` (lists of
    present features): the least power of two >= 16 that holds the longest."""
    longest = max((len(row) for row in rows), default=0)
    if longest > MAX_FEATURES:
        raise ValueError(f"a sample has {longest} present features, at most {MAX_FEATURES}")
    return max(16, 1 << (longest - 1).bit_length())


class EvmTrainer:
    """The four contracts deployed and set up for one DTR run with the perceptron:
    `CollaborativeTrainer` (the entry point; its balance is the escrow), `DataHandler`,
    `DepositRefundTake` and `Perceptron` (its weights and bias copied from `learner`).

    Accounts are named as in the Python ledger: `contract` is the trainer's address and
    `fee_sink` an ordinary account; `deployer` (balance 0) deploys and owns the parts.
    `gas` lists the gas of every mined transaction by kind: `deploy`, `setup` (weights
    and hand-over), `add_data`, `refund`, `report`, `predict`; reverted ones under
    `<kind> (reverted)`."""

    OWNER = "deployer"

    def __init__(
        self,
        params: DTRParams,
        learner: Perceptron,
        balances: dict[str, int],
        contract: str = "contract",
        fee_sink: str = "fees",
        max_features: int = MAX_FEATURES,
    ) -> None:
        if learner.n_classes != 2:
            raise ValueError("the on-chain perceptron is binary")
        self.chain = chain = EvmChain()
        self.n_features = learner.n_features
        self.max_features = max_features
        self.contract_name, self.fee_sink = contract, fee_sink
        self.gas: defaultdict[str, list[int]] = defaultdict(list)
        self.update_gas: list[tuple[int, int]] = []
        """(present features, gas) of every mined add_data."""
        self.sent: list[tuple] = []
        """(call, sender, time, arguments, value) of every call sent, to replay them."""
        for name, balance in balances.items():
            if name != contract:
                chain.set_balance(name, balance)
        weights = [int(w) for w in learner.weights]
        if any(w != v for w, v in zip(weights, learner.weights, strict=True)):
            raise ValueError("the perceptron's weights must be whole numbers")
        significand, exponent = cost_weight_parts(params.cost_weight)
        self.classifier = self._deploy(
            "Perceptron",
            learner.n_features,
            learner.params.learning_rate,
            learner.params.update_intercept,
            int(learner.bias),
        )
        self.data_handler = self._deploy("DataHandler")
        self.mechanism = self._deploy(
            "DepositRefundTake",
            significand,
            exponent,
            params.min_deposit,
            whole_seconds(params.refund_window_days, "refund_window_days"),
            whole_seconds(params.take_window_days, "take_window_days"),
            chain.address(fee_sink),
        )
        self.trainer = self._deploy(
            "CollaborativeTrainer", self.data_handler, self.mechanism, self.classifier
        )
        chain.env.set_balance(self.trainer.address, balances.get(contract, 0))  # the escrow
        for start in range(0, len(weights), WEIGHT_BATCH):
            batch = weights[start : start + WEIGHT_BATCH]
            if any(batch):
                self._setup("set_weights", self.classifier, start, batch)
        for part in (self.classifier, self.data_handler, self.mechanism):
            self._setup("set_trainer", part, self.trainer)

    def _deploy(self, name: str, *args) -> VyperContract:
        bound = self.max_features if name in ("Perceptron", "CollaborativeTrainer") else None
        contract, gas = self.chain.deploy(
            self.OWNER, name, *args, max_features=bound or MAX_FEATURES
        )
        self.gas["deploy"].append(gas)
        self.gas[f"deploy {name}"].append(gas)
        return contract

    def _setup(self, function: str, part: VyperContract, *args) -> None:
        receipt = self.chain.transact(self.OWNER, part, function, *args)
        if not receipt.ok:
            raise RuntimeError(f"{function} failed: {receipt.reason}")
        self.gas["setup"].append(receipt.gas)

    def balance(self, name: str) -> int:
        if name == self.contract_name:
            return self.chain.balance(self.trainer.address)
        return self.chain.balance(name)

    def parts(self) -> dict[str, Address]:
        """The contracts that must never hold money: name -> address."""
        return {
            "data handler": self.data_handler.address,
            "mechanism": self.mechanism.address,
            "classifier": self.classifier.address,
        }

    # -- calls ---------------------------------------------------------------------------

    def _call(
        self, kind: str, sender: str, time: int, *args, value: int = 0, paid_as: str = ""
    ) -> Receipt:
        """Send `trainer.kind(*args)`; the receipt says what its gas pays for, `paid_as`
        (default `kind`; one of GAS_CALLS)."""
        self.sent.append((kind, sender, time, args, value))
        self.chain.time = time
        receipt = self.chain.transact(sender, self.trainer, kind, *args, value=value)
        if receipt.reason != INSUFFICIENT_FUNDS:
            self.gas[kind if receipt.ok else f"{kind} (reverted)"].append(receipt.gas)
        receipt.paid_as = paid_as or kind
        return receipt

    def add_data(self, sender: str, value: int, features: list[int], label: int, time: int):
        receipt = self._call("add_data", sender, time, features, label, value=value)
        if receipt.ok:
            self.update_gas.append((len(features), receipt.gas))
        return receipt

    def refund(self, sender: str, contribution_id: int, features: list[int], time: int):
        return self._call("refund", sender, time, contribution_id, features)

    def report(self, sender: str, contribution_id: int, features: list[int], time: int, take=False):
        """Report a contribution; `take`: after its take window (anyone takes what is left)."""
        paid_as = "take" if take else "report"
        return self._call("report", sender, time, contribution_id, features, paid_as=paid_as)

    def predict(self, sender: str, value: int, features: list[int], time: int):
        return self._call("predict", sender, time, features, value=value)

    # -- free reads ----------------------------------------------------------------------

    def add_cost(self, time: int) -> int | None:
        """The least deposit an add needs at `time` (None: no add possible then)."""
        cost = self.mechanism.add_cost(time)
        return cost or None

    def stored(self, part: VyperContract, variable: str, key: int | str | None = None) -> int:
        """A storage variable of a value type, or one entry of a `HashMap` of them (an
        integer or account-name key), read from the state without running any code."""
        slot = part.compiler_data.storage_layout["storage_layout"][variable]["slot"]
        if key is not None:
            if isinstance(key, str):
                key = int.from_bytes(self.chain.address(key).canonical_address, "big")
            slot = int.from_bytes(keccak(slot.to_bytes(32, "big") + key.to_bytes(32, "big")))
        value = self.chain.env.get_storage(part.address, slot)
        return value - (1 << 256) if value >> 255 else value  # the int256 ones are signed

    def weight(self, feature: int) -> int:
        return self.stored(self.classifier, "weights", feature)

    def weights(self) -> list[int]:
        """The classifier's weights, read from storage (`get_weights` runs the same read)."""
        return [self.stored(self.classifier, "weights", i) for i in range(self.n_features)]

    def bias(self) -> int:
        return self.stored(self.classifier, "bias")

    def model_predicts(self, features: list[int]) -> int:
        """The classifier's class for a sample (a free view call)."""
        return self.classifier.predict(features)

    def contribution(self, contribution_id: int):
        return self.data_handler.contribution(contribution_id)

    def reported(self, contribution_id: int, name: str) -> bool:
        return self.data_handler.reported(contribution_id, self.chain.address(name))

    def verified(self, name: str) -> int:
        return self.stored(self.mechanism, "good", name)

    def total_verified(self) -> int:
        return self.stored(self.mechanism, "total_good")
