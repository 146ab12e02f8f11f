"""A one-shot timer with nanosecond resolution that an event loop can wait on: Linux's timerfd.

The latency proxy holds every chunk back a fixed time. An event loop's own timers have
millisecond resolution (libuv's, so uvloop's; and epoll's timeout, so asyncio's default
loop), which added 0.5-1.5 ms to each hop of a "10 ms" round trip (#21). A timerfd is a
file descriptor that becomes readable at an absolute CLOCK_MONOTONIC moment (the clock of
`time.monotonic()`): the loop watches it with `add_reader` like any socket, and wakes on time.
`os.timerfd_create` arrives in Python 3.13; before that, libc's through ctypes.
"""

from __future__ import annotations

import ctypes
import os
import sys

CLOCK_MONOTONIC = 1
TFD_NONBLOCK = os.O_NONBLOCK
TFD_CLOEXEC = os.O_CLOEXEC
TFD_TIMER_ABSTIME = 1


class Timespec(ctypes.Structure):
    _fields_ = [("tv_sec", ctypes.c_long), ("tv_nsec", ctypes.c_long)]


class Itimerspec(ctypes.Structure):
    _fields_ = [("it_interval", Timespec), ("it_value", Timespec)]


def available() -> bool:
    return sys.platform.startswith("linux")


class KernelTimer:
    """`arm(when)` makes `fileno()` readable at `when` (seconds of `time.monotonic()`);
    `clear()` reads the expiry once the loop has seen it."""

    def __init__(self) -> None:
        self._libc = ctypes.CDLL(None, use_errno=True)  # this process's own symbols: libc's included
        self._libc.timerfd_settime.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.POINTER(Itimerspec),
                                               ctypes.POINTER(Itimerspec)]
        self.fd: int = self._libc.timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "timerfd_create failed")
        self._spec = Itimerspec()

    def fileno(self) -> int:
        return self.fd

    def arm(self, when: float) -> None:
        seconds = int(when)
        self._spec.it_value.tv_sec = seconds
        self._spec.it_value.tv_nsec = max(1, int((when - seconds) * 1e9))  # 0 would disarm it
        if self._libc.timerfd_settime(self.fd, TFD_TIMER_ABSTIME, ctypes.byref(self._spec), None) != 0:
            raise OSError(ctypes.get_errno(), "timerfd_settime failed")

    def clear(self) -> None:
        try:
            os.read(self.fd, 8)
        except BlockingIOError:
            pass

    def close(self) -> None:
        os.close(self.fd)
