"""The ledger: every account's integer balance and the append-only transaction log.

Money is integer units (like wei). A transaction moves value between accounts and never
creates or destroys any, so the sum of all balances is constant for the whole run.
"""

from typing import NamedTuple

Transfer = tuple[str, str, int]
"""(payer, payee, amount): one movement of value inside a transaction."""


class Rejected(Exception):
    """A contract call that was refused (reverted): it changed nothing at all."""


class LedgerError(AssertionError):
    """Money was created, destroyed or overdrawn: a bug in a mechanism, never a rejection."""


class Transaction(NamedTuple):
    """One successful contract call, as the chain would record it."""

    time: float
    sender: str
    call: str
    transfers: tuple[Transfer, ...]
    contribution_id: int | None = None


class Ledger:
    """Integer balances for every account and the log of the calls that moved them.

    `strict=True` re-checks conservation after every transaction (the tests use it);
    otherwise `check()` is called once at the end of a run.
    """

    def __init__(self, *, strict: bool = False):
        self.balances: dict[str, int] = {}
        self.log: list[Transaction] = []
        self.strict = strict
        self._total = 0

    def open_account(self, name: str, balance: int = 0) -> None:
        """Create an account; its opening balance is the only value ever added to the ledger."""
        if name in self.balances:
            raise ValueError(f"account {name!r} already exists")
        if not isinstance(balance, int) or balance < 0:
            raise ValueError(f"account {name!r}: opening balance must be a whole number >= 0")
        self.balances[name] = balance
        self._total += balance

    def __getitem__(self, name: str) -> int:
        return self.balances[name]

    @property
    def total(self) -> int:
        """The sum of all balances, fixed once the accounts are open."""
        return self._total

    def require(self, account: str, amount: int) -> None:
        """Reject the call unless `account` can pay `amount` (checked before any change)."""
        if self.balances[account] < amount:
            raise Rejected(f"{account} has {self.balances[account]} units, needs {amount}")

    def commit(
        self,
        time: float,
        sender: str,
        call: str,
        transfers: tuple[Transfer, ...] = (),
        contribution_id: int | None = None,
    ) -> Transaction:
        """Apply a call's transfers together and log it as one transaction.

        Mechanisms check every condition (and `require` the payer's funds) before they
        change any state, so a transfer that would overdraw an account here is a bug.
        """
        balances = self.balances
        for done, (payer, payee, amount) in enumerate(transfers):
            if amount < 0 or payee not in balances or balances[payer] < amount:
                for undo_payer, undo_payee, undo_amount in transfers[:done]:
                    balances[undo_payer] += undo_amount
                    balances[undo_payee] -= undo_amount
                raise LedgerError(f"{call}: invalid transfer of {amount} from {payer} to {payee}")
            balances[payer] -= amount
            balances[payee] += amount
        tx = Transaction(time, sender, call, transfers, contribution_id)
        self.log.append(tx)
        if self.strict:
            self.check()
        return tx

    def check(self) -> None:
        """Raise LedgerError unless value is conserved and no balance is negative."""
        total = sum(self.balances.values())
        if total != self._total:
            raise LedgerError(f"balances sum to {total}, expected {self._total}")
        negative = [name for name, balance in self.balances.items() if balance < 0]
        if negative:
            raise LedgerError(f"negative balance in {', '.join(negative)}")
