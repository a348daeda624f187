"""``--junitxml PATH``: one JUnit XML report of the run.

The format GitHub (e.g. dorny/test-reporter, mikepenz/action-junit-report),
GitLab (``artifacts:reports:junit``) and Jenkins (``junit``) read:
``<testsuites>`` holding one ``<testsuite>`` with a ``<testcase>`` per test.
The totals are the run's (see results.Counts): one ``<testcase>`` per test
of "Ran N"; the tests a failing (or skipping) ``setUpClass`` stopped each
have an ``<error>`` (``<skipped>``); a test with failing sub-tests is one
``<failure>`` (its message says how many, its body holds every
traceback); an expected failure passes, its ``<system-out>`` saying so.

The report always parses: a character XML 1.0 cannot hold (a control
character, a lone surrogate, U+FFFE/U+FFFF) in a name, message or
traceback is written as its escape (``\\x01``, ``\\udc80``), and a
message longer than :data:`MAX_MESSAGE_CHARS` is cut, once, with a note
(the full text stays in the element's body, the traceback).
"""

import datetime
import os
import re
import socket
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from typing import Any

_ELEMENT = {
    "failure": "failure", "error": "error", "unexpected_success": "failure",
    "skipped": "skipped", "not_run": "error",
}
#: The longest ``message`` attribute written; the rest is in the body.
MAX_MESSAGE_CHARS = 2000
# What XML 1.0 can hold: everything else is written as its escape.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def write_junit_xml(
    path: str, records: Iterable[Mapping[str, Any]], elapsed: float, name: str = "proper_unittest"
) -> None:
    """Write *records* (see records.py) as a JUnit XML file at *path*."""
    counts = {kind: 0 for kind in ("failure", "error", "skipped")}
    cases: list[ET.Element] = []
    for record in records:
        case = ET.Element("testcase", {
            "classname": xml_text(record["classname"]), "name": xml_text(record["name"]),
            "time": f"{record['time']:.3f}",
        })
        if record.get("file"):
            case.set("file", xml_text(record["file"]))
        kind = _ELEMENT.get(record["outcome"])
        if record["outcome"] == "expected_failure":
            ET.SubElement(case, "system-out").text = xml_text(f"expected failure: {record['message']}")
        if kind is not None:
            counts[kind] += 1
            message = str(record["message"])
            if record.get("subtests_failed", 0) > 1:
                message += f" ({record['subtests_failed']} sub-tests failed)"
            child = ET.SubElement(case, kind, {"message": xml_text(_cut(message))})
            if kind != "skipped":
                error_type = record.get("error_type") or message.partition(":")[0][:200]
                child.set("type", xml_text(error_type) or record["outcome"])
                child.text = xml_text(record["detail"] or message)
        cases.append(case)
    totals = {
        "tests": str(len(cases)), "failures": str(counts["failure"]), "errors": str(counts["error"]),
        "skipped": str(counts["skipped"]), "time": f"{elapsed:.3f}",
    }
    root = ET.Element("testsuites", {"name": name, **totals})
    suite = ET.SubElement(root, "testsuite", {
        "name": name, **totals,
        "timestamp": datetime.datetime.now().isoformat(timespec="seconds"),
        "hostname": socket.gethostname(),
    })
    suite.extend(cases)
    ET.indent(root)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)


def xml_text(text: object) -> str:
    """*text* with each character XML 1.0 cannot hold written as its Python escape."""
    return _NOT_XML.sub(_escape, str(text))


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _cut(message: str) -> str:
    """*message*, cut to :data:`MAX_MESSAGE_CHARS` with a note saying so."""
    if len(message) <= MAX_MESSAGE_CHARS:
        return message
    return (message[:MAX_MESSAGE_CHARS]
            + f" [... {len(message) - MAX_MESSAGE_CHARS} more characters cut; the full text is below]")
