"""A party's desk: the application layer where a party signs and appends its own records.

- desk.py — `Desk`: declare, notify and each inspection step, signed with the party's key;
  `disclose` (accept a partner's full declaration); `countersigned_report`;
- log.py — `open_log`: the workspace's log with the procedure of every adopted agreement
  attached (`ProcedureRule`), and `project`: the whole log projected under them;
- declaration.py — the declaration file format; cli.py — `detente declare | disclose | notify |
  inspect …`.

Above the library (compliance, inspection, log): it reads and writes the workspace; nothing in
the library imports it.
"""

from detente.desk.desk import Desk, InspectionError, countersigned_report, disclose
from detente.desk.log import ProcedureRule, open_log, project

__all__ = [
    "Desk",
    "InspectionError",
    "ProcedureRule",
    "countersigned_report",
    "disclose",
    "open_log",
    "project",
]
