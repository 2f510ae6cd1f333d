"""What every layer shares about the simulated chain: its unit of time and the record of
a contribution. The contract, the mechanisms and the agents all import it; it imports
nothing of theirs."""

from typing import NamedTuple

DAY = 86_400.0
"""Seconds in a day: simulated time is in seconds, as block timestamps are."""


class Contribution(NamedTuple):
    """One accepted add, as the contract's registry records it; never changed afterwards.

    What becomes of it (refunded, reported, how much of its deposit is left) is each
    mechanism's own state, kept by contribution id."""

    id: int
    sample: int
    """An index into the data pool: features are never copied."""
    label: int
    sender: str
    time: float
    deposit: int
    """What the add paid into the contract (its call value)."""
