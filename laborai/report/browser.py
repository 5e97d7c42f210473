"""Open the HTML report in headless Chromium, as a reader would, and check what they see.

Talks the Chrome DevTools Protocol over ``--remote-debugging-pipe`` (file descriptors 3 and 4,
NUL-terminated JSON), so it needs no extra Python package, no open port and no network.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from laborai.errors import DataFileNotFoundError, LaborAIError

__all__ = ["BrowserCheck", "check_in_browser", "find_chromium"]

_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
#: Flags for a headless, offline, throw-away browser (root-safe, no background networking).
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-extensions",
                  "--disable-default-apps", "--mute-audio", "--hide-scrollbars",
                  "--remote-debugging-pipe")


@dataclass(frozen=True)
class BrowserCheck:
    """What headless Chromium saw when it opened the report."""

    images: tuple[tuple[str, bool], ...]
    console_errors: tuple[str, ...]
    title: str
    screenshot: Path | None

    @property
    def broken_images(self) -> list[str]:
        """Alt text of images that did not load."""
        return [alt for alt, ok in self.images if not ok]

    @property
    def ok(self) -> bool:
        """Every image loaded and no console error occurred."""
        return bool(self.images) and not self.broken_images and not self.console_errors


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable (``$LABORAI_CHROMIUM`` first), or None."""
    env = os.environ.get("LABORAI_CHROMIUM")
    if env:
        return env if Path(env).exists() else None
    for name in _CANDIDATES:
        p = shutil.which(name)
        if p:
            return p
    return None


class _Pipe:
    def __init__(self, proc: subprocess.Popen[bytes], wfd: int, rfd: int) -> None:
        self.proc, self.wfd, self.rfd = proc, wfd, rfd
        self.buf = b""
        self.next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None,
             session: str | None = None, timeout: float = 60.0) -> dict[str, Any]:
        self.next_id += 1
        msg: dict[str, Any] = {"id": self.next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        os.write(self.wfd, json.dumps(msg).encode() + b"\0")
        while True:
            m = self._read(timeout)
            if m.get("id") == self.next_id:
                if "error" in m:
                    raise LaborAIError(f"Chromium: {method} failed: {m['error']}")
                return dict(m.get("result", {}))
            self.events.append(m)

    def wait_event(self, method: str, timeout: float = 60.0) -> dict[str, Any]:
        for i, e in enumerate(self.events):
            if e.get("method") == method:
                return self.events.pop(i)
        while True:
            m = self._read(timeout)
            if m.get("method") == method:
                return m
            self.events.append(m)

    def _read(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while b"\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise LaborAIError(f"Chromium did not answer within {timeout:.0f} s.")
            ready, _, _ = select.select([self.rfd], [], [], left)
            if ready:
                chunk = os.read(self.rfd, 1 << 20)
                if not chunk:
                    raise LaborAIError("Chromium closed the DevTools pipe (did it crash? "
                                       f"exit code {self.proc.poll()}).")
                self.buf += chunk
        raw, self.buf = self.buf.split(b"\0", 1)
        return dict(json.loads(raw))


def check_in_browser(html: str | Path, *, screenshot: str | Path | None = None,
                     chromium: str | None = None, width: int = 1200,
                     timeout: float = 60.0) -> BrowserCheck:
    """Open ``html`` in headless Chromium; report image loading, console errors, screenshot.

    Parameters
    ----------
    html : str or pathlib.Path
        The report file.
    screenshot : str or pathlib.Path, optional
        Where to save a full-page PNG screenshot.
    chromium : str, optional
        Browser executable; default :func:`find_chromium`.
    width : int, default 1200
        Viewport width in CSS pixels.
    timeout : float, default 60
        Seconds to wait for the browser at each step.

    Returns
    -------
    BrowserCheck

    Raises
    ------
    DataFileNotFoundError
        If the file or the browser is missing (install Debian's ``chromium`` package, or set
        ``LABORAI_CHROMIUM``).
    LaborAIError
        If the browser does not answer.
    """
    path = Path(html).resolve()
    if not path.exists():
        raise DataFileNotFoundError(f"{path}: no such report; run `laborai report` first.")
    exe = chromium or find_chromium()
    if exe is None:
        raise DataFileNotFoundError("no Chromium found: install Debian's `chromium` package "
                                    "(apt-get install chromium) or set LABORAI_CHROMIUM.")
    profile = Path(tempfile.mkdtemp(prefix="laborai-chromium-"))
    to_child_r, to_child_w = os.pipe()
    from_child_r, from_child_w = os.pipe()

    def _fds() -> None:  # pragma: no cover - runs in the child
        import fcntl

        # move both ends above 10 first, so that placing them on 3 and 4 cannot clobber them
        hi_r = fcntl.fcntl(to_child_r, fcntl.F_DUPFD, 10)
        hi_w = fcntl.fcntl(from_child_w, fcntl.F_DUPFD, 10)
        os.dup2(hi_r, 3, inheritable=True)
        os.dup2(hi_w, 4, inheritable=True)

    proc = subprocess.Popen([exe, *CHROMIUM_FLAGS, f"--user-data-dir={profile}",
                             f"--window-size={width},900", "about:blank"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, close_fds=False,
                            preexec_fn=_fds)  # Python's own fds are non-inheritable (PEP 446)
    os.close(to_child_r)
    os.close(from_child_w)
    pipe = _Pipe(proc, to_child_w, from_child_r)
    try:
        target = pipe.send("Target.createTarget", {"url": "about:blank"}, timeout=timeout)
        sid = pipe.send("Target.attachToTarget", {"targetId": target["targetId"],
                                                  "flatten": True}, timeout=timeout)["sessionId"]
        for m in ("Page.enable", "Runtime.enable", "Log.enable"):
            pipe.send(m, session=sid, timeout=timeout)
        pipe.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": 900,
                                                         "deviceScaleFactor": 1,
                                                         "mobile": False}, session=sid)
        pipe.send("Page.navigate", {"url": path.as_uri()}, session=sid, timeout=timeout)
        pipe.wait_event("Page.loadEventFired", timeout=timeout)
        js = ("JSON.stringify({title: document.title, images: Array.from(document.images)"
              ".map(i => [i.alt, i.complete && i.naturalWidth > 0])})")
        res = pipe.send("Runtime.evaluate", {"expression": js, "returnByValue": True},
                        session=sid, timeout=timeout)
        seen = json.loads(res["result"]["value"])
        shot: Path | None = None
        if screenshot is not None:
            metrics = pipe.send("Page.getLayoutMetrics", session=sid, timeout=timeout)
            size = metrics.get("cssContentSize") or metrics.get("contentSize") or {"height": 900}
            h = int(size["height"])
            pipe.send("Emulation.setDeviceMetricsOverride", {"width": width, "height": h,
                                                             "deviceScaleFactor": 1,
                                                             "mobile": False}, session=sid)
            png = pipe.send("Page.captureScreenshot", {"format": "png"}, session=sid,
                            timeout=timeout)["data"]
            shot = Path(screenshot)
            shot.parent.mkdir(parents=True, exist_ok=True)
            shot.write_bytes(base64.b64decode(png))
        errors = []
        for e in pipe.events:
            p = e.get("params", {})
            if e.get("method") == "Runtime.consoleAPICalled" and p.get("type") in ("error",
                                                                                  "assert"):
                errors.append(" ".join(str(a.get("value", a.get("description", "")))
                                       for a in p.get("args", [])))
            elif e.get("method") == "Runtime.exceptionThrown":
                errors.append(str(p.get("exceptionDetails", {}).get("text", "exception")))
            elif e.get("method") == "Log.entryAdded" and p.get("entry", {}).get("level") == "error":
                errors.append(str(p["entry"].get("text", "")))
        try:
            pipe.send("Browser.close", timeout=10)
        except LaborAIError:
            pass
        return BrowserCheck(tuple((str(a), bool(ok)) for a, ok in seen["images"]),
                            tuple(errors), str(seen["title"]), shot)
    finally:
        os.close(to_child_w)
        os.close(from_child_r)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)
