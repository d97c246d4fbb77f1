"""部门决算公开网站生成器: department final accounts (部门决算) as checked YAML, published as a static site."""

__version__ = "0.1.0"
