"""A small expression language for conditions written in data files (published.toml filters,
tte.toml sources and populations, mapping conditions). Text is tokenized and parsed into plain
objects and evaluated column-wise on a pandas frame; nothing is ever handed to Python's eval, so a
data file cannot run code, read attributes or write files.

Grammar (keywords are lower case; column names are identifiers, letters/digits/underscore)::

    expr     := or
    or       := and ("or" and)*
    and      := not ("and" not)*
    not      := "not" not | "(" expr ")" | test
    test     := value (CMP value | ["not"] "in" list | "is" ["not"] "missing"
                       | ["not"] ("startswith" | "endswith" | "contains" | "icontains") string)
    value    := column | string | number
    list     := "[" [literal ("," literal)*] "]"
    CMP      := "==" | "!=" | "<" | "<=" | ">" | ">="

Strings are in single or double quotes (a backslash escapes the quote or itself). A missing value
(empty text or NaN) never satisfies ==, <, in, startswith...; != and "not in" are their negations.
``icontains`` is ``contains`` ignoring case.

Public API: ``parse(text) -> Expr``; ``Expr.columns`` (the column names used, a frozenset);
``Expr.evaluate(frame) -> bool Series`` (same index as ``frame``); ``ExpressionError``.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Union

import numpy as np
import pandas as pd

MAX_LENGTH = 10_000
MAX_DEPTH = 50

__all__ = ["ExpressionError", "Expr", "parse"]


class ExpressionError(ValueError):
    """The text is not a valid expression, or names a column the data does not have."""


_TOKEN = re.compile(r"""
    (?P<space>\s+)
  | (?P<number>-?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?(?![A-Za-z_0-9]))
  | (?P<string>'(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>==|!=|<=|>=|<|>|\(|\)|\[|\]|,)
""", re.VERBOSE)

_KEYWORDS = {"and", "or", "not", "in", "is", "missing", "startswith", "endswith", "contains", "icontains"}
_TEXT_TESTS = ("startswith", "endswith", "contains", "icontains")


@dataclass(frozen=True)
class Token:
    kind: str  # number, string, name, keyword, op, end
    text: str
    pos: int


def tokenize(text: str) -> list[Token]:
    if not isinstance(text, str):
        raise ExpressionError(f"expression must be text, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression longer than {MAX_LENGTH} characters")
    tokens, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ExpressionError(f"unexpected character {text[pos]!r} at position {pos + 1} in {text!r}")
        kind = m.lastgroup
        if kind != "space":
            word = m.group()
            if kind == "name" and word in _KEYWORDS:
                kind = "keyword"
            tokens.append(Token(kind, word, pos))
        pos = m.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


# --- the tree: plain, inspectable objects ---------------------------------------------------------

@dataclass(frozen=True)
class Column:
    name: str


@dataclass(frozen=True)
class Literal:
    value: Union[str, float, int]


@dataclass(frozen=True)
class Compare:
    op: str
    left: Union[Column, Literal]
    right: Union[Column, Literal]


@dataclass(frozen=True)
class In:
    value: Union[Column, Literal]
    options: tuple
    negated: bool = False


@dataclass(frozen=True)
class Missing:
    value: Union[Column, Literal]
    negated: bool = False


@dataclass(frozen=True)
class TextTest:
    op: str  # startswith, endswith, contains, icontains
    value: Union[Column, Literal]
    text: str
    negated: bool = False


@dataclass(frozen=True)
class And:
    parts: tuple


@dataclass(frozen=True)
class Or:
    parts: tuple


@dataclass(frozen=True)
class Not:
    part: object


class Expr:
    """A parsed expression: ``columns`` it reads and ``evaluate(frame)`` to a boolean Series."""

    def __init__(self, text: str, tree):
        self.text, self.tree = text, tree
        self.columns = frozenset(_columns(tree))

    def evaluate(self, frame: pd.DataFrame) -> pd.Series:
        missing = sorted(self.columns - set(frame.columns))
        if missing:
            raise ExpressionError(f"{self.text!r}: no column {', '.join(missing)} "
                                  f"(columns: {', '.join(map(str, frame.columns))})")
        result = _eval(self.tree, frame)
        return pd.Series(np.broadcast_to(result, len(frame)).astype(bool), index=frame.index)

    def __repr__(self) -> str:
        return f"Expr({self.text!r})"


def parse(text: str) -> Expr:
    """Parse ``text``; raises ExpressionError naming the position of the first problem."""
    return Expr(text, _Parser(text).parse())


class _Parser:
    def __init__(self, text: str):
        self.text, self.tokens, self.i, self.depth = text, tokenize(text), 0, 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def fail(self, what: str):
        t = self.tok
        found = "end of text" if t.kind == "end" else repr(t.text)
        raise ExpressionError(f"{what}, found {found} at position {t.pos + 1} in {self.text!r}")

    def take(self, kind: str, text: str | None = None) -> Token | None:
        t = self.tok
        if t.kind == kind and (text is None or t.text == text):
            self.i += 1
            return t
        return None

    def parse(self):
        if self.tok.kind == "end":
            self.fail("empty expression")
        tree = self.or_()
        if self.tok.kind != "end":
            self.fail("expected 'and', 'or' or the end")
        return tree

    def or_(self):
        parts = [self.and_()]
        while self.take("keyword", "or"):
            parts.append(self.and_())
        return parts[0] if len(parts) == 1 else Or(tuple(parts))

    def and_(self):
        parts = [self.not_()]
        while self.take("keyword", "and"):
            parts.append(self.not_())
        return parts[0] if len(parts) == 1 else And(tuple(parts))

    def not_(self):
        self.depth += 1
        if self.depth > MAX_DEPTH:
            self.fail(f"expression nested deeper than {MAX_DEPTH}")
        try:
            if self.take("keyword", "not"):
                return Not(self.not_())
            if self.take("op", "("):
                tree = self.or_()
                if not self.take("op", ")"):
                    self.fail("expected ')'")
                return tree
            return self.test()
        finally:
            self.depth -= 1

    def value(self):
        t = self.tok
        if self.take("name"):
            return Column(t.text)
        if self.take("string"):
            return Literal(_unquote(t.text))
        if self.take("number"):
            return Literal(float(t.text) if any(c in t.text for c in ".eE") else int(t.text))
        self.fail("expected a column name, a quoted text or a number")

    def test(self):
        left = self.value()
        t = self.tok
        if t.kind == "op" and t.text in ("==", "!=", "<", "<=", ">", ">="):
            self.i += 1
            return Compare(t.text, left, self.value())
        if self.take("keyword", "is"):
            negated = bool(self.take("keyword", "not"))
            if not self.take("keyword", "missing"):
                self.fail("expected 'missing' after 'is'")
            return Missing(left, negated)
        negated = bool(self.take("keyword", "not"))
        if self.take("keyword", "in"):
            return In(left, self.options(), negated)
        t = self.tok
        if t.kind == "keyword" and t.text in _TEXT_TESTS:
            self.i += 1
            s = self.tok
            if not self.take("string"):
                self.fail(f"expected a quoted text after '{t.text}'")
            return TextTest(t.text, left, _unquote(s.text), negated)
        self.fail("expected a comparison (==, !=, <, <=, >, >=, in, is missing, startswith, contains ...)")

    def options(self) -> tuple:
        if not self.take("op", "["):
            self.fail("expected '[' after 'in'")
        values = []
        if self.take("op", "]"):
            return ()
        while True:
            v = self.value()
            if isinstance(v, Column):
                self.fail("a list after 'in' holds quoted texts or numbers, not column names")
            values.append(v.value)
            if self.take("op", "]"):
                return tuple(values)
            if not self.take("op", ","):
                self.fail("expected ',' or ']'")


def _unquote(token: str) -> str:
    return re.sub(r"\\(.)", r"\1", token[1:-1], flags=re.DOTALL)


def _columns(tree):
    if isinstance(tree, Column):
        yield tree.name
    elif isinstance(tree, (And, Or)):
        for part in tree.parts:
            yield from _columns(part)
    elif isinstance(tree, Not):
        yield from _columns(tree.part)
    elif isinstance(tree, Compare):
        yield from _columns(tree.left)
        yield from _columns(tree.right)
    elif isinstance(tree, (In, Missing, TextTest)):
        yield from _columns(tree.value)


# --- evaluation -----------------------------------------------------------------------------------

def _values(node, frame: pd.DataFrame):
    """A column as a pandas Series, a literal as itself."""
    return frame[node.name] if isinstance(node, Column) else node.value


def _is_missing(value) -> np.ndarray:
    if isinstance(value, pd.Series):
        missing = value.isna().to_numpy()
        if value.dtype == object or pd.api.types.is_string_dtype(value.dtype):
            missing = missing | (value.astype("string").str.strip().fillna("") == "").to_numpy()
        return missing
    return np.array(value is None or value == "" or (isinstance(value, float) and np.isnan(value)))


def _kind(value) -> str:
    """'num', 'date' or 'text' for a Series or a literal."""
    if isinstance(value, pd.Series):
        if pd.api.types.is_bool_dtype(value.dtype) or pd.api.types.is_numeric_dtype(value.dtype):
            return "num"
        if pd.api.types.is_datetime64_any_dtype(value.dtype):
            return "date"
        return "text"
    return "text" if isinstance(value, str) else "num"


def _align(left, right):
    """Bring both sides to comparable types: a date column against 'YYYY-MM-DD' text compares as
    dates; a numeric column against a number as numbers; otherwise as text."""
    kl, kr = _kind(left), _kind(right)
    if "date" in (kl, kr):
        return _as_date(left), _as_date(right)
    if kl == kr == "num":
        return left, right
    if kl == "num" and isinstance(left, pd.Series) and kr == "text" and not isinstance(right, pd.Series):
        raise ExpressionError(f"column {left.name} holds numbers; compare it with a number, not {right!r}")
    if kr == "num" and isinstance(right, pd.Series) and kl == "text" and not isinstance(left, pd.Series):
        raise ExpressionError(f"column {right.name} holds numbers; compare it with a number, not {left!r}")
    return _as_text(left), _as_text(right)


def _as_date(value):
    try:
        if isinstance(value, pd.Series):
            return value if pd.api.types.is_datetime64_any_dtype(value.dtype) else pd.to_datetime(value, errors="coerce")
        return np.datetime64(pd.Timestamp(value).as_unit("ns").to_datetime64())
    except (ValueError, TypeError, OverflowError):
        raise ExpressionError(f"{value!r} is not a date (YYYY-MM-DD)") from None


def _as_text(value):
    if isinstance(value, pd.Series):
        return value.astype("string")
    return value if isinstance(value, str) else str(value)


_COMPARE = {"==": np.equal, "!=": np.equal, "<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}


def _compare(node: Compare, frame: pd.DataFrame) -> np.ndarray:
    left, right = _values(node.left, frame), _values(node.right, frame)
    present = ~(_is_missing(left) | _is_missing(right))
    a, b = _align(left, right)
    with np.errstate(invalid="ignore"):
        a = a.to_numpy() if isinstance(a, pd.Series) else a
        b = b.to_numpy() if isinstance(b, pd.Series) else b
        if present.ndim and present.any():
            result = np.zeros(present.shape, dtype=bool)
            aa = a[present] if np.ndim(a) else a
            bb = b[present] if np.ndim(b) else b
            result[present] = np.asarray(_COMPARE[node.op](aa, bb), dtype=bool)
        elif present.ndim:
            result = np.zeros(present.shape, dtype=bool)
        else:
            result = np.asarray(bool(present) and bool(_COMPARE[node.op](a, b)))
    return ~result if node.op == "!=" else result


def _in(node: In, frame: pd.DataFrame) -> np.ndarray:
    value = _values(node.value, frame)
    present = ~_is_missing(value)
    options = list(node.options)
    if _kind(value) == "num":
        numbers = [o for o in options if not isinstance(o, str)]
        if len(numbers) != len(options) and isinstance(value, pd.Series):
            raise ExpressionError(f"column {value.name} holds numbers; list numbers after 'in'")
        hit = pd.Series(value).isin(numbers).to_numpy() if isinstance(value, pd.Series) else np.array(value in numbers)
    else:
        texts = [o if isinstance(o, str) else str(o) for o in options]
        hit = (_as_text(value).isin(texts).fillna(False).to_numpy(dtype=bool) if isinstance(value, pd.Series)
               else np.array(_as_text(value) in texts))
    hit = hit & present
    return ~hit if node.negated else hit


def _text_test(node: TextTest, frame: pd.DataFrame) -> np.ndarray:
    value = _values(node.value, frame)
    series = _as_text(value) if isinstance(value, pd.Series) else pd.Series([_as_text(value)], dtype="string")
    text = node.text
    if node.op == "icontains":
        series, text = series.str.casefold(), text.casefold()
    method = {"startswith": series.str.startswith, "endswith": series.str.endswith}.get(node.op)
    hit = method(text) if method else series.str.contains(text, regex=False)
    hit = hit.fillna(False).to_numpy(dtype=bool)
    if not isinstance(value, pd.Series):
        hit = np.asarray(hit[0])
    return ~hit if node.negated else hit


def _by_value(tree, frame: pd.DataFrame) -> np.ndarray | None:
    """A test of one text column against literals, made once per distinct value (a column of a million
    records holds a handful of values); None when the test is of another shape."""
    if isinstance(tree, Compare):
        columns = [n for n in (tree.left, tree.right) if isinstance(n, Column)]
        node = columns[0] if len(columns) == 1 else None
    elif isinstance(tree, (In, Missing, TextTest)):
        node = tree.value if isinstance(tree.value, Column) else None
    else:
        node = None
    if node is None or _kind(frame[node.name]) != "text":
        return None
    codes, uniques = pd.factorize(frame[node.name], use_na_sentinel=True)
    distinct = pd.DataFrame({node.name: pd.Series(list(uniques) + [None], dtype=object)})
    return _eval_each(tree, distinct)[codes]  # code -1 (missing) picks the trailing None


def _eval(tree, frame: pd.DataFrame) -> np.ndarray:
    if len(frame) > 64 and not isinstance(tree, (And, Or, Not)):
        result = _by_value(tree, frame)
        if result is not None:
            return result
    return _eval_each(tree, frame)


def _eval_each(tree, frame: pd.DataFrame) -> np.ndarray:
    if isinstance(tree, Compare):
        return _compare(tree, frame)
    if isinstance(tree, In):
        return _in(tree, frame)
    if isinstance(tree, Missing):
        missing = _is_missing(_values(tree.value, frame))
        return ~missing if tree.negated else missing
    if isinstance(tree, TextTest):
        return _text_test(tree, frame)
    if isinstance(tree, Not):
        return ~_eval(tree.part, frame)
    if isinstance(tree, And):
        out = _eval(tree.parts[0], frame)
        for part in tree.parts[1:]:
            out = out & _eval(part, frame)
        return out
    if isinstance(tree, Or):
        out = _eval(tree.parts[0], frame)
        for part in tree.parts[1:]:
            out = out | _eval(part, frame)
        return out
    raise ExpressionError(f"a bare value is not a condition: {tree!r}")
