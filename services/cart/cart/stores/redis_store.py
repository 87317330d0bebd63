"""Carts in Redis: one hash per cart, a field per product id holding its quantity, and
``_expires_at`` (milliseconds since the epoch) saying when the key expires.

Every change is one Lua script, which Redis runs alone: the check (the cart exists, it
has room for a new line) and the change (HSET/HDEL, the new expiry, PEXPIREAT) cannot
be split by another request, so concurrent changes lose nothing. A script answers
``{"ok", field, value, ...}`` (the cart after the change) or ``{"missing"}``/``{"full"}``.

Keys: ``<prefix>guest:<id>`` and ``<prefix>user:<id>``, so a guest id never names a
user's cart. A merge touches two keys: in a Redis Cluster they would need one hash slot.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, ParamSpec, TypeVar

import redis
from redis.commands.core import Script

from cart.stores import (
    MAX_LINES,
    MAX_QUANTITY,
    CartFull,
    CartMissing,
    CartRef,
    CartState,
    CartStore,
)
from souk_common.errors import UpstreamUnavailable

EXPIRES_AT = "_expires_at"

# KEYS[1] the cart. ARGV: product id, quantity, expiry (ms), may make the cart ("1"),
# most lines.
SET_LINE = """
local exists = redis.call('EXISTS', KEYS[1])
if exists == 0 and ARGV[4] ~= '1' then return {'missing'} end
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then
  if redis.call('HLEN', KEYS[1]) - exists >= tonumber(ARGV[5]) then return {'full'} end
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2], '_expires_at', ARGV[3])
redis.call('PEXPIREAT', KEYS[1], ARGV[3])
local cart = redis.call('HGETALL', KEYS[1])
table.insert(cart, 1, 'ok')
return cart
"""

# KEYS[1] the cart. ARGV: product id, expiry (ms).
REMOVE_LINE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
redis.call('HDEL', KEYS[1], ARGV[1])
redis.call('HSET', KEYS[1], '_expires_at', ARGV[2])
redis.call('PEXPIREAT', KEYS[1], ARGV[2])
local cart = redis.call('HGETALL', KEYS[1])
table.insert(cart, 1, 'ok')
return cart
"""

# KEYS[1] the cart. ARGV: expiry (ms).
CLEAR = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[1], '_expires_at', ARGV[1])
redis.call('PEXPIREAT', KEYS[1], ARGV[1])
return {'ok', '_expires_at', ARGV[1]}
"""

# KEYS[1] the source (a guest's cart), KEYS[2] the target. ARGV: expiry (ms), most lines,
# most of one product.
MERGE = """
if redis.call('EXISTS', KEYS[1]) == 0 then return {'missing'} end
local source = redis.call('HGETALL', KEYS[1])
local lines = redis.call('HLEN', KEYS[2]) - redis.call('EXISTS', KEYS[2])
local changes = {}
for i = 1, #source, 2 do
  if source[i] ~= '_expires_at' then
    local current = redis.call('HGET', KEYS[2], source[i])
    if not current then
      lines = lines + 1
      current = 0
    end
    local quantity = math.min(tonumber(current) + tonumber(source[i + 1]), tonumber(ARGV[3]))
    table.insert(changes, source[i])
    table.insert(changes, tostring(quantity))
  end
end
if lines > tonumber(ARGV[2]) then return {'full'} end
table.insert(changes, '_expires_at')
table.insert(changes, ARGV[1])
redis.call('HSET', KEYS[2], unpack(changes))
redis.call('PEXPIREAT', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[1])
local cart = redis.call('HGETALL', KEYS[2])
table.insert(cart, 1, 'ok')
return cart
"""

P = ParamSpec("P")
R = TypeVar("R")


def _redis_answers(method: Callable[P, R]) -> Callable[P, R]:
    """A Redis that cannot be reached or does not answer in time: 503, try again shortly."""

    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return method(*args, **kwargs)
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise UpstreamUnavailable("The cart store is unavailable.", retry_after=2) from exc

    return call


class RedisCartStore(CartStore):
    def __init__(self, *, url: str, key_prefix: str, ttl_seconds: int, timeout: float) -> None:
        super().__init__(ttl_seconds=ttl_seconds)
        self.key_prefix = key_prefix
        self.redis = redis.Redis.from_url(
            url, decode_responses=True, socket_timeout=timeout, socket_connect_timeout=timeout
        )
        self._set_line: Script = self.redis.register_script(SET_LINE)
        self._remove_line: Script = self.redis.register_script(REMOVE_LINE)
        self._clear: Script = self.redis.register_script(CLEAR)
        self._merge: Script = self.redis.register_script(MERGE)

    def key(self, ref: CartRef) -> str:
        if ref.user_id is not None:
            return f"{self.key_prefix}user:{ref.user_id}"
        return f"{self.key_prefix}guest:{ref.guest_id}"

    def _expiry_ms(self) -> int:
        return int((time.time() + self.ttl_seconds) * 1000)

    @_redis_answers
    def create_guest(self, guest_id: str) -> CartState:
        expiry = self._expiry_ms()
        key = self.key(CartRef.guest(guest_id))
        with self.redis.pipeline(transaction=True) as pipe:
            pipe.hset(key, EXPIRES_AT, expiry)
            pipe.pexpireat(key, expiry)
            pipe.execute()
        return CartState(CartRef.guest(guest_id), {}, _datetime(expiry))

    @_redis_answers
    def get(self, ref: CartRef) -> CartState | None:
        fields: dict[str, str] = self.redis.hgetall(self.key(ref))  # type: ignore[assignment]
        return _state(ref, fields) if fields else None

    @_redis_answers
    def set_line(self, ref: CartRef, *, product_id: int, quantity: int) -> CartState:
        args = [product_id, quantity, self._expiry_ms(), "1" if ref.is_user else "0", MAX_LINES]
        return _answer(ref, self._set_line(keys=[self.key(ref)], args=args))

    @_redis_answers
    def remove_line(self, ref: CartRef, *, product_id: int) -> CartState:
        answer = self._remove_line(keys=[self.key(ref)], args=[product_id, self._expiry_ms()])
        return _answer(ref, answer)

    @_redis_answers
    def clear(self, ref: CartRef) -> CartState:
        return _answer(ref, self._clear(keys=[self.key(ref)], args=[self._expiry_ms()]))

    @_redis_answers
    def merge(self, *, source: CartRef, target: CartRef) -> CartState:
        keys = [self.key(source), self.key(target)]
        answer = self._merge(keys=keys, args=[self._expiry_ms(), MAX_LINES, MAX_QUANTITY])
        return _answer(target, answer)

    def purge_expired(self) -> int:
        return 0  # Redis deletes expired keys itself


def _answer(ref: CartRef, answer: Sequence[Any]) -> CartState:
    status, fields = answer[0], answer[1:]
    if status == "missing":
        raise CartMissing()
    if status == "full":
        raise CartFull()
    return _state(ref, dict(zip(fields[::2], fields[1::2], strict=True)))


def _state(ref: CartRef, fields: dict[str, str]) -> CartState:
    expiry = fields.pop(EXPIRES_AT, None)
    lines = {int(product_id): int(quantity) for product_id, quantity in fields.items()}
    return CartState(
        ref,
        dict(sorted(lines.items())),
        _datetime(int(expiry)) if expiry is not None else None,
    )


def _datetime(milliseconds: int) -> datetime:
    return datetime.fromtimestamp(milliseconds / 1000, tz=UTC)
