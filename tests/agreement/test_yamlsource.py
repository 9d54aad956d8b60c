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
