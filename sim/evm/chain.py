"""One EVM of our own (titanoboa's py-evm), its named accounts, and calls sent as real
transactions, so that gas is what a block would charge."""

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import boa
from boa.contracts.vyper.vyper_contract import VyperContract
from boa.util.abi import Address, abi_encode
from eth.vm.spoof import SpoofTransaction
from eth_abi import decode as abi_decode
from eth_utils import ValidationError, keccak

CONTRACTS = Path(__file__).resolve().parents[2] / "contracts"
"""The Vyper sources (contracts/ at the checkout's root)."""

GAS_LIMIT = 30_000_000
"""Gas given to every transaction (a block's limit); unused gas costs nothing at price 0."""

MAX_FEATURES = 1024
"""The most present features of one sample the contracts take as written (`MAX_FEATURES`
in the sources). Vyper reserves memory for the bound, and every call that passes features
pays for touching memory past it (about 29k gas per call at 1024, 5k at 256, against a
bound of 16), where the reference's Solidity arrays cost only their length: `bound_for`
fits the bound to the data, and the contracts are compiled with it."""

ERROR_STRING = bytes.fromhex("08c379a0")
"""The selector of `Error(string)`: a revert with a reason."""

INSUFFICIENT_FUNDS = "insufficient funds"
"""The reason of a transaction that is never mined: its sender cannot pay its value."""


def block_time(time: float) -> int:
    """A time in seconds as a block timestamp (a whole number of seconds, >= 0)."""
    if time != int(time) or time < 0:
        raise ValueError(f"a block timestamp is a whole number of seconds >= 0, got {time}")
    return int(time)


@cache
def compiled(name: str, max_features: int = MAX_FEATURES):
    """contracts/{name}.vy compiled (a titanoboa deployer), with `MAX_FEATURES` set to
    `max_features` where the contract has it; compiled once per process."""
    path = CONTRACTS / f"{name}.vy"
    source = path.read_text()
    written = f"MAX_FEATURES: constant(uint256) = {MAX_FEATURES}"
    if written in source:
        source = source.replace(written, f"MAX_FEATURES: constant(uint256) = {max_features}")
    return boa.loads_partial(source, name=name, filename=str(path))


@dataclass
class Receipt:
    """What one transaction did: mined and succeeded (`ok`), its return value, the revert
    reason (or `INSUFFICIENT_FUNDS`: never mined) and the gas it used (0 if never mined)."""

    ok: bool
    output: Any = None
    reason: str | None = None
    gas: int = 0
    paid_as: str = ""
    """The kind of call the gas pays for, in the results (sim.evm.trainer.GAS_CALLS)."""


class EvmChain:
    """A fresh EVM of its own (titanoboa's py-evm at the latest fork it has), whose
    accounts are named: `address(name)` is the same 20 bytes in every chain."""

    def __init__(self) -> None:
        self.env = boa.Env()
        self.state = self.env.evm.vm.state
        self.state.execution_context._base_fee_per_gas = 0  # gas price 0 is then valid

    def address(self, name: str) -> Address:
        return Address(keccak(b"decai-sim account " + name.encode())[-20:])

    def balance(self, name: str | Address) -> int:
        address = name if isinstance(name, Address) else self.address(name)
        return self.env.get_balance(address)

    def set_balance(self, name: str, balance: int) -> None:
        self.env.set_balance(self.address(name), balance)

    @property
    def time(self) -> int:
        return self.env.evm.patch.timestamp

    @time.setter
    def time(self, timestamp: int) -> None:
        self.env.evm.patch.timestamp = block_time(timestamp)

    def deploy(
        self, sender: str, name: str, *args, max_features: int = MAX_FEATURES
    ) -> tuple[VyperContract, int]:
        """Deploy contracts/{name}.vy (compiled with `max_features`) with constructor
        `args`; the contract and the gas its deployment used."""
        deployer = compiled(name, max_features)
        initcode = deployer.compiler_data.bytecode
        constructor = deployer.compiler_data.global_ctx.init_function
        if constructor is not None:
            arguments = constructor.arguments
            schema = "(" + ",".join(a.typ.abi_type.selector_name() for a in arguments) + ")"
            initcode += abi_encode(schema, [getattr(a, "address", a) for a in args])
        computation, gas = self._execute(self.address(sender), b"", initcode, 0)
        if computation is None or computation.is_error:
            raise RuntimeError(f"deploying {name} failed: {self._reason(computation)}")
        address = Address(computation.msg.storage_address)
        contract = VyperContract(
            deployer.compiler_data, env=self.env, override_address=address, skip_initcode=True
        )
        contract._set_bytecode(self.env.get_code(address))
        return contract, gas

    def transact(
        self, sender: str, contract: VyperContract, function: str, *args, value: int = 0
    ) -> Receipt:
        """`contract.function(*args)` sent by `sender` with `value`, as one transaction."""
        method = getattr(contract, function)
        data = method.prepare_calldata(*args)
        computation, gas = self._execute(
            self.address(sender), contract.address.canonical_address, data, value
        )
        if computation is None:
            return Receipt(False, reason=INSUFFICIENT_FUNDS)
        if computation.is_error:
            return Receipt(False, reason=self._reason(computation), gas=gas)
        output = contract.marshal_to_python(computation, method.func_t.return_type)
        return Receipt(True, output=output, gas=gas)

    def _execute(self, sender: Address, to: bytes, data: bytes, value: int):
        """Apply one transaction; (its computation, the gas it used), or (None, 0) when the
        sender cannot pay for it (an invalid transaction, never mined)."""
        state = self.state
        # A new transaction: storage's original values are the current ones and every
        # account and slot is cold again, as between two transactions of a block.
        state.lock_changes()
        sender_bytes = sender.canonical_address
        transaction = self.env.evm.vm.create_unsigned_transaction(
            nonce=state.get_nonce(sender_bytes),
            gas_price=0,
            gas=GAS_LIMIT,
            to=to,
            value=value,
            data=data,
        )
        try:
            computation = state.apply_transaction(SpoofTransaction(transaction, from_=sender_bytes))
        except ValidationError as error:
            if "balance" in str(error):
                return None, 0
            raise
        used = GAS_LIMIT - computation.get_gas_remaining()
        refund = state.get_transaction_executor().calculate_gas_refund(computation, used)
        return computation, used - refund + computation.data_floor_gas

    @staticmethod
    def _reason(computation) -> str:
        output = computation.output if computation is not None else b""
        if output[:4] == ERROR_STRING:
            return abi_decode(["string"], output[4:])[0]
        return f"reverted without a reason ({type(computation.error).__name__})"
