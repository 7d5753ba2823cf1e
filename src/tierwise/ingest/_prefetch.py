"""Work on the next batch in a background thread while the database writes the current one.

Reading and validating a batch depend on the file alone, writing it on the database: on two
cores the two overlap (Polars, numpy and the database drivers release the GIL while they work).
At most ``depth`` finished items wait in the queue, so memory stays bounded by a few batches.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Generator, Iterator
from typing import TypeVar

T = TypeVar("T")
U = TypeVar("U")

_POLL_S = 0.05


def ahead(
    items: Iterator[T], work: Callable[[T], U], *, depth: int = 1
) -> Generator[tuple[T, U], None, None]:
    """``(item, work(item))`` for each item, computed one step ahead in a thread.

    An exception in the thread is raised here, at the item where it happened. Closing the
    returned generator (or leaving a ``for`` over it by an exception, once it is collected;
    use `contextlib.closing` to be sure) stops the thread before it returns.
    """
    done: queue.Queue[tuple[str, object]] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(kind: str, value: object) -> bool:
        while not stop.is_set():
            try:
                done.put((kind, value), timeout=_POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def run() -> None:
        try:
            for item in items:
                if not put("item", (item, work(item))):
                    return
        except BaseException as exc:  # handed to the consumer, which raises it
            put("error", exc)
            return
        finally:
            close = getattr(items, "close", None)
            if close is not None:  # a generator's files are closed by the thread that read them
                close()
        put("end", None)

    thread = threading.Thread(target=run, name="tierwise-import-read", daemon=True)
    thread.start()
    try:
        while True:
            kind, value = done.get()
            if kind == "end":
                return
            if kind == "error":
                assert isinstance(value, BaseException)
                raise value
            yield value  # type: ignore[misc]
    finally:
        stop.set()
        thread.join()


__all__ = ["ahead"]
