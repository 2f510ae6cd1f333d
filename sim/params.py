"""`Params`: the base of every mechanism's and behaviour's own parameter table.

Each mechanism or behaviour declares the config keys it understands as a pydantic model;
unknown keys are an error, numbers must be finite (infinity and NaN are refused), and
every value is checked where the config is read.
"""

from pydantic import BaseModel, ConfigDict


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class KeyedError(ValueError):
    """Raised inside a validator to blame a key below the validated section."""

    def __init__(self, key: str, message: str):
        super().__init__(f"{key}: {message}")
        self.key = key
        self.message = message


def require_longer(params: Params, key: str, than: str) -> None:
    """A window `key` that must end after the window `than` (e.g. take after refund)."""
    longer, shorter = getattr(params, key), getattr(params, than)
    if longer <= shorter:
        raise KeyedError(key, f"must be longer than {than} ({shorter}), got {longer}")


def first_line(exc: Exception) -> str:
    """The first line of a library's error message, so ours stays one line."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return lines[0] if lines else type(exc).__name__
