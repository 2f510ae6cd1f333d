"""What every layer shares about the simulated chain: its unit of time and the record of
a contribution. The contract, the mechanisms and the agents all import it; it imports
nothing of theirs."""

from dataclasses import dataclass, field

DAY = 86_400.0
"""Seconds in a day: simulated time is in seconds, as block timestamps are."""


@dataclass(slots=True, eq=False)
class Contribution:
    """One submitted sample: an id into the data pool, the claimed label and its deposit."""

    id: int
    sample: int
    label: int
    sender: str
    time: float
    deposit: int = 0
    remaining: int = 0
    refunded: bool = False
    reporters: set[str] = field(default_factory=set)
