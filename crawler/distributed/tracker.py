"""Which leased requests Scrapy is completely done with, told by public Scrapy seams only.

A request leased from Redis may be acknowledged once nothing of it can be lost any more: its
callback's output has ended, every item of its response has left the item pipelines and every
follow-up request it yielded has been scheduled (pushed into the run's Redis queue). The
:class:`LeaseTracker` extension (found with ``crawler.get_extension``) keeps that per lease from:

* :class:`~crawler.distributed.middleware.LeaseMiddleware` (the spider middleware closest to the
  engine): each output of a callback (an item: one more in the pipelines; a request: one more to
  schedule) and the end of the output (also when the callback raised);
* the signals ``item_scraped`` / ``item_dropped`` / ``item_error`` (an item of the response is out
  of the pipelines), ``request_scheduled`` (a follow-up reached the scheduler; a request carrying
  the lease's token that is not a follow-up replaces the leased one: a redirect or a retry, so the
  leased one is finished) and ``spider_error`` (the callback failed before any output).

What this cannot see are errbacks: in Scrapy 2.13+ an errback's output goes to the pipelines and the
scheduler without passing spider middlewares, and no signal says when it has ended. A lease whose
download failed therefore stays unacknowledged (and renewed) until the engine is idle, when Scrapy
is provably done with everything handed out (:meth:`LeaseTracker.pop_all`); a worker dying before
that gets it redelivered, which repeats the failure, never loses it.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any

from scrapy import Request, signals
from scrapy.exceptions import NotConfigured
from scrapy.http import Response

from crawler.distributed.connection import redis_url_from_settings

#: request.meta key: the token of the lease a request belongs to (copied into a redirect or retry
#: by ``Request.replace``; removed by the scheduler before a request is pushed into Redis)
LEASE_META = "govnews_lease"


@dataclass
class Lease:
    """What of one leased request may still be lost."""

    output_done: bool = False   # the callback's output ended, or Scrapy replaced the request
    items: int = 0              # items of its response still in the item pipelines
    followups: int = 0          # follow-up requests yielded and not yet scheduled

    @property
    def done(self) -> bool:
        return self.output_done and not self.items and not self.followups


class LeaseTracker:
    """Tracks each leased request's life through Scrapy (see the module docstring)."""

    def __init__(self, crawler):
        self._leases: dict[int, Lease] = {}
        self._followups: dict[Request, int] = {}     # Request hashes by identity: token it came from
        self._tokens = itertools.count(1)
        crawler.signals.connect(self.request_scheduled, signal=signals.request_scheduled)
        crawler.signals.connect(self.spider_error, signal=signals.spider_error)
        for sig in (signals.item_scraped, signals.item_dropped, signals.item_error):
            crawler.signals.connect(self.item_left_pipelines, signal=sig)

    @classmethod
    def from_crawler(cls, crawler):
        if not redis_url_from_settings(crawler.settings):
            raise NotConfigured
        return cls(crawler)

    def __len__(self) -> int:
        return len(self._leases)

    # ---- the scheduler
    def lease(self, request: Request) -> int:
        """Start tracking ``request`` (just leased); returns its token."""
        token = next(self._tokens)
        request.meta[LEASE_META] = token
        self._leases[token] = Lease()
        return token

    def pop_done(self) -> list[int]:
        """Tokens of the leases Scrapy is done with, forgotten here."""
        done = [t for t, lease in self._leases.items() if lease.done]
        for t in done:
            del self._leases[t]
        return done

    def pop_all(self) -> list[int]:
        """Every token (the engine is idle or closed: Scrapy is done with all of them)."""
        tokens = list(self._leases)
        self._leases.clear()
        self._followups.clear()
        return tokens

    def get(self, token: int) -> Lease | None:
        return self._leases.get(token)

    def _of(self, source: Any) -> Lease | None:
        """The lease of a request, or of the request of a response or a failure."""
        request = source if isinstance(source, Request) else getattr(source, "request", None)
        if not isinstance(request, Request):
            return None
        token = request.meta.get(LEASE_META)
        return self._leases.get(token) if isinstance(token, int) else None

    # ---- the spider middleware
    def output(self, response: Response, output: Any) -> None:
        """``output`` of the callback of ``response`` is on its way to the engine."""
        if output is None:
            return
        lease = self._of(response)
        if lease is None:
            return
        if isinstance(output, Request):
            lease.followups += 1
            self._followups[output] = response.meta[LEASE_META]
        else:
            lease.items += 1

    def output_done(self, response: Response) -> None:
        """The callback of ``response`` yields nothing more."""
        if (lease := self._of(response)) is not None:
            lease.output_done = True

    # ---- signals
    def request_scheduled(self, request: Request, spider=None) -> None:
        token = self._followups.pop(request, None)
        if token is not None:
            if (lease := self._leases.get(token)) is not None:
                lease.followups -= 1
            return
        lease = self._of(request)
        if lease is not None:         # a redirect or retry of a leased request: it is finished
            lease.output_done = True

    def spider_error(self, failure=None, response=None, spider=None) -> None:
        if isinstance(response, Response) and (lease := self._of(response)) is not None:
            lease.output_done = True

    def item_left_pipelines(self, item=None, response=None, spider=None, **kwargs) -> None:
        # only items counted by the middleware (a Response's); an errback's have a Failure here
        if isinstance(response, Response) and (lease := self._of(response)) is not None and lease.items:
            lease.items -= 1
