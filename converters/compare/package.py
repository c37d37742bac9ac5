"""Two packages (or two dataset files) compared dataset by dataset."""
from __future__ import annotations

from pathlib import Path

from converters.compare.diff import Comparison, compare_tables
from converters.compare.tables import TableError, find_datasets, read_table
from converters.compare.values import Options


def compare_packages(base: Path, compare: Path, *, datasets: list[str] | None = None,
                     keys: list[str] | None = None, opts: Options = Options(), max_examples: int = 5) -> Comparison:
    """Raises TableError when either side cannot be read or a named dataset is in neither."""
    from converters.validate import xport5

    with xport5.shared_reads():  # a file compared with itself is parsed once
        return _compare(Path(base), Path(compare), datasets, keys, opts, max_examples)


def _compare(base: Path, compare: Path, datasets: list[str] | None, keys: list[str] | None, opts: Options,
             max_examples: int) -> Comparison:
    if base.is_file() != compare.is_file() and (base.exists() and compare.exists()):
        raise TableError("compare two package folders or two dataset files, not one of each")
    left, right = find_datasets(base), find_datasets(compare)
    if base.is_file():  # two files: one dataset, whatever the files are called
        left, right = {"": left.popitem()[1]}, {"": right.popitem()[1]}
    wanted = [d.upper() for d in datasets] if datasets else None
    if wanted:
        unknown = [d for d in wanted if d not in left and d not in right]
        if unknown:
            raise TableError(f"dataset(s) {', '.join(unknown)} in neither {base} nor {compare}")
    names = sorted(set(left) | set(right)) if wanted is None else wanted
    result = Comparison(str(base), str(compare), [])
    for name in names:
        if name not in right:
            result.only_base.append(name)
        elif name not in left:
            result.only_compare.append(name)
        else:
            b, c = read_table(left[name]), read_table(right[name])
            if name == "":
                c.name = b.name
            try:
                result.datasets.append(compare_tables(b, c, opts, keys, max_examples))
            except ValueError as exc:
                raise TableError(str(exc)) from None
    return result
