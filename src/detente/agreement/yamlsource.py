"""YAML to plain Python values, remembering where every value came from.

An agreement is written by hand and argued over by lawyers; when the loader refuses one it must
point at the line. PyYAML's constructors throw positions away, so we compose the node graph and
build values ourselves, keeping a map from each value's path to its line and column.

Building values ourselves also fixes YAML 1.1's traps for treaty text: `NO` (Norway) and `off`
stay strings, `2022-03-01` stays a string until the schema asks for a date, and `010` is not
octal. Plain scalars resolve as YAML 1.2's core schema does (null, true/false, integers,
floats); anything quoted is a string. Anchors and aliases are refused: they buy nothing in a
treaty and are the vehicle of the "billion laughs" expansion attack. Duplicate keys, which
PyYAML silently lets the last one win, are refused too: in a treaty that is two readings.

A file is bounded before and while it is read: at most MAX_BYTES (checked before reading, and the
read itself stops there), nesting at most MAX_DEPTH collections deep and at most MAX_NODES values.
PyYAML composes recursively and spends several hundred bytes per node, so without the bounds a
100,000-deep `[[[…` ends in RecursionError and a megabyte of `[1,1,1,…` in gigabytes of memory.
"""

from __future__ import annotations

import re
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from detente.errors import AgreementError

#: Agreements and vocabularies are a few kilobytes; the shipped ones are under 20 KiB.
MAX_BYTES = 1024 * 1024
#: Collections nested inside one another (a mapping or list in a mapping is two levels). The
#: agreement schema needs about eight; Python's recursion limit would be reached near 500.
MAX_DEPTH = 64
#: Values (scalars, lists, mappings, keys included) in one file.
MAX_NODES = 100_000

Path_ = tuple[str | int, ...]

_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_NULL = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}


@dataclass(frozen=True)
class Mark:
    line: int  # 1-based
    column: int  # 1-based


@dataclass
class Source:
    """A parsed YAML document with the position of every value (and of every mapping key)."""

    file: str
    data: Any
    values: dict[Path_, Mark] = field(default_factory=dict)
    keys: dict[Path_, Mark] = field(default_factory=dict)
    #: for scalars written on one line: how many columns the value starts after its mark (0 plain,
    #: 1 quoted); block and multi-line scalars are absent (a column inside them is not one offset)
    inline: dict[Path_, int] = field(default_factory=dict)

    def locate(self, path: Path_, *, key: bool = False) -> Mark | None:
        """The position of `path`, or of its nearest ancestor that exists in the file."""
        p = tuple(path)
        while True:
            if key and p in self.keys:
                return self.keys[p]
            if p in self.values:
                return self.values[p]
            if not p:
                return None
            p = p[:-1]

    def error(
        self,
        path: Path_,
        message: str,
        *,
        key: bool = False,
        expected: str | None = None,
        suggestion: str | None = None,
        column_offset: int = 0,
    ) -> AgreementError:
        mark = self.locate(path, key=key)
        return AgreementError(
            message,
            file=self.file,
            line=mark.line if mark else None,
            column=(mark.column + column_offset) if mark else None,
            field=dotted(path) or None,
            expected=expected,
            suggestion=suggestion,
        )


def dotted(path: Path_) -> str:
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _scalar(node: yaml.ScalarNode) -> Any:
    text = node.value
    if node.style is not None:  # quoted or block scalar: always a string
        return text
    if text in _NULL:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if _INT.fullmatch(text):
        return int(text, 0) if text[:2] in ("0o", "0x") else int(text)
    if _FLOAT.fullmatch(text):
        return float(text)
    if text in (".inf", "+.inf", "-.inf", ".nan", ".NaN", ".Inf", "-.Inf"):
        raise ValueError("infinities and NaN are not numbers a treaty can count")
    return text


class _Bound(Exception):
    def __init__(self, message: str, event: yaml.Event) -> None:
        super().__init__(message)
        self.message = message
        self.line = event.start_mark.line + 1 if event.start_mark else None
        self.column = event.start_mark.column + 1 if event.start_mark else None


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe composer, stopping at MAX_DEPTH nested collections and MAX_NODES values.

    The count is kept as events arrive, so a refusal happens after reading at most a few more
    tokens than the bound, long before the recursion limit or memory runs out."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: int) -> yaml.Node | None:
        event: yaml.Event = self.peek_event()  # type: ignore[no-untyped-call]
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise _Bound(f"more than {MAX_NODES} values in one file; split it, or move bulk data "
                         "(a long polygon) to a GeoJSON file", event)
        if not isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
            return super().compose_node(parent, index)
        if self._depth >= MAX_DEPTH:
            raise _Bound(f"nested more than {MAX_DEPTH} levels deep; an agreement needs a handful "
                         "of levels: flatten the structure", event)
        self._depth += 1
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def parse_yaml(text: str, file: str) -> Source:
    src = Source(file, None)
    loader = _BoundedLoader(text)
    try:
        root = loader.get_single_node()
    except _Bound as exc:
        raise AgreementError(exc.message, file=file, line=exc.line, column=exc.column) from None
    except yaml.MarkedYAMLError as exc:
        m, cm = exc.problem_mark, exc.context_mark
        # the context says what was open ("while parsing a flow sequence"), often lines above
        ctx = f" ({exc.context} at line {cm.line + 1}, column {cm.column + 1})" if exc.context and cm else ""
        raise AgreementError(
            f"not valid YAML: {exc.problem}{ctx}",
            file=file,
            line=m.line + 1 if m else None,
            column=m.column + 1 if m else None,
        ) from None
    except yaml.YAMLError as exc:
        raise AgreementError(f"not valid YAML: {exc}", file=file) from None
    finally:
        loader.dispose()
    if root is None:
        raise AgreementError("the file is empty", file=file, line=1, column=1)
    seen: set[int] = set()

    def build(node: yaml.Node, path: Path_) -> Any:
        mark = Mark(node.start_mark.line + 1, node.start_mark.column + 1)
        if id(node) in seen:
            raise AgreementError(
                "anchors and aliases (&name / *name) are not allowed; write the value out",
                file=file,
                line=mark.line,
                column=mark.column,
            )
        seen.add(id(node))
        src.values[path] = mark
        if isinstance(node, yaml.ScalarNode):
            if node.style in (None, "'", '"') and node.start_mark.line == node.end_mark.line:
                src.inline[path] = 0 if node.style is None else 1
            try:
                return _scalar(node)
            except ValueError as exc:
                raise AgreementError(
                    str(exc), file=file, line=mark.line, column=mark.column, field=dotted(path) or None
                ) from None
        if isinstance(node, yaml.SequenceNode):
            return [build(child, (*path, i)) for i, child in enumerate(node.value)]
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for knode, vnode in node.value:
                kmark = Mark(knode.start_mark.line + 1, knode.start_mark.column + 1)
                if not isinstance(knode, yaml.ScalarNode) or knode.tag == "tag:yaml.org,2002:merge":
                    raise AgreementError(
                        "keys must be plain names (no merge keys or complex keys)",
                        file=file,
                        line=kmark.line,
                        column=kmark.column,
                    )
                key = str(knode.value)
                if key in out:
                    first = src.keys[(*path, key)]
                    raise AgreementError(
                        f"duplicate key '{key}' (first at line {first.line}); keep one",
                        file=file,
                        line=kmark.line,
                        column=kmark.column,
                        field=dotted((*path, key)),
                    )
                src.keys[(*path, key)] = kmark
                out[key] = build(vnode, (*path, key))
            return out
        raise AgreementError("unsupported YAML node", file=file, line=mark.line, column=mark.column)

    src.data = build(root, ())
    return src


def read_yaml(path: Path) -> Source:
    try:
        st = path.stat()
        if not stat.S_ISREG(st.st_mode):  # a FIFO or /dev/zero would block or never end
            raise AgreementError("not a regular file; give the path of a YAML file", file=str(path))
        if st.st_size > MAX_BYTES:
            raise AgreementError(f"file is larger than {MAX_BYTES} bytes; split it", file=str(path))
        with path.open("rb") as f:
            raw = f.read(MAX_BYTES + 1)  # the file may have grown since stat()
    except OSError as exc:
        raise AgreementError(f"cannot read the file: {exc.strerror}", file=str(path)) from None
    if len(raw) > MAX_BYTES:
        raise AgreementError(f"file is larger than {MAX_BYTES} bytes; split it", file=str(path))
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AgreementError(
            f"not UTF-8 (byte {exc.start}); save the file as UTF-8", file=str(path)
        ) from None
    return parse_yaml(text, str(path))
