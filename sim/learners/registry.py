"""The learner registry: model kind -> class."""

from sim.learners.base import Learner

LEARNERS: dict[str, type[Learner]] = {}


def register_learner(cls: type[Learner]) -> type[Learner]:
    LEARNERS[cls.kind] = cls
    return cls


def make_learner(kind: str, n_features: int, n_classes: int, **params: object) -> Learner:
    """Build the learner registered as `kind`; `params` are its `Params` keys."""
    if kind not in LEARNERS:
        raise ValueError(f"unknown model kind {kind!r}; choose one of {', '.join(LEARNERS)}")
    return LEARNERS[kind](n_features, n_classes, **params)
