"""The self-contained HTML page: plotly.js inlined once, each figure a JSON spec and a numbered div.

``plotly.io.to_html`` gives every div a random id, so the page would differ on each run; here the
ids are ``fig-0``, ``fig-1``… in page order and the specs are ``fig.to_json()``, so the same run gives
the same bytes. A small loader draws every figure and then sets ``#ts-render-status``'s
``data-rendered`` to the number of plotly divs that hold an ``svg.main-svg`` (``data-expected`` is
the number of figures), which is what the browser test reads.
"""

from __future__ import annotations

import html
import math
import numbers
from collections.abc import Callable, Sequence

import pandas as pd
import plotly.graph_objects as go
import plotly.io
import plotly.offline

from tradescan.report.frames import format_number

STYLE = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0 auto;max-width:1320px;padding:0 16px;
color:#222}
h1{font-size:1.6em;margin:.8em 0 .2em}h2{border-bottom:2px solid #ccc;margin-top:2em}h3{margin-top:1.6em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0 1em}th,td{border:1px solid #ddd;padding:3px 7px}
th{background:#f3f3f3;text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}
.note{color:#666;font-size:.9em}.ok{color:#1a7f37;font-weight:bold}.bad{color:#b42318;font-weight:bold}
nav a{margin-right:1em}.ts-fig{min-height:260px}
"""

LOADER = """
(function () {
  var status = document.getElementById('ts-render-status');
  var divs = document.querySelectorAll('div.ts-fig');
  var jobs = [];
  divs.forEach(function (div) {
    var spec = JSON.parse(document.getElementById(div.id + '-spec').textContent);
    jobs.push(Plotly.newPlot(div, spec.data, spec.layout, {responsive: true, displaylogo: false}));
  });
  Promise.all(jobs).then(function () {
    var drawn = 0;
    document.querySelectorAll('.js-plotly-plot').forEach(function (plot) {
      if (plot.querySelector('svg.main-svg')) { drawn += 1; }
    });
    status.setAttribute('data-rendered', String(drawn));
    status.setAttribute('data-status', drawn === divs.length ? 'ok' : 'incomplete');
  }, function (error) {
    status.setAttribute('data-status', 'error');
    status.setAttribute('data-error', String(error));
    console.error(error);
  });
})();
"""

CellStyle = Callable[[object], str]


def escape(text: object) -> str:
    """Return ``text`` safe inside HTML."""
    return html.escape(str(text), quote=True)


def script_safe(text: str) -> str:
    """Return JSON text that cannot close the ``<script>`` element holding it."""
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


class Page:
    """An HTML page built in order: headings, paragraphs, tables and figures.

    Attributes:
        figures: how many figures were added (the number the page checks it drew).
    """

    def __init__(self, title: str) -> None:
        self.title = title
        self.figures = 0
        self._parts: list[str] = []

    def heading(self, level: int, text: str, anchor: str | None = None) -> None:
        """Add an ``<h{level}>``, with an id to link to when ``anchor`` is given."""
        ident = f' id="{escape(anchor)}"' if anchor else ""
        self._parts.append(f"<h{level}{ident}>{escape(text)}</h{level}>")

    def paragraph(self, text: str, css_class: str | None = None) -> None:
        """Add a paragraph of plain text."""
        attribute = f' class="{css_class}"' if css_class else ""
        self._parts.append(f"<p{attribute}>{escape(text)}</p>")

    def raw(self, markup: str) -> None:
        """Add markup built by this module's functions (already escaped)."""
        self._parts.append(markup)

    def table(self, frame: pd.DataFrame, *, index: bool = False, cell_style: CellStyle | None = None) -> None:
        """Add ``frame`` as a table (numbers right-aligned; ``cell_style`` gives a cell's inline style)."""
        self._parts.append(table_html(frame, index=index, cell_style=cell_style))

    def figure(self, figure: go.Figure) -> None:
        """Add a figure: an empty div and its JSON spec, drawn by the loader."""
        ident = f"fig-{self.figures}"
        self.figures += 1
        spec = script_safe(plotly.io.to_json(figure, engine="json"))  # orjson, when installed, formats otherwise
        self._parts.append(f'<div class="ts-fig" id="{ident}"></div>'
                           f'<script type="application/json" id="{ident}-spec">{spec}</script>')

    def render(self) -> str:
        """Return the whole page: plotly.js once in the head, the parts, the render status and loader."""
        status = (f'<div id="ts-render-status" hidden data-expected="{self.figures}" data-rendered="0" '
                  f'data-status="pending"></div>')
        return "\n".join([
            "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
            f"<title>{escape(self.title)}</title><style>{STYLE}</style>",
            f"<script>{plotly.offline.get_plotlyjs()}</script>", "</head><body>",
            *self._parts, status, f"<script>{LOADER}</script>", "</body></html>", "",
        ])


def table_html(frame: pd.DataFrame, *, index: bool = False, cell_style: CellStyle | None = None) -> str:
    """Return ``frame`` as an HTML table: numbers formatted and right-aligned, text escaped."""
    shown = frame.reset_index() if index else frame
    header = "".join(f"<th>{escape(column)}</th>" for column in shown.columns)
    rows = []
    for values in shown.itertuples(index=False, name=None):
        rows.append("<tr>" + "".join(_cell(value, cell_style) for value in values) + "</tr>")
    return f"<table><thead><tr>{header}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _cell(value: object, cell_style: CellStyle | None) -> str:
    numeric = _is_number(value)
    style = cell_style(value) if cell_style is not None else ""
    attributes = (' class="n"' if numeric else "") + (f' style="{style}"' if style else "")
    return f"<td{attributes}>{escape(format_number(value))}</td>"


def _is_number(value: object) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def returns_colour(value: object) -> str:
    """Return a cell background for a return in %: green for gains, red for losses, by size."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool) or math.isnan(value):
        return ""
    strength = min(abs(float(value)) / 5.0, 1.0)  # 5 % a month is full colour
    tint = "26,127,55" if float(value) >= 0 else "180,35,24"
    return f"background:rgba({tint},{0.08 + 0.55 * strength:.2f})"


def links(targets: Sequence[tuple[str, str]]) -> str:
    """Return a ``<nav>`` of in-page links ``(anchor, label)``."""
    items = "".join(f'<a href="#{escape(anchor)}">{escape(label)}</a>' for anchor, label in targets)
    return f"<nav>{items}</nav>"
