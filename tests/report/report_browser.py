"""Open a report in headless Chromium (Debian's ``/usr/bin/chromium``) and read what it drew.

``render(page, workdir)`` copies the page with a small probe script in front (it records uncaught
errors and ``console.error``/``console.warn`` calls into ``#ts-test-errors``), dumps the DOM after the
page settled and returns the render status the page itself set, the probe's errors and every console
line Chromium logged. DNS is mapped to nothing, so any network request would fail and be logged.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
TIMEOUT_S = 180
PROBE = """<script>
window.__tsErrors = [];
window.addEventListener('error', function (e) { window.__tsErrors.push('uncaught: ' + e.message); });
['error', 'warn'].forEach(function (level) {
  var original = console[level];
  console[level] = function () {
    window.__tsErrors.push(level + ': ' + Array.prototype.join.call(arguments, ' '));
    original.apply(console, arguments);
  };
});
window.addEventListener('load', function () {
  setTimeout(function () {
    var out = document.createElement('pre');
    out.id = 'ts-test-errors';
    out.textContent = JSON.stringify(window.__tsErrors);
    document.body.appendChild(out);
  }, 0);
});
</script>"""
STATUS = re.compile(r'<div id="ts-render-status"([^>]*)>')
ATTRIBUTE = re.compile(r'(data-[a-z]+)="([^"]*)"')
ERRORS = re.compile(r'<pre id="ts-test-errors">(.*?)</pre>', re.S)


@dataclass(frozen=True)
class Rendered:
    """What Chromium made of a page."""

    status: dict[str, str]
    errors: list[str]
    console: list[str]
    plot_divs: int


def chromium() -> str:
    """Return Chromium's path, or skip the test saying why."""
    if shutil.which(CHROMIUM) is None:
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium) - the browser test needs it")
    return CHROMIUM


def base_args(profile: Path) -> list[str]:
    return [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--host-resolver-rules=MAP * ~NOTFOUND", f"--user-data-dir={profile}", "--virtual-time-budget=30000"]


def render(page: Path, workdir: Path) -> Rendered:
    """Load ``page`` (with the probe) in Chromium and return its render status, errors and console lines."""
    probed = workdir / f"probed_{page.name}"
    text = page.read_text(encoding="utf-8")
    probed.write_text(text.replace("<head>", "<head>" + PROBE, 1), encoding="utf-8")
    done = subprocess.run([*base_args(workdir / "profile"), "--enable-logging=stderr", "--v=0", "--dump-dom",
                           probed.as_uri()], capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    dom = done.stdout
    status = STATUS.search(dom)
    errors = ERRORS.search(dom)
    assert status is not None and errors is not None, dom[-2000:]
    console = [line for line in done.stderr.splitlines() if ":CONSOLE" in line]
    return Rendered(status=dict(ATTRIBUTE.findall(status.group(1))), errors=json.loads(errors.group(1)),
                    console=console, plot_divs=dom.count('class="ts-fig js-plotly-plot"'))


def screenshot(page: Path, out: Path, workdir: Path, size: str = "1400,3000") -> Path:
    """Save a PNG of ``page`` as Chromium draws it at ``size`` (width,height)."""
    subprocess.run([*base_args(workdir / "profile"), "--hide-scrollbars", f"--window-size={size}",
                    f"--screenshot={out}", page.as_uri()], capture_output=True, timeout=TIMEOUT_S, check=True)
    return out
