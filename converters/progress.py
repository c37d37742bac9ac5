"""Progress on stderr: a bar of stages on a terminal; one plain line per stage elsewhere (logs, pipes, CI).

Stage messages read "<study>: <stage>" and announce a stage as it starts, so the bar counts the stages
before it as done; ``key`` is the study's place on the command line; ``done`` closes a study (one that
stops early still fills its share of the bar).
"""
from __future__ import annotations

import sys
from typing import TextIO

import click


class Silent:
    """``-q``: nothing but the summary."""

    def stage(self, key: int, message: str) -> None:
        pass

    def done(self, key: int, study: str, ok: bool) -> None:
        pass

    def close(self) -> None:
        pass


class Lines(Silent):
    """One line per stage, and one per finished study when there are several."""

    def __init__(self, stream: TextIO, studies: int):
        self.stream, self.studies, self.finished = stream, studies, 0

    def stage(self, key: int, message: str) -> None:
        click.echo(message, file=self.stream)

    def done(self, key: int, study: str, ok: bool) -> None:
        self.finished += 1
        if self.studies > 1:
            click.echo(finished_line(self.finished, self.studies, study, ok), file=self.stream)


class Bar(Silent):
    """One tqdm bar over every stage of every study, the stage under way beside it."""

    def __init__(self, stream: TextIO, studies: int, stages: int):
        from tqdm import tqdm

        self.stream, self.studies, self.stages, self.finished = stream, studies, stages, 0
        self.started: dict[int, int] = {}
        self.counted: dict[int, int] = {}
        self.bar = tqdm(total=studies * stages, file=stream, unit="stage", leave=True, dynamic_ncols=True,
                        bar_format="{percentage:3.0f}%|{bar}| {n_fmt}/{total_fmt} stages [{elapsed}] {desc}")

    def stage(self, key: int, message: str) -> None:
        self.started[key] = self.started.get(key, 0) + 1
        self._count(key, min(self.started[key] - 1, self.stages))
        self.bar.set_description_str(_fit(message))

    def done(self, key: int, study: str, ok: bool) -> None:
        self.finished += 1
        self._count(key, self.stages)
        line = finished_line(self.finished, self.studies, study, ok)
        self.bar.set_description_str(_fit(line))
        if self.studies > 1:
            self.bar.write(line, file=self.stream)

    def close(self) -> None:
        self.bar.close()

    def _count(self, key: int, done: int) -> None:
        self.bar.update(max(0, done - self.counted.get(key, 0)))
        self.counted[key] = max(done, self.counted.get(key, 0))


def _fit(text: str, width: int = 40) -> str:
    # a fixed width keeps the bar from changing length with every message
    return text[:width - 1] + "~" if len(text) > width else text.ljust(width)


def finished_line(i: int, n: int, study: str, ok: bool) -> str:
    return f"[{i}/{n}] {study}: {'ok' if ok else 'FAILED'}"


def progress_display(studies: int, stages: int, *, quiet: bool = False, stream: TextIO | None = None) -> Silent:
    """Silent with ``quiet``; a bar when ``stream`` (default stderr) is a terminal; plain lines otherwise."""
    if quiet:
        return Silent()
    stream = stream if stream is not None else sys.stderr
    if stream.isatty():
        return Bar(stream, studies, stages)
    return Lines(stream, studies)
