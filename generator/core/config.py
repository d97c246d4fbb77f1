"""site.toml → SiteConfig."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from urllib.parse import urlsplit

from generator.core.diagnostics import Diagnostic, Loc, UserError

CONFIG_FILE = "site.toml"
MAX_ROUNDING = Decimal("0.5")  # half a unit of a figure printed without decimals


@dataclass(frozen=True)
class SiteConfig:
    root: Path
    title: str
    description: str
    base_url: str
    language: str
    formats: dict[int, str]  # year → format id (data/formats/<id>.yaml)
    rounding: Decimal  # the largest rounding error of one printed figure, in its unit (0.005 for two decimals)
    templates: Path = field(default=Path("templates"))

    @property
    def data_dir(self) -> Path:
        return self.root / "data"

    @property
    def content_dir(self) -> Path:
        return self.root / "content"

    @property
    def templates_dir(self) -> Path:
        return self.root / self.templates


def _line_of(source: str, key: str) -> int:
    """The line where `key = …` is set, for the message; 0 where it is not written (a default)."""
    for no, line in enumerate(source.splitlines(), start=1):
        if line.split("=", 1)[0].strip() == key:
            return no
    return 0


def _fail(message: str, line: int = 0) -> UserError:
    return UserError("site.toml 有误", [Diagnostic("error", Loc(CONFIG_FILE, line), message, "config")])


def load_config(root: Path) -> SiteConfig:
    path = root / CONFIG_FILE
    if not path.is_file():
        raise _fail(f"找不到站点设置文件 {CONFIG_FILE}。请在站点文件夹（{root}）里运行，或用 --site 指明站点文件夹。")
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        line = int(str(exc).rsplit("line ", 1)[-1].split(",")[0]) if "line " in str(exc) else 0
        raise _fail(f"TOML 格式错误：{exc}。请检查引号和等号。", line) from None
    except UnicodeDecodeError:
        raise _fail("文件不是 UTF-8 编码。") from None

    def text(key: str, default: str | None = None) -> str:
        value = raw.get(key, default)
        if not isinstance(value, str):
            raise _fail(f'缺少 {key}（一段文字），例如 {key} = "…"。')
        return value

    formats_raw = raw.get("formats")
    if not isinstance(formats_raw, dict) or not formats_raw:
        raise _fail('缺少 [formats]：每个年度用哪个表格格式，例如 [formats] 下写 2023 = "shenzhen-2023"。')
    formats: dict[int, str] = {}
    for year, fmt in formats_raw.items():
        if not (str(year).isdigit() and len(str(year)) == 4 and isinstance(fmt, str)):
            raise _fail(f'[formats] 里的“{year}”应写成 年度 = "格式名"，例如 2023 = "shenzhen-2023"。')
        formats[int(year)] = fmt

    checks = raw.get("checks", {})
    source = path.read_text(encoding="utf-8")
    try:
        rounding = Decimal(str(checks.get("rounding", "0.005")))
    except InvalidOperation:
        raise _fail('[checks] rounding 应是一个数，例如 "0.005"。', _line_of(source, "rounding")) from None
    if not rounding.is_finite() or not (0 < rounding <= MAX_ROUNDING):
        raise _fail(
            f"[checks] rounding = {checks.get('rounding')!r} 不合理：它是一个印刷数字最大的舍入误差，应大于 0、"
            f'不超过 {MAX_ROUNDING}（保留两位小数时为 "0.005"，印到整数时为 "0.5"）。太大的值会让每一项合计核对都显得相符。',
            _line_of(source, "rounding"),
        )

    base_url = text("base_url", "")
    if base_url:
        parts = urlsplit(base_url)
        if parts.scheme not in ("http", "https") or not parts.netloc or any(ch in base_url for ch in '"<>\\ '):
            raise _fail(
                f"base_url = {base_url!r} 不是网站地址：应以 https:// 或 http:// 开头，例如 "
                '"https://example.org/juesuan/"；不发布到网上时可以不写。',
                _line_of(source, "base_url"),
            )
    if base_url and not base_url.endswith("/"):
        base_url += "/"
    return SiteConfig(
        root=root,
        title=text("title"),
        description=text("description", ""),
        base_url=base_url,
        language=text("language", "zh-CN"),
        formats=formats,
        rounding=rounding,
        templates=Path(text("templates", "templates")),
    )
