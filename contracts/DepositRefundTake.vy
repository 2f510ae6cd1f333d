# pragma version ~=0.4.3
"""
@title Deposit, Refund, Take (Harris & Waggoner 2019), as decai-sim's `dtr` mechanism
@notice The money rules of the trainer; the trainer holds the deposits (in wei) and the
        registry, this contract decides. Only the trainer calls it.
        deposit(t) = max(min_deposit, int(cost_weight * 60 / sqrt(t - t_last))), computed
        as the simulation computes it in IEEE-754 binary64 (Python floats): cost_weight
        is given exactly as significand * 2**exponent, and each of the three operations
        (* 60, sqrt, /) is rounded to nearest, ties to even, as the float operation is.
        Refund (submitter, once, t >= t_add + refund_window, the model agrees) pays what
        is left and counts one verified contribution. Report inside the take window
        (not the submitter, once per reporter, t >= t_add + refund_window, the reporter
        has a verified contribution, the model disagrees) takes
        min(deposit * good[reporter] // total_good, left), rejected when the share is 0;
        after the take window anyone takes all that is left. Prediction fees are shared
        by verified count, floor each; the remainder (all when nobody is verified) goes
        to the fee sink.
"""

struct Contribution:
    sender: address
    time: uint256
    label: uint256
    deposit: uint256
    remaining: uint256
    refunded: bool
    data_hash: bytes32

MAX_VERIFIED: constant(uint256) = 4096  # accounts that share prediction fees
TWO_52: constant(uint256) = 1 << 52
TWO_53: constant(uint256) = 1 << 53

OWNER: immutable(address)
MIN_DEPOSIT: public(immutable(uint256))
REFUND_WINDOW: public(immutable(uint256))
TAKE_WINDOW: public(immutable(uint256))
FEE_SINK: public(immutable(address))
# cost_weight * 60 as a binary64 value: COST_SIGNIFICAND * 2**COST_EXPONENT
COST_SIGNIFICAND: immutable(uint256)
COST_EXPONENT: immutable(int256)

trainer: public(address)
last_add: public(uint256)
good: public(HashMap[address, uint256])
total_good: public(uint256)
verified: public(DynArray[address, MAX_VERIFIED])


@deploy
def __init__(
    cost_significand: uint256,
    cost_exponent: int256,
    min_deposit: uint256,
    refund_window: uint256,
    take_window: uint256,
    fee_sink: address,
):
    """
    @param cost_significand, cost_exponent cost_weight = cost_significand * 2**cost_exponent
           with 2**52 <= cost_significand < 2**53 (a normal binary64 number, exactly)
    @param refund_window, take_window seconds after an add
    """
    assert cost_significand >= TWO_52 and cost_significand < TWO_53, "cost weight not normal"
    assert cost_exponent >= -1100 and cost_exponent <= 1000, "cost weight out of range"
    assert min_deposit > 0, "min deposit must be positive"
    assert take_window > refund_window, "take window must be longer than the refund window"
    assert fee_sink != empty(address), "no fee sink"
    OWNER = msg.sender
    MIN_DEPOSIT = min_deposit
    REFUND_WINDOW = refund_window
    TAKE_WINDOW = take_window
    FEE_SINK = fee_sink
    significand: uint256 = 0
    exponent: int256 = 0
    significand, exponent = self._round(cost_significand * 60, 1, cost_exponent)
    COST_SIGNIFICAND = significand
    COST_EXPONENT = exponent


@external
def set_trainer(trainer: address):
    assert msg.sender == OWNER, "only the owner"
    assert self.trainer == empty(address), "the trainer is already set"
    assert trainer != empty(address), "no trainer"
    self.trainer = trainer


# -- the deposit, in binary64 arithmetic ---------------------------------------------------


@internal
@pure
def _bits(x: uint256) -> uint256:
    """The number of binary digits of x (0 for 0)."""
    n: uint256 = 0
    y: uint256 = x
    if y >> 128 != 0:
        y = y >> 128
        n = 128
    if y >> 64 != 0:
        y = y >> 64
        n += 64
    if y >> 32 != 0:
        y = y >> 32
        n += 32
    if y >> 16 != 0:
        y = y >> 16
        n += 16
    if y >> 8 != 0:
        y = y >> 8
        n += 8
    if y >> 4 != 0:
        y = y >> 4
        n += 4
    if y >> 2 != 0:
        y = y >> 2
        n += 2
    if y >> 1 != 0:
        y = y >> 1
        n += 1
    return n + y


@internal
@pure
def _round(n: uint256, d: uint256, e: int256) -> (uint256, int256):
    """
    @notice The binary64 number nearest to n / d * 2**e (ties to even), as m * 2**x with
            2**52 <= m < 2**53. n, d > 0, n < 2**190, d < 2**60; no subnormals.
    """
    # Scale so that q = floor(n * 2**t / d) has 54 or 55 bits (n / d * 2**t is in
    # (2**53, 2**55)), then drop the 1 or 2 extra bits, rounding by them and the remainder.
    t: int256 = 54 + convert(self._bits(d), int256) - convert(self._bits(n), int256)
    q: uint256 = 0
    r: uint256 = 0
    if t >= 0:
        scaled: uint256 = n << convert(t, uint256)
        q = scaled // d
        r = scaled % d
    else:
        divisor: uint256 = d << convert(-t, uint256)
        q = n // divisor
        r = n % divisor
    extra: uint256 = 1
    if q >> 54 != 0:
        extra = 2
    m: uint256 = q >> extra
    dropped: uint256 = q & ((1 << extra) - 1)
    half: uint256 = 1 << (extra - 1)
    if dropped > half or (dropped == half and (r != 0 or m & 1 == 1)):
        m += 1
    x: int256 = e - t + convert(extra, int256)
    if m == TWO_53:
        m = TWO_52
        x += 1
    return m, x


@internal
@pure
def _sqrt(s: uint256) -> (uint256, int256):
    """@notice The binary64 number nearest to sqrt(s), 0 < s < 2**104, as m * 2**x."""
    bits: uint256 = self._bits(s)
    assert bits <= 104, "too long since the last add"
    # s * 4**k is in [2**104, 2**106), so its square root has 53 bits.
    two_k: uint256 = 106 - bits
    if two_k % 2 == 1:
        two_k -= 1
    scaled: uint256 = s << two_k
    root: uint256 = isqrt(scaled)
    if scaled - root * root > root:  # sqrt(scaled) >= root + 1/2 (never equal)
        root += 1
    return root, -convert(two_k // 2, int256)


@internal
@view
def _add_cost(now: uint256) -> uint256:
    """@notice The least deposit an add needs at `now`; 0 when no add is possible."""
    if now <= self.last_add:
        return 0
    root: uint256 = 0
    root_exponent: int256 = 0
    root, root_exponent = self._sqrt(now - self.last_add)
    m: uint256 = 0
    x: int256 = 0
    m, x = self._round(COST_SIGNIFICAND, root, COST_EXPONENT - root_exponent)
    cost: uint256 = 0  # int(m * 2**x): truncated toward zero
    if x >= 0:
        cost = m << convert(x, uint256)
    elif x > -256:
        cost = m >> convert(-x, uint256)
    return max(MIN_DEPOSIT, cost)


@external
@view
def add_cost(now: uint256) -> uint256:
    return self._add_cost(now)


# -- the calls ------------------------------------------------------------------------------


@external
def handle_add_data(deposit: uint256, now: uint256) -> uint256:
    assert msg.sender == self.trainer, "only the trainer"
    cost: uint256 = self._add_cost(now)
    assert cost != 0, "no time has passed since the last accepted add"
    assert deposit >= cost, "deposit is below the required deposit"
    self.last_add = now
    return cost


@external
def handle_refund(sender: address, c: Contribution, prediction: uint256, now: uint256) -> uint256:
    assert msg.sender == self.trainer, "only the trainer"
    assert sender == c.sender, "only the submitter may refund a contribution"
    assert not c.refunded, "the contribution was already refunded"
    assert c.remaining != 0, "nothing is left of the deposit"
    assert now >= c.time + REFUND_WINDOW, "the refund window has not passed"
    assert prediction == c.label, "the model does not predict the submitted label"
    count: uint256 = self.good[sender]
    if count == 0:
        self.verified.append(sender)
    self.good[sender] = count + 1
    self.total_good += 1
    return c.remaining


@external
def handle_report(
    reporter: address, c: Contribution, reported: bool, prediction: uint256, now: uint256
) -> (uint256, bool):
    """@return the amount taken, and whether it was inside the take window."""
    assert msg.sender == self.trainer, "only the trainer"
    left: uint256 = c.remaining
    assert left != 0, "nothing is left of the deposit"
    if now >= c.time + TAKE_WINDOW:
        return left, False
    assert reporter != c.sender, "you cannot take your own deposit inside the take window"
    assert not reported, "the reporter already reported this contribution"
    assert now >= c.time + REFUND_WINDOW, "the refund window has not passed"
    good: uint256 = self.good[reporter]
    assert good != 0, "the reporter has no verified good contribution"
    assert prediction != c.label, "the model agrees with the reported contribution"
    share: uint256 = c.deposit * good // self.total_good
    assert share != 0, "the reporter's share rounds to zero"
    return min(share, left), True


@external
@payable
def distribute_fee():
    """@notice Share msg.value among verified contributors; the rest to the fee sink."""
    assert msg.sender == self.trainer, "only the trainer"
    total: uint256 = self.total_good
    paid: uint256 = 0
    if total != 0:
        for account: address in self.verified:
            share: uint256 = msg.value * self.good[account] // total
            if share != 0:
                send(account, share)
                paid += share
    if msg.value > paid:
        send(FEE_SINK, msg.value - paid)
