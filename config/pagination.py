"""Page-number pagination with the DRF envelope {count, next, previous, results}."""

from collections.abc import Callable

from django.db.models import QuerySet
from rest_framework.pagination import PageNumberPagination


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_paginated_response_schema(self, schema):
        # All four keys are always there (next and previous are null at the ends): required for a generated client.
        envelope = super().get_paginated_response_schema(schema)
        envelope["required"] = ["count", "next", "previous", "results"]
        return envelope


class CountedApart:
    """What a paginator pages: sliced from `rows`, counted by `count()` (the rows counted without the joins or
    sub-queries that only add columns, or a count a validator has already read)."""

    def __init__(self, rows: QuerySet, count: Callable[[], int]):
        self.rows, self._count = rows, count

    @property
    def ordered(self) -> bool:
        return self.rows.ordered

    def count(self) -> int:
        return self._count()

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, key):
        return self.rows[key]
