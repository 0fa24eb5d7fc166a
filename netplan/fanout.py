"""Work on many hosts at once: up to `forks` in parallel, a host's failure kept to that host."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TypeVar

from netplan.errors import NetplanError

Item = TypeVar("Item")
Result = TypeVar("Result")

DEFAULT_FORKS = 10


def fan_out(
    items: Mapping[str, Item], work: Callable[[Item], Result], forks: int = DEFAULT_FORKS
) -> tuple[dict[str, Result], dict[str, NetplanError]]:
    """`work` on every item: the results and the errors (a NetplanError: the host's own
    problem) by name, in the items' order. One item runs on the calling thread; any
    other exception is a bug and propagates once every item is done."""
    results: dict[str, Result] = {}
    errors: dict[str, NetplanError] = {}
    if len(items) <= 1 or forks <= 1:
        for name, item in items.items():
            try:
                results[name] = work(item)
            except NetplanError as error:
                errors[name] = error
        return results, errors
    from concurrent.futures import ThreadPoolExecutor  # ~3 ms: not for one host

    with ThreadPoolExecutor(max_workers=min(forks, len(items))) as pool:
        futures = {name: pool.submit(work, item) for name, item in items.items()}
    for name, future in futures.items():
        try:
            results[name] = future.result()
        except NetplanError as error:
            errors[name] = error
    return results, errors
