"""YAML to values with positions: YAML 1.1's traps closed, positions 1-based, hostile input refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from detente.agreement import yamlsource
from detente.agreement.loader import load_agreement
from detente.agreement.yamlsource import Mark, dotted, parse_yaml, read_yaml
from detente.errors import AgreementError


def test_yaml_1_1_traps_stay_strings() -> None:
    src = parse_yaml(
        "country: NO\nanswers: [no, off, yes, on, y, n, Yes]\nzip: 010\ndate: 2022-03-01\n"
        "time: 12:30\nversion: 1.10\nquoted: 'true'\nsexagesimal: 1:20\n",
        "f.yaml",
    )
    assert src.data == {
        "country": "NO",
        "answers": ["no", "off", "yes", "on", "y", "n", "Yes"],
        "zip": 10,  # not octal 8
        "date": "2022-03-01",  # a date only when the schema asks for one
        "time": "12:30",
        "version": 1.1,
        "quoted": "true",
        "sexagesimal": "1:20",  # YAML 1.1 would make this 80
    }


def test_core_schema_scalars() -> None:
    src = parse_yaml(
        "a: true\nb: False\nc: ~\nd: null\ne:\nf: -3\ng: 0x1F\nh: 0o17\ni: 2.5e3\nj: '5'\nk: \"null\"\n",
        "f.yaml",
    )
    assert src.data == {"a": True, "b": False, "c": None, "d": None, "e": None, "f": -3, "g": 31, "h": 15,
                        "i": 2500.0, "j": "5", "k": "null"}
    assert type(src.data["f"]) is int
    assert type(src.data["a"]) is bool


@pytest.mark.parametrize("text", [".inf", "-.inf", ".nan", ".NaN"])
def test_infinities_and_nan_refused_where_written(text: str) -> None:
    with pytest.raises(AgreementError) as caught:
        parse_yaml(f"a:\n  b: [1, {text}]\n", "f.yaml")
    assert (caught.value.line, caught.value.column, caught.value.field) == (2, 10, "a.b[1]")


def test_positions_are_one_based_for_values_and_keys() -> None:
    src = parse_yaml("top:\n  list:\n    - x\n    - {k: v}\n", "f.yaml")
    assert src.values[("top", "list", 0)] == Mark(3, 7)
    assert src.values[("top", "list", 1, "k")] == Mark(4, 11)
    assert src.keys[("top", "list", 1, "k")] == Mark(4, 8)
    assert src.keys[("top",)] == Mark(1, 1)
    # a path that does not exist resolves to its nearest ancestor (a missing field: its mapping)
    assert src.locate(("top", "list", 1, "missing")) == Mark(4, 7)
    assert src.locate(("nowhere",)) == src.values[()]


def test_dotted_paths() -> None:
    path = ("obligations", 0, "conditions", 1, "reciprocal")
    assert dotted(path) == "obligations[0].conditions[1].reciprocal"
    assert dotted(()) == ""
    assert dotted(("a",)) == "a"


def test_duplicate_key_nested_names_both_places() -> None:
    text = "a:\n  b:\n    c: 1\n    d: 2\n    c: 3\n"
    with pytest.raises(AgreementError) as caught:
        parse_yaml(text, "f.yaml")
    exc = caught.value
    assert (exc.line, exc.column, exc.field) == (5, 5, "a.b.c")
    assert "first at line 3" in exc.message


def test_same_key_in_sibling_mappings_is_fine() -> None:
    assert parse_yaml("- {a: 1}\n- {a: 2}\n", "f.yaml").data == [{"a": 1}, {"a": 2}]


def test_billion_laughs_refused_before_expanding() -> None:
    lol = ["a: &a [x, x, x, x, x, x, x, x, x]"]
    for i in range(1, 10):
        lol.append(f"{chr(97 + i)}: &{chr(97 + i)} [" + ", ".join([f"*{chr(96 + i)}"] * 9) + "]")
    with pytest.raises(AgreementError, match="anchors and aliases"):
        parse_yaml("\n".join(lol) + "\n", "lol.yaml")


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("base: &b {x: 1}\nother:\n  <<: *b\n", (3, 3)),  # a merge key: refused at the key
        ("? [a, b]\n: 1\n", (1, 3)),  # a complex (sequence) key
    ],
)
def test_merge_and_complex_keys_refused(text: str, where: tuple[int, int]) -> None:
    with pytest.raises(AgreementError) as caught:
        parse_yaml(text, "f.yaml")
    assert (caught.value.line, caught.value.column) == where


def test_tags_do_not_construct_objects() -> None:
    """Values are built from the node graph by hand: a python tag is text, never an object."""
    src = parse_yaml("a: !!python/object/apply:os.system ['true']\n", "f.yaml")
    assert src.data == {"a": ["true"]}


def test_not_utf8_and_unreadable_and_oversized(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / "latin1.yaml"
    p.write_bytes("title: Déclaration\n".encode("latin-1"))
    with pytest.raises(AgreementError, match=r"not UTF-8 \(byte 8\)"):
        read_yaml(p)
    with pytest.raises(AgreementError, match="cannot read the file"):
        read_yaml(tmp_path / "absent.yaml")
    monkeypatch.setattr(yamlsource, "MAX_BYTES", 10)
    big = tmp_path / "big.yaml"
    big.write_text("title: eleven bytes and more\n")
    with pytest.raises(AgreementError, match="larger than 10 bytes"):
        read_yaml(big)


def test_a_huge_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    """The size is checked before reading (and the read stops at the bound): a 64 MiB file costs
    no 64 MiB of memory; the bound itself is 1 MiB (the shipped agreements are under 20 KiB)."""
    import tracemalloc

    assert yamlsource.MAX_BYTES == 1024 * 1024
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as f:
        f.truncate(64 * yamlsource.MAX_BYTES)  # sparse: no disk used
    tracemalloc.start()
    try:
        with pytest.raises(AgreementError, match=f"larger than {yamlsource.MAX_BYTES} bytes"):
            read_yaml(huge)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < yamlsource.MAX_BYTES
    with pytest.raises(AgreementError, match="not a regular file") as caught:
        read_yaml(tmp_path)  # a folder, a FIFO or /dev/zero: refused before opening it
    assert caught.value.file == str(tmp_path)


DEEP = 100_000


@pytest.mark.parametrize(
    ("text", "where"),
    [
        pytest.param("[" * DEEP + "]" * DEEP + "\n", (1, 65), id="flow-sequences-100000"),
        pytest.param("{a: " * DEEP + "1" + "}" * DEEP + "\n", (1, 4 * 64 + 1), id="flow-mappings-100000"),
        pytest.param("- " * DEEP + "x\n", (1, 2 * 64 + 1), id="block-sequences-100000"),
        pytest.param("".join(" " * i + "a:\n" for i in range(1500)) + " " * 1500 + "x\n", (65, 65),
                     id="block-mappings-1500"),
        pytest.param("".join("  " * i + "- a:\n" for i in range(1500)) + "  " * 1500 + "x\n", (33, 65),
                     id="block-lists-of-mappings-1500"),
    ],
)
def test_deep_nesting_is_refused_at_the_level_too_deep(text: str, where: tuple[int, int]) -> None:
    """Security review: PyYAML composes recursively; a 100,000-deep `[[[…` (or a 1,500-deep block
    mapping) ended in RecursionError. Refused where the 65th level opens, long before."""
    with pytest.raises(AgreementError) as caught:
        parse_yaml(text, "deep.yaml")
    exc = caught.value
    assert (exc.file, exc.line, exc.column) == ("deep.yaml", *where)
    assert exc.message == (f"deep.yaml:{where[0]}:{where[1]}: nested more than 64 levels deep; an "
                           "agreement needs a handful of levels: flatten the structure")


def test_nesting_just_under_the_bound_loads_and_just_over_is_refused() -> None:
    n = yamlsource.MAX_DEPTH
    assert n == 64
    value = parse_yaml("[" * n + "1" + "]" * n + "\n", "f.yaml").data
    for _ in range(n):
        (value,) = value
    assert value == 1
    block = "".join(" " * i + "a:\n" for i in range(n)) + " " * n + "x\n"
    assert parse_yaml(block, "f.yaml").data
    with pytest.raises(AgreementError, match="nested more than 64 levels") as caught:
        parse_yaml("[" * (n + 1) + "1" + "]" * (n + 1) + "\n", "f.yaml")
    assert (caught.value.line, caught.value.column) == (1, n + 1)
    block = "".join(" " * i + "a:\n" for i in range(n + 1)) + " " * (n + 1) + "x\n"
    with pytest.raises(AgreementError, match="nested more than 64 levels") as caught:
        parse_yaml(block, "f.yaml")
    assert (caught.value.line, caught.value.column) == (n + 1, n + 1)


def test_too_many_values_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every node costs hundreds of bytes: a 1 MiB `[1,1,1,…]` would take hundreds of MB."""
    assert yamlsource.MAX_NODES == 100_000
    monkeypatch.setattr(yamlsource, "MAX_NODES", 12)
    assert parse_yaml("a: [1, 2, 3, 4, 5, 6, 7, 8, 9]\n", "f.yaml").data  # 12 nodes: the bound
    with pytest.raises(AgreementError, match="more than 12 values in one file") as caught:
        parse_yaml("a: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n", "f.yaml")
    assert (caught.value.line, caught.value.column) == (1, 32)


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    p = tmp_path / "list.yaml"
    p.write_text("- just\n- a list\n")
    with pytest.raises(AgreementError, match="must be a mapping") as caught:
        load_agreement(p)
    assert caught.value.message.startswith(f"{p}:1:1: ")


def test_norway_as_a_host_loads_as_the_string_no(tmp_path: Path) -> None:
    """`NO` (Norway) is a host id, not `False`: the agreement loads and keeps it."""
    p = tmp_path / "norway.yaml"
    p.write_text(
        "agreement: n\ntitle: T\nlegal_status: political-commitment\n"
        "parties: [{id: US, name: U}, {id: RU, name: R}]\nhosts: [{id: NO, name: Norway}]\n"
        "sites: [{id: andoya, name: Andøya, owner: US, host: NO, kind: radar, location: [16.1, 69.3]}]\n",
        encoding="utf-8",
    )
    ag = load_agreement(p)
    assert [h.id for h in ag.hosts] == ["NO"]
    assert ag.sites["andoya"].host == "NO"
    assert ag.sites["andoya"].name == "Andøya"
