from __future__ import annotations

from ninja import Field, Schema

from gongzhi.core.schemas import InputSchema, Int64


class SuggestIn(InputSchema):
    text: str = Field(..., min_length=1, max_length=5000)
    place_id: Int64 | None = None


class SuggestionOut(Schema):
    id: Int64
    name: str
    confidence: float
    words: list[str]


class SuggestOut(Schema):
    version: Int64 | None
    threshold: float | None
    confident: bool = Field(..., description="the top body is above the threshold the model may decide alone at")
    bodies: list[SuggestionOut]
    categories: list[SuggestionOut]
