"""docs/agreements.md is what people copy agreements from, so every example in it must load.

Each ```yaml block is written to a temporary directory and loaded with `load_agreement`, as the
HTML comment before it says (see the table at the end of the document): whole agreements must
load and fit the exported JSON Schema; fragments are merged into the document's base agreement
first; broken examples must be refused with the message the document quotes. The document's other
claims that can drift from the code are checked too: the missing-value truth table is recomputed,
error output shown after a broken example must be the loader's exact words, and every field,
allowed value and builtin shape of the schema must be mentioned.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
import yaml

from detente.agreement.loader import load_agreement
from detente.agreement.schema import json_schema
from detente.agreement.selector import compile_selector
from detente.agreement.table import HoldingsTable
from detente.agreement.yamlsource import parse_yaml, read_yaml
from detente.errors import AgreementError
from detente.geo import builtin_shape_names

DOC = Path(__file__).resolve().parents[2] / "docs" / "agreements.md"
TEXT = DOC.read_text(encoding="utf-8")
NAME = "treaty.yaml"  # what whole examples are saved as, so quoted messages can name the file

_MARKER = re.compile(r"^<!--\s*(.*?)\s*-->$")
_FRAGMENT_BROKEN = re.compile(r"^fragment;\s*broken:\s*(.+)$")
_BROKEN = re.compile(r"^broken:\s*(.+)$")
_FILE = re.compile(r"^file:\s*(\S+)$")


@dataclass(frozen=True)
class Block:
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    marker: str | None  # the HTML comment on the nearest non-blank line above, if any

    @property
    def fragment(self) -> bool:
        return self.marker == "fragment" or bool(self.marker and _FRAGMENT_BROKEN.match(self.marker))

    @property
    def broken(self) -> str | None:
        if not self.marker:
            return None
        m = _FRAGMENT_BROKEN.match(self.marker) or _BROKEN.match(self.marker)
        return m.group(1) if m else None

    @property
    def file(self) -> str | None:
        m = _FILE.match(self.marker or "")
        return m.group(1) if m else None


def _blocks(md: str) -> list[Block]:
    lines = md.splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        if lines[i].startswith("```"):
            lang = lines[i][3:].strip()
            j = i + 1
            while j < len(lines) and not lines[j].startswith("```"):
                j += 1
            assert j < len(lines), f"docs/agreements.md:{i + 1}: code block never closed"
            k = i - 1
            while k >= 0 and not lines[k].strip():
                k -= 1
            m = _MARKER.match(lines[k].strip()) if k >= 0 else None
            out.append(Block(i + 1, lang, "\n".join(lines[i + 1 : j]) + "\n", m.group(1) if m else None))
            i = j + 1
        else:
            i += 1
    return out


BLOCKS = _blocks(TEXT)
YAML = [b for b in BLOCKS if b.lang == "yaml" and b.file is None]
FILES = [b for b in BLOCKS if b.file is not None]
BASES = [b for b in YAML if b.marker == "base"]
SCHEMA = json_schema()


def _data(text: str) -> Any:
    """YAML as the loader reads it (1.2 scalars, no aliases); a comment-only text is empty."""
    if not any(ln.strip() and not ln.lstrip().startswith("#") for ln in text.splitlines()):
        return {}
    return parse_yaml(text, NAME).data


def _merge(base: Any, frag: Any) -> Any:
    """A fragment inside the base agreement: mappings merged, lists appended, the rest replaced."""
    out = dict(base)
    for k, v in frag.items():
        if isinstance(out.get(k), dict) and isinstance(v, dict):
            out[k] = _merge(out[k], v)
        elif isinstance(out.get(k), list) and isinstance(v, list):
            out[k] = out[k] + v
        else:
            out[k] = v
    return out


def _workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for f in FILES:
        assert f.file is not None
        target = tmp_path / f.file
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(f.text, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def _source_text(block: Block) -> str:
    if not block.fragment:
        return block.text
    assert len(BASES) == 1
    merged = _merge(_data(BASES[0].text), _data(block.text))
    return yaml.safe_dump(merged, sort_keys=False, allow_unicode=True, width=10_000)


def _schema_errors(data: Any) -> list[str]:
    errors = []
    for validator in (jsonschema.Draft7Validator, jsonschema.Draft202012Validator):
        v = validator(SCHEMA, format_checker=validator.FORMAT_CHECKER)
        errors += [f"{validator.__name__}: {e.json_path}: {e.message}" for e in v.iter_errors(data)]
    return errors


def _load_error(block: Block) -> AgreementError:
    """The loader's refusal of a (broken) block; the caller has chdir'd into a work directory."""
    try:
        text = _source_text(block)
    except AgreementError as exc:  # refused while reading the fragment itself (duplicate key, alias)
        return exc
    Path(NAME).write_text(text, encoding="utf-8")
    with pytest.raises(AgreementError) as info:
        load_agreement(NAME)
    return info.value


# ------------------------------------------------------------------ the examples load


def test_the_document_has_one_base_and_many_examples() -> None:
    assert len(BASES) == 1, "exactly one <!-- base --> block, the agreement fragments are merged into"
    assert len(YAML) >= 30
    assert {f.file for f in FILES} >= {"vocabulary.yaml", "zones/buffer.geojson"}


def test_every_marker_is_known_and_attached() -> None:
    lines = TEXT.splitlines()
    for n, line in enumerate(lines):
        m = _MARKER.match(line.strip())
        if not m:
            continue
        body = m.group(1)
        known = (
            body in ("base", "fragment", "missing-value-table")
            or _FRAGMENT_BROKEN.match(body)
            or _BROKEN.match(body)
            or _FILE.match(body)
        )
        assert known, f"docs/agreements.md:{n + 1}: unknown marker {line.strip()!r}"
        nxt = next(x for x in lines[n + 1 :] if x.strip())
        want = "|" if body == "missing-value-table" else "```"
        assert nxt.startswith(want), f"docs/agreements.md:{n + 1}: marker not followed by {want}"


@pytest.mark.parametrize("block", [b for b in YAML if b.broken is None], ids=lambda b: f"line{b.line}")
def test_valid_example_loads_and_fits_the_schema(
    block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _workdir(tmp_path, monkeypatch)
    Path(NAME).write_text(_source_text(block), encoding="utf-8")
    try:
        ag = load_agreement(NAME)
    except AgreementError as exc:
        pytest.fail(f"docs/agreements.md:{block.line}: example refused: {exc.message}")
    assert ag.parties
    assert not _arrows(block), f"docs/agreements.md:{block.line}: a `# →` refusal in an example that loads"
    errors = _schema_errors(read_yaml(Path(NAME)).data)
    assert not errors, f"docs/agreements.md:{block.line}: loads, but the JSON Schema refuses it: {errors}"


@pytest.mark.parametrize("block", [b for b in YAML if b.broken is not None], ids=lambda b: f"line{b.line}")
def test_broken_example_is_refused_as_documented(
    block: Block, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _workdir(tmp_path, monkeypatch)
    exc = _load_error(block)
    assert block.broken is not None
    assert block.broken in exc.message, (
        f"docs/agreements.md:{block.line}: expected {block.broken!r} in the loader's message, got "
        f"{exc.message!r}"
    )
    # what the reader sees: a `# → message` comment in the block (the marker is invisible)
    shown = _arrows(block)
    assert shown or not block.fragment, f"docs/agreements.md:{block.line}: show the refusal as `# → ...`"
    for text in shown:
        quoted = text[:-1].rstrip() if text.endswith("…") else text
        assert quoted in exc.message, f"docs/agreements.md:{block.line}: {text!r} is not what the loader says"


def _arrows(block: Block) -> list[str]:
    return [ln.split("# → ", 1)[1].strip() for ln in block.text.splitlines() if "# → " in ln]


def test_quoted_validate_output_is_the_loaders_exact_words(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An `error treaty.yaml:...` line shown after a broken example is what the loader says."""
    _workdir(tmp_path, monkeypatch)
    messages: dict[str, AgreementError] = {}
    checked = 0
    for i, block in enumerate(BLOCKS):
        if block.lang != "yaml" or block.broken is None or block.fragment:
            continue
        exc = _load_error(block)
        messages[exc.message] = exc
        shown = BLOCKS[i + 1] if i + 1 < len(BLOCKS) else None
        if shown is None or shown.lang or f"error {NAME}:" not in shown.text:
            continue
        lines = [ln for ln in shown.text.splitlines() if ln.startswith("error ")]
        assert lines == [f"error {exc.message}"], f"docs/agreements.md:{shown.line}: not the loader's words"
        checked += 1
    assert checked >= 2
    # the `validate --json` output quoted in the document
    quoted = [b for b in BLOCKS if b.lang == "json" and '"ok": false' in b.text]
    assert quoted
    for b in quoted:
        (entry,) = json.loads(b.text)
        refusal = messages.get(entry["message"])
        assert refusal is not None, f"docs/agreements.md:{b.line}: no example gives {entry['message']!r}"
        assert entry == {"file": NAME, "ok": False, "error": refusal.to_json(), "message": refusal.message}


# ------------------------------------------------------------------ the document's claims


def _truth_table() -> list[tuple[str, str, str]]:
    lines = TEXT.splitlines()
    start = next(i for i, ln in enumerate(lines) if ln.strip() == "<!-- missing-value-table -->")
    rows: list[tuple[str, str, str]] = []
    for ln in lines[start + 1 :]:
        if not ln.startswith("|"):
            if rows:
                break
            continue
        cells = [c.strip() for c in ln.strip().strip("|").split("|")]
        if cells[0].startswith("`"):
            assert set(cells[1:]) <= {"yes", "no", "unknown"}, ln
            rows.append((cells[0].strip("`"), cells[1], cells[2]))
    return rows


def test_missing_value_table_is_what_selectors_compute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _workdir(tmp_path, monkeypatch)
    Path(NAME).write_text(BASES[0].text, encoding="utf-8")
    ag = load_agreement(NAME)
    items = [
        {"party": "US", "site": "malmstrom-afb", "category": "ICBM", "count": 1,
         "attributes": {"range_km": 11000, "deployed": True}},
        {"party": "US", "site": "malmstrom-afb", "category": "ICBM", "count": 1, "attributes": {}},
    ]
    table = HoldingsTable.from_items(items, ag.attributes, ag.categories, {})
    rows = _truth_table()
    assert len(rows) >= 8
    for text, a, b in rows:
        true, unknown = compile_selector(text, ag.vocabulary).mask3(table)
        got = ["unknown" if u else "yes" if t else "no" for t, u in zip(true, unknown, strict=True)]
        assert got == [a, b], f"{text}: the document says A={a}, B={b}; evaluation gives {got}"


def _schema_names(node: Any, fields: set[str], values: set[str]) -> None:
    if isinstance(node, dict):
        for key in ("properties",):
            for name, sub in node.get(key, {}).items():
                fields.add(name)
                _schema_names(sub, fields, values)
        for v in node.get("enum", []):
            values.add(str(v))
        if "const" in node:
            values.add(str(node["const"]))
        for k, sub in node.items():
            if k not in ("properties", "enum", "const"):
                _schema_names(sub, fields, values)
    elif isinstance(node, list):
        for sub in node:
            _schema_names(sub, fields, values)


def test_every_field_and_allowed_value_is_documented() -> None:
    fields: set[str] = set()
    values: set[str] = set()
    _schema_names(SCHEMA, fields, values)
    assert {"agreement", "presumption", "due_days", "counts_as"} <= fields
    missing_fields = sorted(f for f in fields if f"`{f}`" not in TEXT and f"{f}:" not in TEXT)
    assert not missing_fields, f"schema fields not in docs/agreements.md: {missing_fields}"
    missing_values = sorted(v for v in values if f"`{v}`" not in TEXT)
    assert not missing_values, f"allowed values not in docs/agreements.md (in backticks): {missing_values}"


def test_every_obligation_kind_has_a_valid_example() -> None:
    kinds = {v for v in SCHEMA["$defs"]["LimitDoc"]["properties"]["kind"].get("enum", [])} | {
        d["properties"]["kind"]["const"]
        for d in SCHEMA["$defs"].values()
        if "kind" in d.get("properties", {}) and "const" in d["properties"]["kind"]
    }
    assert len(kinds) == 7
    shown = {m for b in YAML if b.broken is None for m in re.findall(r"kind: ([a-z]+)", b.text)}
    assert kinds <= shown, f"obligation kinds without a valid example: {sorted(kinds - shown)}"


def test_every_builtin_shape_is_listed() -> None:
    names = builtin_shape_names()
    assert "ukraine" in names
    missing = [n for n in names if f"`{n}`" not in TEXT]
    assert not missing, f"builtin shapes not listed in docs/agreements.md: {missing}"
