"""Small schemas and parameter types shared by every app's router."""

from __future__ import annotations

from typing import TypeAlias

from ninja import Schema
from ninja.params import P, PathEx

# IDs are 64-bit in the database; a bigger number would fail there as a server error
# instead of the "not valid" answer it deserves.
MAX_ID = 2**63 - 1

ObjectId: TypeAlias = PathEx[int, P(ge=1, le=MAX_ID, description="The object's ID.")]


class Ref(Schema):
    """Another object mentioned by ID and name, to show it without fetching it."""

    id: int
    name: str
