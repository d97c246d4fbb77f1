"""How much the charts cost a build. Prints figures; asserts nothing (the tests say what is right, this says how fast).

    .venv/bin/python tools/bench_charts.py

1. Altair itself: one bar chart built with string shorthands ("v:Q") and validated, against the same chart with
   channel objects, Altair's debug-mode checks off and `to_dict(validate=False)`, the way generator/charts.py
   builds every chart.
2. The bundled site's charts: each one, as the build makes it, and validated against the schema (as the tests do).
3. Whole builds of the bundled site: with the charts, and with the chart functions stubbed out.
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

started = time.perf_counter()
import altair as alt  # noqa: E402

IMPORT_MS = (time.perf_counter() - started) * 1000

from altair.utils.schemapi import debug_mode  # noqa: E402

from generator.builder.pipeline import build  # noqa: E402
from generator.output import charts  # noqa: E402


def timed(fn, repeat: int = 30) -> float:
    """Median milliseconds of `fn()` after one warm-up call."""
    fn()
    runs = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        runs.append((time.perf_counter() - t) * 1000)
    return statistics.median(runs)


ROWS = [{"item": f"科目{i}", "v": i * 12.5} for i in range(12)]


def shorthand() -> dict:
    return alt.Chart(alt.Data(values=ROWS)).mark_bar().encode(x="v:Q", y="item:N", tooltip=["item:N", "v:Q"]).to_dict()


def channels() -> dict:
    with debug_mode(False):
        return (
            alt.Chart(alt.Data(values=ROWS))
            .mark_bar()
            .encode(
                x=alt.X(field="v", type="quantitative"),
                y=alt.Y(field="item", type="nominal"),
                tooltip=[alt.Tooltip(field="item", type="nominal"), alt.Tooltip(field="v", type="quantitative")],
            )
            .to_dict(validate=False)
        )


def bundled_site():
    """The chart functions' inputs for the bundled site, from the model the build makes."""
    from generator.builder.pipeline import run_checks
    from generator.core.config import load_config
    from generator.core.diagnostics import Diagnostics
    from generator.model.site import build_site
    from generator.sources.load import load_site

    config = load_config(REPO)
    diags = Diagnostics()
    source = load_site(config, diags)
    checks, narrative = run_checks(source, config, diags)
    return build_site(config, source, checks, narrative, False)


def main() -> None:
    print(f"import altair: {IMPORT_MS:.0f} ms (once per build)")
    print(f"one chart, string shorthands + validation: {timed(shorthand):.2f} ms")
    print(f"one chart, channel objects, no validation: {timed(channels):.2f} ms")

    with tempfile.TemporaryDirectory() as tmp:
        site = bundled_site()
        makers = []
        for y in site.all_years():
            makers.append(
                (f"{y.department.slug} tables", lambda y=y: charts.year_charts(y.source.fmt, y.source.tables))
            )
            makers.append((f"{y.department.slug} projects", lambda y=y: charts.project_charts(y.projects)))
        for year in site.years:
            makers.append((f"home {year}", lambda year=year: charts.site_charts(site.by_year(year))))
        schema = alt.vegalite.v6.schema.core.load_schema()
        from altair.utils.schemapi import validate_jsonschema

        total, count, validation = 0.0, 0, 0.0
        for name, make in makers:
            made = make()
            ms = timed(make, 10)
            total += ms
            count += len(made)
            v = timed(lambda made=made: [validate_jsonschema(c.spec, schema) for c in made], 3)
            validation += v
            print(
                f"  {name}: {len(made)} charts in {ms:.1f} ms ({ms / max(len(made), 1):.1f} ms each); validation {v:.0f} ms"
            )
        print(
            f"all {count} charts of the bundled site: {total:.0f} ms to build; {validation:.0f} ms to validate (tests only)"
        )

        def whole() -> None:
            build(REPO, Path(tmp) / "public")

        with_charts = timed(whole, 5)
        saved = charts.year_charts, charts.project_charts, charts.site_charts
        charts.year_charts = charts.project_charts = charts.site_charts = lambda *a: []
        try:
            without = timed(whole, 5)
        finally:
            charts.year_charts, charts.project_charts, charts.site_charts = saved
        print(f"build of the bundled site (in process): {with_charts:.0f} ms with charts, {without:.0f} ms without")


if __name__ == "__main__":
    main()
