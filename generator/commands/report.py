"""What the commands tell a user on the terminal: the diagnostics, the counts, and what to do about a file error."""

from __future__ import annotations

import errno
import sys
from pathlib import Path

from generator.core.diagnostics import Diagnostic, Diagnostics, capped


def print_diagnostics(diags: list[Diagnostic], notes: bool, stream) -> None:
    """Each problem on a line of its own (Diagnostic.format); the rounding notes only with `notes`; at most
    PER_FILE of one file's, then how many more (core.diagnostics.capped)."""
    for d in capped([d for d in diags if d.level != "note" or notes]):
        print(d.format(), file=stream)


def summary(diags: Diagnostics) -> str:
    """How many errors, warnings and rounding notes: the line each command's report ends with."""
    return (
        f"{diags.count('error')} 个错误，{diags.count('warning')} 个警告，"
        f"{diags.count('note')} 处尾数差异（在允许范围内，页面上已标明）"
    )


def waiting_for(out: Path):
    """What a build says while another build into the same folder (or serve's) is still running."""

    def say(pid: int | None) -> None:
        who = f"（进程 {pid}）" if pid else ""
        print(f"另一个生成{who}正在写入 {out}，等它完成后再开始……", file=sys.stderr, flush=True)

    return say


_FULL = (
    "磁盘空间不足。请腾出空间后重新运行（全部重新生成时，新网站写完之前旧网站仍然保留，需要约两倍于 public/ 的空间）。"
)


_DENIED = "没有权限。请检查这个文件或文件夹的权限；写不进输出文件夹时，可以用 --out 换一个。"


_IO_ADVICE = {
    errno.ENOSPC: _FULL,
    getattr(errno, "EDQUOT", errno.ENOSPC): _FULL,
    errno.EACCES: _DENIED,
    errno.EPERM: _DENIED,
    errno.EROFS: "这是只读的文件系统。写不进输出文件夹时，可以用 --out 换一个。",
}


def os_error_message(exc: OSError) -> str:
    """A file that could not be read or written (not the data's fault, nor a bug): which file, and what to do."""
    jinja2 = sys.modules.get("jinja2")
    if jinja2 is not None and isinstance(exc, jinja2.TemplateNotFound):  # an OSError too
        return (
            f"找不到模板“{exc.name}”。请检查 site.toml 中的 templates 是否指向一个完整的模板文件夹"
            "（缺少的模板可以从本程序的 templates/ 里复制）。"
        )
    where = f" {exc.filename} " if exc.filename else "文件"
    advice = _IO_ADVICE.get(
        exc.errno, f"系统的说明是：{exc.strerror or exc}。看不出原因时，请加上 --verbose 重新运行。"
    )
    return f"读写{where}时出错：{advice}"
