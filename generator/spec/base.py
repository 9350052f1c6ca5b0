"""What every model of the spec language builds on."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

import generator.names as c

NAME_PATTERN = c.DNS1123_LABEL


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True, frozen=True)
