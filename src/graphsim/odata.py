"""A small OData ``$filter`` evaluator for the expressions Graph clients send here.

Supported: ``eq ne gt ge lt le``, ``and``/``or``/``not``, parentheses, string, number,
boolean and null literals, ``contains``/``startswith``/``endswith``, property paths with
``/`` and lambda ``any`` (``singleValueExtendedProperties/Any(ep: ep/id eq '…' and
ep/value eq '…')``). String comparison ignores case, as Exchange does for values, except
on properties named ``id`` (extended property ids match case-sensitively,
extended-properties-overview.md).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from graphsim.errors import bad_request

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)(?![\w.])|(?P<punct>[(),:])"
    r"|(?P<word>[A-Za-z_@$][\w./@$-]*))"
)
_COMPARISONS = {"eq", "ne", "gt", "ge", "lt", "le"}
_FUNCTIONS = {"contains", "startswith", "endswith"}

Predicate = Callable[[dict[str, Any]], bool]
Operand = Callable[[dict[str, Any]], Any]


@dataclass(frozen=True)
class _Tok:
    kind: str
    text: str


def _tokens(text: str) -> list[_Tok]:
    out, pos = [], 0
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if match is None or match.end() == pos:
            if text[pos:].strip() == "":
                break
            raise bad_request(f"Invalid filter clause: unexpected text at '{text[pos:]}'.")
        kind = match.lastgroup or ""
        out.append(_Tok(kind, match.group(kind)))
        pos = match.end()
    return out


def compile_filter(text: str) -> Predicate:
    """A predicate over JSON-shaped objects; 400 ``BadRequest`` for what it cannot parse."""
    parser = _Parser(_tokens(text))
    predicate = parser.expression()
    if parser.pos != len(parser.toks):
        raise bad_request(f"Invalid filter clause: unexpected '{parser.toks[parser.pos].text}'.")
    return predicate


def _lookup(obj: Any, path: str) -> Any:
    for part in path.split("/"):
        if not isinstance(obj, dict):
            return None
        obj = obj.get(part, next((v for k, v in obj.items() if k.lower() == part.lower()), None))
    return obj


def _norm(value: Any, case: bool) -> Any:
    return value.lower() if isinstance(value, str) and not case else value


def _compare(op: str, left: Any, right: Any) -> bool:
    if op == "eq":
        return bool(left == right)
    if op == "ne":
        return bool(left != right)
    if left is None or right is None:
        return False
    try:
        return bool(
            {"gt": left > right, "ge": left >= right, "lt": left < right, "le": left <= right}[op]
        )
    except TypeError:
        return False


def _either(a: Predicate, b: Predicate) -> Predicate:
    return lambda o: a(o) or b(o)


def _both(a: Predicate, b: Predicate) -> Predicate:
    return lambda o: a(o) and b(o)


class _Parser:
    def __init__(self, toks: list[_Tok]) -> None:
        self.toks, self.pos = toks, 0

    def _peek(self) -> _Tok | None:
        return self.toks[self.pos] if self.pos < len(self.toks) else None

    def _take(self, text: str | None = None) -> _Tok:
        tok = self._peek()
        if tok is None or (text is not None and tok.text.lower() != text):
            raise bad_request(f"Invalid filter clause: expected '{text or 'more input'}'.")
        self.pos += 1
        return tok

    def _at_word(self, *words: str) -> bool:
        tok = self._peek()
        return tok is not None and tok.kind == "word" and tok.text.lower() in words

    def expression(self) -> Predicate:
        left = self._conjunction()
        while self._at_word("or"):
            self._take()
            left = _either(left, self._conjunction())
        return left

    def _conjunction(self) -> Predicate:
        left = self._unary()
        while self._at_word("and"):
            self._take()
            left = _both(left, self._unary())
        return left

    def _unary(self) -> Predicate:
        if self._at_word("not"):
            self._take()
            inner = self._unary()
            return lambda o: not inner(o)
        tok = self._peek()
        if tok is not None and tok.text == "(":
            self._take("(")
            inner = self.expression()
            self._take(")")
            return inner
        return self._comparison()

    def _comparison(self) -> Predicate:
        left, case = self._operand()
        if not self._at_word(*_COMPARISONS):
            return lambda o: bool(left(o))
        op = self._take().text.lower()
        right, right_case = self._operand()
        exact = case or right_case
        return lambda o: _compare(op, _norm(left(o), exact), _norm(right(o), exact))

    def _operand(self) -> tuple[Operand, bool]:
        tok = self._take()
        if tok.kind == "str":
            value = tok.text[1:-1].replace("''", "'")
            return (lambda _o: value), False
        if tok.kind == "num":
            number = float(tok.text) if "." in tok.text else int(tok.text)
            return (lambda _o: number), False
        literal = {"true": True, "false": False, "null": None}
        if tok.text.lower() in literal:
            value_ = literal[tok.text.lower()]
            return (lambda _o: value_), False
        if tok.text.lower() in _FUNCTIONS:
            return self._function(tok.text.lower()), False
        if tok.text.lower().endswith("/any"):
            return self._any(tok.text[: -len("/any")]), False
        path = tok.text
        return (lambda o: _lookup(o, path)), path.split("/")[-1] == "id"

    def _function(self, name: str) -> Operand:
        self._take("(")
        left, _ = self._operand()
        self._take(",")
        right, _ = self._operand()
        self._take(")")
        test = {"contains": str.__contains__, "startswith": str.startswith}.get(name, str.endswith)

        def apply(o: dict[str, Any]) -> bool:
            a, b = left(o), right(o)
            return isinstance(a, str) and isinstance(b, str) and test(a.lower(), b.lower())

        return apply

    def _any(self, collection: str) -> Operand:
        self._take("(")
        var = self._take().text
        self._take(":")
        body = self.expression()
        self._take(")")

        def apply(o: dict[str, Any]) -> bool:
            items = _lookup(o, collection) or []
            return any(body({**o, var: item}) for item in items)

        return apply
