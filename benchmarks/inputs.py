"""Deterministic benchmark inputs: ~120-byte access-log lines and ~1 KB JSON lines."""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path

__all__ = [
    "ACCESS_REGEX",
    "ACCESS_REGEX_KEYS",
    "access_lines",
    "ensure_file",
    "ensure_round_robin",
    "json_lines",
    "key_regex",
]

# The combined log format, as a user would write it for processor_regex.
ACCESS_REGEX = (
    r'(\S+) (\S+) (\S+) \[([^\]]+)\] "(\S+) (\S+) (\S+)" (\d{3}) (\d+|-) "([^"]*)" "([^"]*)"'
)
ACCESS_REGEX_KEYS = [
    "ip",
    "ident",
    "user",
    "time",
    "method",
    "path",
    "protocol",
    "status",
    "bytes",
    "referer",
    "agent",
]

_METHODS = ["GET"] * 14 + ["POST"] * 4 + ["PUT", "DELETE"]
_STATUS = ["200"] * 30 + ["201", "204", "301", "304", "304", "400", "403", "404", "404", "500"]
_PATHS = [
    "/api/v1/items/{id}",
    "/api/v1/users/{id}/orders",
    "/static/js/app.{id}.js",
    "/img/p/{id}.jpg",
    "/search?q=item{id}",
]
_AGENTS = [
    "Mozilla/5.0 (X11; Linux x86_64)",
    "Mozilla/5.0 (Windows NT 10.0)",
    "curl/8.5.0",
    "Go-http-client/1.1",
    "python-requests/2.32",
]
_WORDS = [
    "the",
    "order",
    "was",
    "placed",
    "payment",
    "accepted",
    "retrying",
    "upstream",
    "timeout",
    "cache",
    "miss",
    "user",
    "session",
    "renewed",
    "checkout",
    "cart",
    "inventory",
    "reserved",
    "shipped",
    "warehouse",
    "invoice",
    "created",
    "token",
    "refreshed",
    "request",
    "completed",
    "slow",
    "query",
    "index",
    "scan",
    "latency",
    "budget",
    "exceeded",
]


def access_lines(count: int, seed: int = 1) -> list[bytes]:
    """`count` combined-format lines (~120 bytes each, no newline).

    Every path carries a six-digit id (100000..999999); `key_regex` groups by its last
    digits, giving 10**d distinct keys.
    """
    r = random.Random(seed)
    out = []
    for i in range(count):
        path = r.choice(_PATHS).format(id=r.randrange(100_000, 1_000_000))
        ip = f"10.{r.randrange(256)}.{r.randrange(256)}.{r.randrange(1, 255)}"
        user = r.choice(("-", "-", "-", "alice", "bob"))
        ts = f"28/Nov/2026:{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d} +0000"
        line = (
            f'{ip} - {user} [{ts}] "{r.choice(_METHODS)} {path} HTTP/1.1" '
            f'{r.choice(_STATUS)} {r.randrange(200, 60_000)} "-" "{r.choice(_AGENTS)}"'
        )
        out.append(line.encode("ascii"))
    return out


def key_regex(digits: int) -> str:
    """A regex (FullMatch false) capturing the last `digits` digits of the path's id.

    The id is the line's only run of six digits, so 0..5 digits give 1..100,000 keys.
    """
    return rf"(?<!\d)\d{{{6 - digits}}}(\d{{{digits}}})(?!\d)"


def json_lines(count: int, seed: int = 2) -> list[bytes]:
    """`count` structured JSON log lines of ~1 KB each (no newline)."""
    r = random.Random(seed)
    out = []
    for i in range(count):
        words = " ".join(r.choice(_WORDS) for _ in range(r.randrange(75, 105)))
        line = (
            f'{{"ts":"2026-11-28T03:{i // 60 % 60:02d}:{i % 60:02d}.{r.randrange(1000):03d}Z",'
            f'"level":"{r.choice(("INFO", "INFO", "INFO", "WARN", "ERROR", "DEBUG"))}",'
            f'"service":"{r.choice(("checkout", "cart", "search", "auth"))}",'
            f'"host":"web-{r.randrange(40):02d}","pid":{r.randrange(1000, 60000)},'
            f'"trace_id":"{r.getrandbits(128):032x}","span_id":"{r.getrandbits(64):016x}",'
            f'"user":{{"id":{r.randrange(1, 10**7)},"tier":"{r.choice(("free", "pro"))}"}},'
            f'"http":{{"method":"{r.choice(_METHODS)}",'
            f'"path":"{r.choice(_PATHS).format(id=r.randrange(100_000, 1_000_000))}",'
            f'"status":{r.choice(_STATUS)},"duration_ms":{r.random() * 900:.3f},'
            f'"user_agent":"{r.choice(_AGENTS)}"}},'
            f'"message":"{words}"}}'
        )
        out.append(line.encode("ascii"))
    return out


def _write_random(paths: list[Path], size: int, pool: list[bytes], seed: int) -> int:
    """Append lines drawn from `pool` round-robin to `paths` until `size` bytes; lines written."""
    r = random.Random(seed)
    files = [open(p, "wb") for p in paths]  # noqa: SIM115 - closed below
    n = len(files)
    written = lines = 0
    try:
        while written < size:
            block = r.choices(pool, k=8192)
            for j, f in enumerate(files):
                part = block[j::n]
                if part:
                    data = b"\n".join(part) + b"\n"
                    f.write(data)
                    written += len(data)
            lines += len(block)
    finally:
        for f in files:
            f.close()
    return lines


def ensure_file(path: Path, size: int, make_pool: Callable[[int], list[bytes]]) -> int:
    """Create `path` (about `size` bytes) unless a complete copy exists; its line count."""
    return ensure_round_robin([path], size, make_pool)


def ensure_round_robin(
    paths: list[Path], size: int, make_pool: Callable[[int], list[bytes]]
) -> int:
    """Write ~`size` bytes of lines round-robin over `paths` (line i → file i mod n).

    A `.done` marker beside the first file records the line count, so a second run
    reuses the inputs instead of writing them again.
    """
    marker = paths[0].with_name(paths[0].name + f".{size}.done")
    if marker.exists() and all(p.exists() for p in paths):
        return int(marker.read_text())
    paths[0].parent.mkdir(parents=True, exist_ok=True)
    for old in paths[0].parent.glob(paths[0].name + ".*.done"):
        old.unlink()
    lines = _write_random(paths, size, make_pool(50_000), seed=size)
    marker.write_text(str(lines))
    return lines
