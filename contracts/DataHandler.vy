# pragma version ~=0.4.3
"""
@title Registry of contributions
@notice One record per accepted add, by id (0, 1, ...): who sent it, when, its label, its
        deposit, what is left of it, whether the submitter was refunded, and the hash of
        its features. The features themselves are not stored: later calls pass them again
        and the trainer checks them against the hash. Only the trainer writes.
"""

struct Contribution:
    sender: address
    time: uint256
    label: uint256
    deposit: uint256
    remaining: uint256
    refunded: bool
    data_hash: bytes32

OWNER: immutable(address)

trainer: public(address)
count: public(uint256)
records: HashMap[uint256, Contribution]
reported: public(HashMap[uint256, HashMap[address, bool]])


@deploy
def __init__():
    OWNER = msg.sender


@external
def set_trainer(trainer: address):
    assert msg.sender == OWNER, "only the owner"
    assert self.trainer == empty(address), "the trainer is already set"
    assert trainer != empty(address), "no trainer"
    self.trainer = trainer


@external
def add(
    sender: address, time: uint256, label: uint256, deposit: uint256, data_hash: bytes32
) -> uint256:
    assert msg.sender == self.trainer, "only the trainer"
    id: uint256 = self.count
    self.records[id] = Contribution(
        sender=sender,
        time=time,
        label=label,
        deposit=deposit,
        remaining=deposit,
        refunded=False,
        data_hash=data_hash,
    )
    self.count = id + 1
    return id


@external
@view
def contribution(id: uint256) -> Contribution:
    assert id < self.count, "no contribution with this id"
    return self.records[id]


@external
def settle_refund(id: uint256):
    """@notice The submitter was refunded all that was left."""
    assert msg.sender == self.trainer, "only the trainer"
    self.records[id].remaining = 0
    self.records[id].refunded = True


@external
def settle_report(id: uint256, amount: uint256, reporter: address, inside_take_window: bool):
    """@notice `reporter` took `amount`; inside the take window it may not report again."""
    assert msg.sender == self.trainer, "only the trainer"
    self.records[id].remaining -= amount
    if inside_take_window:
        self.reported[id][reporter] = True
