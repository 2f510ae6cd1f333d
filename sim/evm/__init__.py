"""The contract on a real EVM: the Vyper contracts in contracts/, deployed on an in-process
py-evm (titanoboa, no node, no network), and a cross-check that drives them and the Python
`CollaborativeTrainer` (DTR mechanism, `perceptron` learner) with the same calls.

- sim/evm/chain.py: one EVM, its named accounts and real transactions (`EvmChain`);
- sim/evm/trainer.py: the four contracts deployed and set up for a run (`EvmTrainer`);
- sim/evm/crosscheck.py: the same calls to both sides, compared after each (`CrossCheck`).

Every call is a real transaction (`EvmChain.transact`): intrinsic gas, calldata, cold and
warm storage, refunds and the calldata floor are charged as a block would charge them, at
gas price 0 (and base fee 0), so balances move only by the calls' values and compare unit
for unit (1 unit = 1 wei) with the Python ledger. A transaction the sender cannot pay for
is invalid and never mined: that is the Python ledger's "needs" rejection.

The deployment follows the reference (Harris & Waggoner's `CollaborativeTrainer64`
delegating to a data handler, an incentive mechanism and a classifier): four contracts,
so that calls pay for the calls between them as the deployed system did. The registry
stores a contribution's record and the hash of its features, never the features: refund
and report pass the features again, as the reference does, where the Python contract
looks its sample up by id.

Needs the `evm` extra (titanoboa, vyper): `pip install -e ".[evm]"`.
"""
