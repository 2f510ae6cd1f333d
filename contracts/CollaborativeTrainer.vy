# pragma version ~=0.4.3
"""
@title Collaborative trainer
@notice The entry point of decai-sim's contract: it holds the deposits (its balance is the
        escrow), keeps the registry in a data handler, asks the incentive mechanism what
        each call costs and pays, and trains the classifier on each accepted add. A call
        the mechanism refuses reverts whole.
        Features are passed in every call as the ascending indices of the present
        features; the registry keeps only their hash, which refund and report check.
"""

MAX_FEATURES: constant(uint256) = 1024

struct Contribution:
    sender: address
    time: uint256
    label: uint256
    deposit: uint256
    remaining: uint256
    refunded: bool
    data_hash: bytes32

interface DataHandler:
    def add(
        sender: address, time: uint256, label: uint256, deposit: uint256, data_hash: bytes32
    ) -> uint256: nonpayable
    def contribution(id: uint256) -> Contribution: view
    def reported(id: uint256, account: address) -> bool: view
    def settle_refund(id: uint256): nonpayable
    def settle_report(
        id: uint256, amount: uint256, reporter: address, inside_take_window: bool
    ): nonpayable

interface IncentiveMechanism:
    def handle_add_data(deposit: uint256, now: uint256) -> uint256: nonpayable
    def handle_refund(
        sender: address, c: Contribution, prediction: uint256, now: uint256
    ) -> uint256: nonpayable
    def handle_report(
        reporter: address, c: Contribution, reported: bool, prediction: uint256, now: uint256
    ) -> (uint256, bool): nonpayable
    def distribute_fee(): payable

interface Classifier:
    def predict(features: DynArray[uint256, MAX_FEATURES]) -> uint256: view
    def update(features: DynArray[uint256, MAX_FEATURES], label: uint256): nonpayable

event Added:
    id: indexed(uint256)
    sender: indexed(address)
    label: uint256
    deposit: uint256

event Refunded:
    id: indexed(uint256)
    sender: indexed(address)
    amount: uint256

event Reported:
    id: indexed(uint256)
    reporter: indexed(address)
    amount: uint256

DATA_HANDLER: public(immutable(DataHandler))
MECHANISM: public(immutable(IncentiveMechanism))
CLASSIFIER: public(immutable(Classifier))
N_CLASSES: constant(uint256) = 2


@deploy
def __init__(data_handler: DataHandler, mechanism: IncentiveMechanism, classifier: Classifier):
    DATA_HANDLER = data_handler
    MECHANISM = mechanism
    CLASSIFIER = classifier


@internal
@view
def _checked(id: uint256, features: DynArray[uint256, MAX_FEATURES]) -> Contribution:
    c: Contribution = staticcall DATA_HANDLER.contribution(id)
    assert keccak256(abi_encode(features)) == c.data_hash, "features differ from the added ones"
    return c


@external
@payable
def add_data(features: DynArray[uint256, MAX_FEATURES], label: uint256) -> uint256:
    assert label < N_CLASSES, "the label is not a class"
    extcall MECHANISM.handle_add_data(msg.value, block.timestamp)
    id: uint256 = extcall DATA_HANDLER.add(
        msg.sender, block.timestamp, label, msg.value, keccak256(abi_encode(features))
    )
    extcall CLASSIFIER.update(features, label)
    log Added(id=id, sender=msg.sender, label=label, deposit=msg.value)
    return id


@external
def refund(id: uint256, features: DynArray[uint256, MAX_FEATURES]) -> uint256:
    c: Contribution = self._checked(id, features)
    prediction: uint256 = staticcall CLASSIFIER.predict(features)
    amount: uint256 = extcall MECHANISM.handle_refund(msg.sender, c, prediction, block.timestamp)
    extcall DATA_HANDLER.settle_refund(id)
    send(msg.sender, amount)
    log Refunded(id=id, sender=msg.sender, amount=amount)
    return amount


@external
def report(id: uint256, features: DynArray[uint256, MAX_FEATURES]) -> uint256:
    c: Contribution = self._checked(id, features)
    prediction: uint256 = staticcall CLASSIFIER.predict(features)
    reported: bool = staticcall DATA_HANDLER.reported(id, msg.sender)
    amount: uint256 = 0
    inside: bool = False
    amount, inside = extcall MECHANISM.handle_report(
        msg.sender, c, reported, prediction, block.timestamp
    )
    extcall DATA_HANDLER.settle_report(id, amount, msg.sender, inside)
    send(msg.sender, amount)
    log Reported(id=id, reporter=msg.sender, amount=amount)
    return amount


@external
@payable
def predict(features: DynArray[uint256, MAX_FEATURES]) -> uint256:
    """@notice The model's class for the sample, for a fee of msg.value (may be 0)."""
    if msg.value != 0:
        extcall MECHANISM.distribute_fee(value=msg.value)
    return staticcall CLASSIFIER.predict(features)
