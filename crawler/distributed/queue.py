"""The Redis side of a distributed run: its key layout, the Lua scripts and the leasing queue.

Every key of run ``<id>`` is ``<prefix>:run:<id>:<name>`` (:class:`RunKeys`); ``<prefix>:runs`` is
the hash ``site -> run id`` of the runs in progress (a run is *published* when its site is in it).
"""
from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from scrapy import Request
from scrapy_redis.queue import PriorityQueue

from common.clock import utcnow

RUN_KEY_TTL = 7 * 24 * 3600       # seconds; refreshed while workers are active
DONE_KEY_TTL = 3600               # bookkeeping keys of a finished run linger this long


def epoch_now() -> float:
    """Seconds since the epoch (lease deadlines are scores in Redis), from the one clock."""
    return utcnow().timestamp()


# --------------------------------------------------------------------------------------- keys


def runs_key(prefix: str) -> str:
    """Hash ``site -> run id`` of the distributed runs in progress."""
    return f"{prefix}:runs"


@dataclass(frozen=True)
class RunKeys:
    prefix: str
    run_id: int

    def _k(self, name: str) -> str:
        return f"{self.prefix}:run:{self.run_id}:{name}"

    queue = property(lambda self: self._k("queue"))            # zset: pickled request, -priority
    inflight = property(lambda self: self._k("inflight"))      # zset: pickled request, lease deadline
    owner = property(lambda self: self._k("owner"))            # hash: sha1(member) -> worker
    scores = property(lambda self: self._k("scores"))          # hash: sha1(member) -> queue score
    deliveries = property(lambda self: self._k("deliveries"))  # hash: sha1(member) -> deliveries
    dead = property(lambda self: self._k("dead"))              # list: dead-lettered requests
    dupefilter = property(lambda self: self._k("dupefilter"))  # set: request fingerprints
    meta = property(lambda self: self._k("meta"))              # hash: site, profile, holder, ...
    stats = property(lambda self: self._k("stats"))            # hash: counters summed over workers
    failures = property(lambda self: self._k("failures"))      # hash: reason -> count
    workers = property(lambda self: self._k("workers"))        # hash: worker -> json
    worker_pages = property(lambda self: self._k("worker_pages"))  # hash: worker -> pages
    validators = property(lambda self: self._k("validators"))  # hash: url -> json [etag, modified]

    def work_keys(self) -> list[str]:
        return [self.queue, self.inflight, self.owner, self.scores, self.deliveries, self.dupefilter]

    def bookkeeping_keys(self) -> list[str]:
        return [self.dead, self.meta, self.stats, self.failures, self.workers, self.worker_pages,
                self.validators]

    def all_keys(self) -> list[str]:
        return self.work_keys() + self.bookkeeping_keys()


# --------------------------------------------------------------------------------------- Lua

_PUSH = """
if ARGV[1] ~= '' then
  if redis.call('SADD', KEYS[1], ARGV[1]) == 0 then return 0 end
end
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[3])
return 1
"""

_LEASE = """
local r = redis.call('ZPOPMIN', KEYS[1])
if #r == 0 then return false end
local member, score = r[1], r[2]
local h = redis.sha1hex(member)
redis.call('ZADD', KEYS[2], ARGV[2], member)
redis.call('HSET', KEYS[3], h, ARGV[1])
redis.call('HSET', KEYS[4], h, score)
local n = redis.call('HINCRBY', KEYS[5], h, 1)
return {member, n}
"""

_ACK = """
local n = 0
for i = 2, #ARGV do
  local m = ARGV[i]
  local h = redis.sha1hex(m)
  if redis.call('HGET', KEYS[2], h) == ARGV[1] then
    redis.call('ZREM', KEYS[1], m)
    redis.call('HDEL', KEYS[2], h)
    redis.call('HDEL', KEYS[3], h)
    n = n + 1
  end
end
return n
"""

_RENEW = """
local n = 0
for i = 3, #ARGV do
  local m = ARGV[i]
  if redis.call('HGET', KEYS[2], redis.sha1hex(m)) == ARGV[1] then
    redis.call('ZADD', KEYS[1], 'XX', ARGV[2], m)
    n = n + 1
  end
end
return n
"""

_REAP = """
local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', ARGV[1], 'LIMIT', 0, tonumber(ARGV[3]))
local requeued, dead = 0, 0
for _, m in ipairs(expired) do
  local h = redis.sha1hex(m)
  local score = redis.call('HGET', KEYS[4], h) or '0'
  redis.call('ZREM', KEYS[2], m)
  redis.call('HDEL', KEYS[3], h)
  redis.call('HDEL', KEYS[4], h)
  local n = tonumber(redis.call('HGET', KEYS[5], h) or '0')
  if n >= tonumber(ARGV[2]) then
    redis.call('RPUSH', KEYS[6], m)
    dead = dead + 1
  else
    redis.call('ZADD', KEYS[1], score, m)
    requeued = requeued + 1
  end
end
return {requeued, dead}
"""

_COMPLETE = """
if redis.call('ZCARD', KEYS[1]) > 0 or redis.call('ZCARD', KEYS[2]) > 0 then return 0 end
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then return -1 end
redis.call('HDEL', KEYS[3], ARGV[1])
return 1
"""

_DEL_IF = """
if redis.call('HGET', KEYS[1], ARGV[1]) == ARGV[2] then return redis.call('HDEL', KEYS[1], ARGV[1]) end
return 0
"""


# --------------------------------------------------------------------------------------- run keys


def active_runs(server, prefix: str) -> dict[str, int]:
    """``site -> run id`` of the published runs."""
    return {k.decode(): int(v) for k, v in server.hgetall(runs_key(prefix)).items()}


def run_meta(server, prefix: str, run_id: int) -> dict[str, str]:
    """The run's metadata (site, profile TOML, holder, lock_ttl, full_walk, enqueued_at, ...)."""
    return {k.decode(): v.decode() for k, v in server.hgetall(RunKeys(prefix, run_id).meta).items()}


def counts(server, key: str) -> dict[str, int]:
    """A hash of integer counters (``stats``, ``failures``, ``worker_pages``)."""
    return {k.decode(): int(v) for k, v in server.hgetall(key).items()}


def publish_run(server, keys: RunKeys, site: str) -> None:
    """Make the run visible to workers (``HSET <prefix>:runs site id``)."""
    server.hset(runs_key(keys.prefix), site, keys.run_id)


def unpublish_run(server, keys: RunKeys, site: str) -> bool:
    """Remove ``site -> run`` from the published runs if it still names this run."""
    return bool(server.register_script(_DEL_IF)(keys=[runs_key(keys.prefix)], args=[site, str(keys.run_id)]))


def claim_completion(server, keys: RunKeys, site: str) -> int:
    """Atomically: 0 while the run has queued or leased requests; 1 when it is complete and this
    caller unpublished it (it must finish the run); -1 when someone else already did."""
    script = server.register_script(_COMPLETE)
    return int(script(keys=[keys.queue, keys.inflight, runs_key(keys.prefix)], args=[site, str(keys.run_id)]))


def expire_keys(server, keys: Iterable[str], ttl: int) -> None:
    with server.pipeline(transaction=False) as pipe:
        for key in keys:
            pipe.expire(key, ttl)
        pipe.execute()


def purge_prefix(server, prefix: str) -> int:
    """Delete every key under ``prefix:`` (tests, benchmarks)."""
    n = 0
    for key in server.scan_iter(match=f"{prefix}:*", count=1000):
        n += server.delete(key)
    return n


# --------------------------------------------------------------------------------------- queue


class ReliableQueue(PriorityQueue):
    """scrapy-redis' priority queue (same encoding, same zset ordering) with leases and acks.

    ``push`` records the fingerprint in the run's duplicate filter and queues the request in one
    atomic script; ``lease`` moves the best request to the in-flight zset with a deadline and an
    owner; ``ack`` removes it for good; ``reap`` puts expired leases back. Deadlines are read from
    ``clock`` (epoch seconds; tests inject one instead of waiting).
    """

    def __init__(self, server, spider, keys: RunKeys, serializer=None, *,
                 clock: Callable[[], float] = epoch_now):
        super().__init__(server, spider, keys.queue, serializer)
        self.keys = keys
        self.clock = clock
        self._push = server.register_script(_PUSH)
        self._lease = server.register_script(_LEASE)
        self._ack = server.register_script(_ACK)
        self._renew = server.register_script(_RENEW)
        self._reap = server.register_script(_REAP)

    def push(self, request: Request, fingerprint: str = "") -> bool:
        data = self._encode_request(request)
        return bool(self._push(keys=[self.keys.dupefilter, self.keys.queue],
                               args=[fingerprint or "", -request.priority, data]))

    def pop(self, timeout=0):  # plain pop is not reliable: refuse it
        raise NotImplementedError("use lease()")

    def lease(self, worker: str, lease_seconds: float) -> tuple[Request, bytes, int] | None:
        k = self.keys
        got = self._lease(keys=[k.queue, k.inflight, k.owner, k.scores, k.deliveries],
                          args=[worker, self.clock() + lease_seconds])
        if not got:
            return None
        member, deliveries = got[0], int(got[1])
        return self._decode_request(member), member, deliveries

    def ack(self, worker: str, members: Iterable[bytes]) -> int:
        members = list(members)
        if not members:
            return 0
        k = self.keys
        return int(self._ack(keys=[k.inflight, k.owner, k.scores], args=[worker, *members]))

    def renew(self, worker: str, members: Iterable[bytes], lease_seconds: float) -> int:
        members = list(members)
        if not members:
            return 0
        k = self.keys
        return int(self._renew(keys=[k.inflight, k.owner],
                               args=[worker, self.clock() + lease_seconds, *members]))

    def reap(self, max_deliveries: int, limit: int = 1000) -> tuple[int, int]:
        k = self.keys
        requeued, dead = self._reap(keys=[k.queue, k.inflight, k.owner, k.scores, k.deliveries, k.dead],
                                    args=[self.clock(), max_deliveries, limit])
        return int(requeued), int(dead)

    def inflight_count(self) -> int:
        return int(self.server.zcard(self.keys.inflight))
