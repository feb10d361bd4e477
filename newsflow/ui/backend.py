"""The page's reads from Elasticsearch: one thin adapter around the async client.

Builds bodies with :mod:`newsflow.ui.queries`, shapes answers with :mod:`newsflow.ui.views`;
the only logic here is which index to ask and how a failure is reported.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from newsflow.core.errors import RetryableError
from newsflow.core.names import Names
from newsflow.ui import queries, views
from newsflow.ui.queries import InvalidParams, PageQuery


def _reason(exc: Exception) -> str:
    info = getattr(exc, "info", None) or getattr(exc, "body", None)
    if isinstance(info, Mapping):
        error = info.get("error")
        if isinstance(error, Mapping):
            cause = (error.get("root_cause") or [error])[0]
            return str(cause.get("reason") or error.get("type") or exc)[:300]
    return str(getattr(exc, "message", None) or exc)[:300]


class Backend:
    """Searches of one namespace's ``-articles`` and ``-alerts`` indices."""

    def __init__(self, es: Any, names: Names) -> None:
        self.es = es
        self.names = names

    async def search(self, index: str, body: dict[str, Any]) -> dict[str, Any]:
        """One search; a missing index answers empty, an unreachable cluster is retryable.

        Raises :class:`RetryableError` when Elasticsearch is down or overloaded and
        :class:`InvalidParams` when it refuses the request (a 4xx).
        """
        from elasticsearch import ApiError, TransportError

        try:
            response = await self.es.search(index=index, ignore_unavailable=True, body=body)
        except ApiError as exc:
            status = int(exc.status_code)
            if 400 <= status < 500 and status != 429:
                raise InvalidParams(f"Elasticsearch refused the search: {_reason(exc)}") from None
            raise RetryableError(f"Elasticsearch answered {status}: {_reason(exc)}") from None
        except TransportError as exc:
            raise RetryableError(f"Elasticsearch unreachable: {_reason(exc)}") from None
        return dict(getattr(response, "body", response))

    async def folding(
        self, article_ids: Iterable[str], story_ids: Iterable[str]
    ) -> dict[str, Any] | None:
        """Copies of the given originals and the sizes of the given stories (None if neither)."""
        body = queries.folding_search(list(article_ids), list(story_ids))
        return None if body is None else await self.search(self.names.articles_index, body)

    async def articles(self, query: PageQuery) -> dict[str, Any]:
        """The ``/api/articles`` payload: the newest (or best) originals with their copies."""
        response = await self.search(self.names.articles_index, queries.articles_search(query))
        found = views.hits(response)
        ids = [h["_id"] for h in found]
        stories = [s for h in found if (s := h.get("_source", {}).get("story_id"))]
        return views.articles_page(query, response, await self.folding(ids, stories))

    async def facets(self, query: PageQuery) -> dict[str, Any]:
        """The ``/api/facets`` payload."""
        response = await self.search(self.names.articles_index, queries.facets_search(query))
        return views.facets_view(response)

    async def alerts(self, size: int) -> dict[str, Any]:
        """The ``/api/alerts`` payload (``exists`` False while the index is missing)."""
        response = await self.search(self.names.alerts_index, queries.alerts_search(size))
        return views.alerts_page(response)

    async def newest(self, index: str, time_field: str, query: dict[str, Any]) -> str | None:
        """The newest ``time_field`` of the documents of ``index`` matching ``query``."""
        response = await self.search(index, queries.newest_search(time_field, query))
        return views.newest(response)
