"""`Params`: the base of every mechanism's and behaviour's own parameter table.

Each mechanism or behaviour declares the config keys it understands as a pydantic model;
unknown keys are an error, and every value is checked where the config is read.
"""

from pydantic import BaseModel, ConfigDict


class Params(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
