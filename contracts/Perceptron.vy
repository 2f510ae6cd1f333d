# pragma version ~=0.4.3
"""
@title On-chain perceptron (binary features)
@notice The classifier of decai-sim's `perceptron` learner: integer weights, a fixed
        integer step on a mistake. A sample is the ascending list of the indices of its
        present features (every present feature has value 1).
        predict: 1 iff sum(weights[present]) + bias > 0.
        update (trainer only): with s = +1 for label 1 and -1 for label 0, on a mistake
        (s * score <= 0) every present weight moves by s * learning_rate, and the bias too
        when update_intercept; otherwise nothing is written.
        The owner sets the pre-trained weights in batches, then hands the model to the
        trainer (`set_trainer`), after which only the trainer changes it.
"""

MAX_FEATURES: constant(uint256) = 1024  # present features in one sample
MAX_BATCH: constant(uint256) = 1024  # weights set or read in one call

OWNER: public(immutable(address))
N_FEATURES: public(immutable(uint256))
LEARNING_RATE: public(immutable(int256))
UPDATE_INTERCEPT: public(immutable(bool))

trainer: public(address)
bias: public(int256)
weights: public(HashMap[uint256, int256])


@deploy
def __init__(n_features: uint256, learning_rate: int256, update_intercept: bool, bias: int256):
    assert n_features > 0, "no features"
    assert learning_rate > 0, "learning rate must be positive"
    OWNER = msg.sender
    N_FEATURES = n_features
    LEARNING_RATE = learning_rate
    UPDATE_INTERCEPT = update_intercept
    self.bias = bias


@external
def set_weights(start: uint256, values: DynArray[int256, MAX_BATCH]):
    """@notice Pre-trained weights start .. start + len(values) - 1 (owner, before use)."""
    assert msg.sender == OWNER, "only the owner"
    assert self.trainer == empty(address), "the model is in use"
    assert start + len(values) <= N_FEATURES, "feature index out of range"
    i: uint256 = start
    for value: int256 in values:
        self.weights[i] = value
        i += 1


@external
def set_trainer(trainer: address):
    """@notice Hand the model to its trainer: from now on only the trainer updates it."""
    assert msg.sender == OWNER, "only the owner"
    assert self.trainer == empty(address), "the trainer is already set"
    assert trainer != empty(address), "no trainer"
    self.trainer = trainer


@internal
@view
def _score(features: DynArray[uint256, MAX_FEATURES]) -> int256:
    score: int256 = self.bias
    lowest: uint256 = 0  # indices must be strictly ascending: no feature counts twice
    for i: uint256 in features:
        assert i >= lowest and i < N_FEATURES, "features must be ascending indices"
        score += self.weights[i]
        lowest = i + 1
    return score


@external
@view
def predict(features: DynArray[uint256, MAX_FEATURES]) -> uint256:
    if self._score(features) > 0:
        return 1
    return 0


@external
def update(features: DynArray[uint256, MAX_FEATURES], label: uint256):
    assert msg.sender == self.trainer, "only the trainer"
    score: int256 = self._score(features)
    step: int256 = LEARNING_RATE
    if label == 0:
        step = -LEARNING_RATE
    if (label == 1 and score > 0) or (label == 0 and score < 0):
        return  # no mistake: nothing is written
    for i: uint256 in features:
        self.weights[i] += step
    if UPDATE_INTERCEPT:
        self.bias += step


@external
@view
def get_weights(start: uint256, count: uint256) -> DynArray[int256, MAX_BATCH]:
    """@notice Weights start .. start + count - 1 (a free read for clients)."""
    assert start + count <= N_FEATURES, "feature index out of range"
    out: DynArray[int256, MAX_BATCH] = []
    for i: uint256 in range(start, start + count, bound=MAX_BATCH):
        out.append(self.weights[i])
    return out
