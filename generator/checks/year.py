"""Every check of one department-year: the one place the build's workers, validate and diff check a year."""

from __future__ import annotations

from generator.checks.tables import CheckResult, catalogue_names, check_narrative, check_terms, check_year
from generator.core.config import SiteConfig
from generator.core.diagnostics import Diagnostics
from generator.sources.records import DepartmentSource, SiteSource, YearSource


def check_loaded(config: SiteConfig, glossary: SiteSource, dept: DepartmentSource, ys: YearSource, diags: Diagnostics):
    """Every check of one department-year that has been read: (check results, the narrative's figures resolved
    to the cells they quote, code names). The build's workers and validate() both check a year here, so they
    can never disagree."""
    from generator.checks.projects import check_projects, project_lookup

    results: list[CheckResult] = check_year(ys, config.rounding, diags)
    results += check_projects(ys, dept, ys.fmt, config.rounding, diags)
    check_terms(ys, glossary, diags)
    named = catalogue_names(ys, diags)
    resolved: list[tuple] = []
    if ys.fmt is not None:
        resolved = check_narrative(ys, ys.fmt, diags, lambda y, t, r: project_lookup(y, t, r, diags))
    return results, resolved, named
