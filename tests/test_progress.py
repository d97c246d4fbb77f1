"""The progress line of a long build: counts, rate and time to go on a terminal, nothing elsewhere."""

from __future__ import annotations

import io

from generator.commands.progress import Progress, _columns


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def drawn(stream: io.StringIO) -> list[str]:
    """Each state of the line, as the terminal shows it after each redraw."""
    return [part.rstrip(" ") for part in stream.getvalue().rstrip("\n").split("\r")[1:]]


def test_the_line_counts_the_rate_and_the_time_to_go_from_the_first_department_year_done():
    """The clock starts at the first department-year done: the 40 s before it (the scan, a wait for another build)
    would make the rate too low and the time to go too long."""
    times = iter([40.0, 42.0, 100.0, 130.0])
    terminal = Terminal()
    progress = Progress("生成", terminal, clock=lambda: next(times))
    progress(1, 1000)
    progress(11, 1000)  # 10 in 2 s
    progress(301, 1000)  # 300 in 60 s
    progress(1000, 1000)
    progress.close()
    assert drawn(terminal) == [
        "生成 ························ 1/1000",
        "生成 ························ 11/1000（5.0 个/秒，还需约 3 分钟）",
        "生成 ███████················· 301/1000（5.0 个/秒，还需约 2 分钟）",
        "生成 ████████████████████████ 1000/1000（11.1 个/秒）",
    ]
    assert terminal.getvalue().endswith("\n")


def test_a_shorter_line_covers_what_the_longer_one_before_it_drew():
    times = iter([0.0, 1.0, 119.0])
    terminal = Terminal()
    progress = Progress("生成", terminal, clock=lambda: next(times))
    progress(1, 120)
    progress(2, 120)  # 1 a second: 118 to go, about 2 minutes
    progress(119, 120)  # 1 to go: 1 second
    lines = terminal.getvalue().split("\r")[1:]
    assert lines[1].rstrip(" ").endswith("还需约 2 分钟）") and lines[2].rstrip(" ").endswith("还需约 1 秒）")
    assert _columns(lines[2]) == _columns(lines[1])  # padded with spaces over the end of the longer line


def test_redrawn_at_most_every_fifth_of_a_second_but_always_at_the_end():
    times = iter([0.0, 0.1, 0.15, 0.3, 0.31])
    terminal = Terminal()
    progress = Progress("生成", terminal, clock=lambda: next(times))
    for done in (1, 2, 3, 4, 5):
        progress(done, 5)
    assert [line.split()[2].split("（")[0] for line in drawn(terminal)] == ["1/5", "4/5", "5/5"]


def test_nothing_is_written_where_the_output_is_not_a_terminal():
    stream = io.StringIO()
    progress = Progress("生成", stream, clock=lambda: 0.0)
    progress(1, 10)
    progress(10, 10)
    progress.close()
    assert stream.getvalue() == ""
