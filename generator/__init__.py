"""部门决算公开网站生成器: department final accounts (部门决算) as checked YAML, published as a static site."""

__version__ = "0.1.0"

from pathlib import Path

HOME = Path(__file__).resolve().parent  # the generator's own code: every stage's folder below it
