"""Open a report page in the system's headless Chromium and look at it as a reader would, through
the DevTools protocol over a pipe (no extra package, no network port).

    with Page.open(Path("reports/2020Q2/summary.html")) as page:
        page.requests        # every URL the page asked for (file: and data: included)
        page.console_errors  # console errors, uncaught exceptions, failed loads
        page.fonts("h1")     # the platform fonts the text of the first <h1> was drawn with
        page.evaluate("document.title")
        page.screenshot(Path("docs/screenshots/2020Q2.png"))   # page one, A4 landscape
        page.pdf()           # the page printed with its print stylesheet

`python -m pipelines.report.browser shot reports/2020Q2/summary.html docs/screenshots/2020Q2.png`
keeps a screenshot of page one.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--no-first-run", "--disable-sync", "--disable-extensions",
         "--disable-default-apps", "--mute-audio", "--hide-scrollbars", "--remote-debugging-pipe"]
A4_LANDSCAPE = (1123, 794)  # CSS pixels at 96 dpi


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        if found := shutil.which(name):
            return found
    return None


class BrowserError(RuntimeError):
    pass


class Page:
    """One headless Chromium with one tab, driven over --remote-debugging-pipe (fd 3 in, fd 4 out)."""

    def __init__(self, binary: str | None = None, timeout: float = 60.0):
        binary = binary or chromium()
        if binary is None:
            raise BrowserError("no Chromium on this machine (make system-deps)")
        self.timeout = timeout
        self.profile = tempfile.mkdtemp(prefix="povmon-chromium-")
        to_chrome_r, self._w = os.pipe()
        self._r, from_chrome_w = os.pipe()

        def pipes_to_3_and_4() -> None:  # in the child: the protocol's fixed descriptors
            a, b = os.dup(to_chrome_r), os.dup(from_chrome_w)  # out of the way of 3 and 4 first
            os.dup2(a, 3)
            os.dup2(b, 4)

        self.proc = subprocess.Popen(
            [binary, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            pass_fds=(3, 4, to_chrome_r, from_chrome_w), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=pipes_to_3_and_4)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self._buffer = b""
        self._id = 0
        self.events: list[dict] = []
        self.session: str | None = None

    # ---- protocol ----------------------------------------------------------------------------
    def _read_message(self, deadline: float) -> dict:
        while b"\0" not in self._buffer:
            if time.monotonic() > deadline:
                raise BrowserError("Chromium did not answer in time")
            chunk = os.read(self._r, 1 << 16)
            if not chunk:
                raise BrowserError("Chromium closed the DevTools pipe")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        return json.loads(raw)

    def send(self, method: str, params: dict | None = None, *, session: bool = True) -> dict:
        self._id += 1
        msg = {"id": self._id, "method": method, "params": params or {}}
        if session and self.session:
            msg["sessionId"] = self.session
        os.write(self._w, json.dumps(msg).encode() + b"\0")
        deadline = time.monotonic() + self.timeout
        while True:
            reply = self._read_message(deadline)
            if reply.get("id") == self._id:
                if "error" in reply:
                    raise BrowserError(f"{method}: {reply['error'].get('message')}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_for(self, method: str, timeout: float | None = None) -> dict:
        deadline = time.monotonic() + (timeout or self.timeout)
        for e in self.events:
            if e["method"] == method:
                return e
        while True:
            reply = self._read_message(deadline)
            if "method" in reply:
                self.events.append(reply)
                if reply["method"] == method:
                    return reply

    # ---- a page --------------------------------------------------------------------------------
    @classmethod
    def open(cls, path: Path, width: int = A4_LANDSCAPE[0], height: int = A4_LANDSCAPE[1],
             settle: str = "[...document.querySelectorAll('.js-plotly-plot')]"
                           ".every(d => d.querySelector('.main-svg'))") -> Page:
        page = cls()
        try:
            target = page.send("Target.createTarget", {"url": "about:blank"}, session=False)["targetId"]
            page.session = page.send("Target.attachToTarget", {"targetId": target, "flatten": True},
                                     session=False)["sessionId"]
            for domain in ("Page", "Network", "Runtime", "Log", "DOM", "CSS"):
                page.send(f"{domain}.enable")
            page.send("Emulation.setDeviceMetricsOverride",
                      {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
            page.send("Page.navigate", {"url": Path(path).resolve().as_uri()})
            page.wait_for("Page.loadEventFired")
            deadline = time.monotonic() + page.timeout
            while not page.evaluate(settle) and time.monotonic() < deadline:
                time.sleep(0.2)
            page.evaluate("document.fonts.ready.then(() => 1)", await_promise=True)
        except BaseException:
            page.close()
            raise
        return page

    def evaluate(self, expression: str, await_promise: bool = False):
        result = self.send("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": await_promise})
        if "exceptionDetails" in result:
            raise BrowserError(f"{expression[:60]}: {result['exceptionDetails'].get('text')}")
        return result["result"].get("value")

    @property
    def requests(self) -> list[str]:
        return [e["params"]["request"]["url"] for e in self.events if e["method"] == "Network.requestWillBeSent"]

    @property
    def console_errors(self) -> list[str]:
        out = []
        urls = {e["params"]["requestId"]: e["params"]["request"]["url"]
                for e in self.events if e["method"] == "Network.requestWillBeSent"}
        for e in self.events:
            p = e.get("params", {})
            if e["method"] == "Runtime.exceptionThrown":
                out.append(p["exceptionDetails"].get("text", "exception"))
            elif e["method"] == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
                out.append(" ".join(str(a.get("value", a.get("description", ""))) for a in p.get("args", [])))
            elif e["method"] == "Log.entryAdded" and p["entry"].get("level") == "error":
                out.append(p["entry"].get("text", ""))
            elif e["method"] == "Network.loadingFailed":
                out.append(f"load failed: {p.get('errorText')} {urls.get(p.get('requestId'), '')}".rstrip())
        return out

    def fonts(self, selector: str) -> dict[str, int]:
        """{font family: glyphs drawn} for the text of the first element matching selector."""
        root = self.send("DOM.getDocument")["root"]["nodeId"]
        node = self.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        if not node:
            raise BrowserError(f"no element {selector}")
        fonts = self.send("CSS.getPlatformFontsForNode", {"nodeId": node})["fonts"]
        return {f["familyName"]: f["glyphCount"] for f in fonts}

    def screenshot(self, out: Path, width: int = A4_LANDSCAPE[0], height: int = A4_LANDSCAPE[1],
                   scale: float = 1.0) -> Path:
        """The first screen of the page (page one at A4 landscape proportions) as a PNG."""
        data = self.send("Page.captureScreenshot", {
            "format": "png", "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": scale}})["data"]
        out = Path(out)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_bytes(base64.b64decode(data))
        return out

    def pdf(self) -> bytes:
        """The page printed as the print stylesheet lays it out (its @page size)."""
        data = self.send("Page.printToPDF", {"preferCSSPageSize": True, "printBackground": True})["data"]
        return base64.b64decode(data)

    def close(self) -> None:
        try:
            if self.proc.poll() is None:
                try:
                    self.send("Browser.close", session=False)
                except (BrowserError, OSError):
                    pass
                try:
                    self.proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
        finally:
            for fd in (self._r, self._w):
                try:
                    os.close(fd)
                except OSError:
                    pass
            shutil.rmtree(self.profile, ignore_errors=True)

    def __enter__(self) -> Page:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(description="screenshot of a report's page one (headless Chromium)")
    sub = ap.add_subparsers(dest="cmd", required=True)
    shot = sub.add_parser("shot")
    shot.add_argument("page", type=Path)
    shot.add_argument("out", type=Path)
    shot.add_argument("--scale", type=float, default=0.8, help="image size relative to the page (default 0.8)")
    args = ap.parse_args(argv)
    with Page.open(args.page) as page:
        if page.console_errors:
            raise SystemExit(f"{args.page}: console errors: {page.console_errors}")
        page.screenshot(args.out, scale=args.scale)
    print(f"{args.out} ({args.out.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
