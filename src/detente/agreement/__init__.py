"""Agreements as data: the YAML language, checked and resolved into plain, immutable values.

- yamlsource.py — located YAML (every value knows its file, line and column);
- schema.py — the document's shape (pydantic) and the exported JSON Schema;
- loader.py — `load_agreement`: schema, includes, vocabulary, selectors, zones, interpretations;
- model.py — the resolved agreement the evaluator reads; selector.py — the selector language;
- table.py — holdings as columns for the evaluator; weights.py — the draw weight format.
"""

from detente.agreement.loader import load_agreement
from detente.agreement.model import Agreement, Obligation, Reading
from detente.agreement.schema import json_schema
from detente.agreement.selector import Selector, compile_selector
from detente.agreement.table import HoldingsTable
from detente.agreement.weights import weight_units

__all__ = [
    "Agreement",
    "HoldingsTable",
    "Obligation",
    "Reading",
    "Selector",
    "compile_selector",
    "json_schema",
    "load_agreement",
    "weight_units",
]
