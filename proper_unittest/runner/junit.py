"""``--junitxml PATH``: one JUnit XML report of the run.

The format GitHub (e.g. dorny/test-reporter, mikepenz/action-junit-report),
GitLab (``artifacts:reports:junit``) and Jenkins (``junit``) read:
``<testsuites>`` holding one ``<testsuite>`` with a ``<testcase>`` per test.
A failing class or module fixture (``setUpClass``) is a ``<testcase>`` of its
own with an ``<error>``; an expected failure is reported as skipped.
"""

import datetime
import os
import socket
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from typing import Any

_ELEMENT = {
    "failure": "failure", "error": "error", "unexpected_success": "failure",
    "skipped": "skipped", "expected_failure": "skipped",
}


def write_junit_xml(
    path: str, records: Iterable[Mapping[str, Any]], elapsed: float, name: str = "proper_unittest"
) -> None:
    """Write *records* (see records.py) as a JUnit XML file at *path*."""
    counts = {kind: 0 for kind in ("failure", "error", "skipped")}
    cases: list[ET.Element] = []
    for record in records:
        case = ET.Element("testcase", {
            "classname": record["classname"], "name": record["name"], "time": f"{record['time']:.3f}",
        })
        if record.get("file"):
            case.set("file", record["file"])
        kind = _ELEMENT.get(record["outcome"])
        if kind is not None:
            counts[kind] += 1
            child = ET.SubElement(case, kind, {"message": _clean(record["message"])})
            if kind != "skipped":
                child.set("type", _clean(record["message"].partition(":")[0]) or record["outcome"])
                child.text = _clean(record["detail"] or record["message"])
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


def _clean(text: object) -> str:
    """Drop the characters XML 1.0 cannot hold (control characters from test output)."""
    return "".join(ch for ch in str(text) if ch in "\t\n\r" or ord(ch) >= 0x20)
