"""Pagination for long, sorted lists (a grid's to-do, the case list).

``PageNumberPagination`` slices the full query: the database joins every matching row to what the list shows
(category, place, owner …) and sorts those wide rows to keep one page, then counts them in a second pass. Here the
page is chosen on the sort keys alone (``values_list("pk")``: narrow rows, the same filters and order), carrying the
total as a window count, and only that page's rows are then read in full, by primary key, with the query's joins
(a "deferred join"). Same items, same order, same count.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, QuerySet, Window
from django.http import HttpRequest
from ninja import Field
from ninja.pagination import PageNumberPagination as NinjaPageNumberPagination

from gongzhi.core.schemas import INT64_MAX

# The highest page number a list accepts: beyond it (2**63 and the like) a request is a 400 naming ``page``, where the
# offset it makes would overflow the database's LIMIT/OFFSET (a 500). Every offset under it fits in 64 bits.
MAX_PAGE = 2**31 - 1


def page_of(
    queryset: QuerySet[Any], offset: int, limit: int, *, only: Sequence[str] = ()
) -> tuple[list[Any], int]:
    """Rows ``offset … offset + limit`` of a sorted queryset and how many rows it has in all. ``only``: the
    columns the caller reads (the rest are not loaded)."""
    window = slice(offset, offset + limit)
    total: int | None = None
    if queryset.query.distinct or queryset.query.combinator:  # a window count would count rows, not results
        ids = list(queryset.values_list("pk", flat=True)[window])
    else:
        picked = list(queryset.annotate(_gz_total=Window(Count("pk"))).values_list("pk", "_gz_total")[window])
        ids = [pk for pk, _ in picked]
        total = picked[0][1] if picked else None
    if total is None:
        total = queryset.count()
    if not ids:
        return [], total
    # The page's rows by primary key alone: they were chosen through the queryset's filters (its scope) already,
    # and repeating those filters would only make the database plan them again. The joins and prefetches are kept;
    # annotations are not (a list's rows must not need them).
    page = queryset.model._default_manager.filter(pk__in=ids)
    page.query.select_related = queryset.query.select_related
    page.query.deferred_loading = queryset.query.deferred_loading
    if only:
        page = page.only(*only)
    page = page.prefetch_related(*getattr(queryset, "_prefetch_related_lookups", ()))
    rows = {row.pk: row for row in page}
    return [rows[pk] for pk in ids if pk in rows], total


class PageNumberPagination(NinjaPageNumberPagination):
    """ninja's page-number pagination with the page number bounded (see ``MAX_PAGE``): every API list uses it."""

    class Input(NinjaPageNumberPagination.Input):
        page: int = Field(1, ge=1, le=MAX_PAGE)
        page_size: int | None = Field(None, ge=1, le=INT64_MAX)


class DeferredJoinPagination(PageNumberPagination):
    def __init__(self, *, only: Sequence[str] = (), **kwargs: Any) -> None:
        self.only = tuple(only)
        super().__init__(**kwargs)

    def paginate_queryset(
        self, queryset: QuerySet[Any], pagination: NinjaPageNumberPagination.Input, request: HttpRequest, **params: Any
    ) -> Any:
        page_size = self._get_page_size(pagination.page_size)
        items, count = page_of(queryset, (pagination.page - 1) * page_size, page_size, only=self.only)
        return {self.items_attribute: items, "count": count}


class SortKeyPaginator(Paginator[Any]):
    """Django's paginator for pages (HTML lists), with each page picked by :func:`page_of`."""

    object_list: QuerySet[Any]

    def page(self, number: Any) -> Page[Any]:
        number = self.validate_number(number)
        rows, _ = page_of(self.object_list, (number - 1) * self.per_page, self.per_page)
        return Page(rows, number, self)
