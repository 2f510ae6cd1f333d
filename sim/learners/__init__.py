"""On-chain-style learners: one module per learner, each registering itself with
`sim.registry.register_learner`; `sim.registry.learners()` lists them by kind."""

from sim.learners.base import Learner, make_learner

__all__ = ["Learner", "make_learner"]
