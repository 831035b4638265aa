"""Loading a report in headless Chromium: its DOM, console messages and a screenshot.

Used by the report tests and by ``benchmarks/jobs.py --screenshots``; needs a
``chromium`` binary (Debian package ``chromium``). :func:`text_layout` measures
the charts' texts as drawn, so tests can prove no two labels collide.
"""

from __future__ import annotations

import html as entities
import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

# Chromium logs every console message (errors, CSP violations, uncaught
# exceptions) as `[pid:tid:date:LEVEL:CONSOLE:line] "text", source: url (line)`.
_CONSOLE = re.compile(r":CONSOLE[:(]\d*\)?\] (.*)")
TIMEOUT_S = 60.0


@dataclass(frozen=True)
class PageLoad:
    dom: str
    console: list[str]


def chromium_binary() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def load(
    page: Path, screenshot: Path | None = None, width: int = 1100, height: int = 1400
) -> PageLoad:
    binary = chromium_binary()
    if binary is None:
        raise FileNotFoundError("chromium is not installed")
    with tempfile.TemporaryDirectory(prefix="fcplane-chromium-") as profile:
        argv = [
            binary, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
            "--enable-logging=stderr", "--v=0", "--hide-scrollbars",
            f"--window-size={width},{height}",
        ]  # fmt: skip
        if screenshot is not None:
            argv.append(f"--screenshot={screenshot}")
        else:
            argv.append("--dump-dom")
        argv.append(page.resolve().as_uri())
        done = subprocess.run(argv, capture_output=True, text=True, timeout=TIMEOUT_S, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"chromium exited with {done.returncode}: {done.stderr[-2000:]}")
    console = [m.group(1) for m in map(_CONSOLE.search, done.stderr.splitlines()) if m]
    return PageLoad(dom=done.stdout, console=console)


# Measures every SVG text's drawn outline (its box mapped through its transforms, so
# turned labels stay quadrilaterals) and reports pairs that intersect, by the separating
# axis test, and texts that stick out of their chart.
_LAYOUT_PROBE = """
<script>
(() => {
  const corners = (el) => {
    const b = el.getBBox(), m = el.getScreenCTM();
    const [x0, y0, x1, y1] = [b.x, b.y, b.x + b.width, b.y + b.height];
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]].map(([x, y]) => {
      const p = new DOMPoint(x, y).matrixTransform(m);
      return [p.x, p.y];
    });
  };
  const apart = (a, b) => [a, b].some((poly) => poly.some((p, i) => {
    const q = poly[(i + 1) % poly.length], nx = q[1] - p[1], ny = p[0] - q[0];
    const pa = a.map(([x, y]) => x * nx + y * ny), pb = b.map(([x, y]) => x * nx + y * ny);
    return Math.max(...pa) <= Math.min(...pb) + 0.5 || Math.max(...pb) <= Math.min(...pa) + 0.5;
  }));
  const problems = [];
  let texts = 0;
  for (const svg of document.querySelectorAll("svg.chart")) {
    const frame = svg.getBoundingClientRect();
    const items = [...svg.querySelectorAll("text")].filter((t) => t.textContent.trim())
      .map((t) => ({ text: t.textContent.trim(), poly: corners(t) }));
    texts += items.length;
    items.forEach((a, i) => {
      if (a.poly.some(([x, y]) => x < frame.left - 1 || x > frame.right + 1
                                  || y < frame.top - 1 || y > frame.bottom + 1)) {
        problems.push(`outside the chart: ${a.text}`);
      }
      items.slice(i + 1).forEach((b) => {
        if (!apart(a.poly, b.poly)) problems.push(`overlap: ${a.text} / ${b.text}`);
      });
    });
  }
  const out = document.createElement("pre");
  out.id = "layout-probe";
  out.textContent = JSON.stringify({ texts, problems });
  document.body.appendChild(out);
})();
</script>
"""
_PROBE_OUT = re.compile(r'<pre id="layout-probe">(.*?)</pre>', re.S)


@dataclass(frozen=True)
class TextLayout:
    texts: int  # SVG texts measured
    problems: list[str]  # overlapping pairs and texts outside their chart


def text_layout(html: str, workdir: Path) -> TextLayout:
    """Load ``html`` (with its CSP relaxed for the probe script) and measure its chart texts."""
    relaxed = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", html)
    page = workdir / "layout-probe.html"
    page.write_text(relaxed.replace("</body>", _LAYOUT_PROBE + "</body>"))
    loaded = load(page)
    found = _PROBE_OUT.search(loaded.dom)
    if found is None:
        raise RuntimeError(f"the layout probe did not run: {loaded.console}")
    measured = json.loads(entities.unescape(found.group(1)))
    return TextLayout(texts=int(measured["texts"]), problems=list(measured["problems"]))
