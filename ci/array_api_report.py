"""Compare the array API standard's test suite on actnet.ndarray with its known
defects.

    python ci/array_api_report.py ACTNET_XML STRICT_XML DEFECTS

ACTNET_XML and STRICT_XML are pytest's JUnit reports (`--junitxml`) of one run of
data-apis/array-api-tests against actnet.ndarray and one against
array_api_strict, the reference implementation. DEFECTS lists the failures that
are allowed, one a line:

    <test id> | <why it fails>

(`#` starts a comment line.) A defect is a failure that array_api_strict shares:
the same test fails there too, because both follow NumPy where the standard
does not. The one other kind is a bug of the suite itself that only a library
like actnet meets (its dtypes are NumPy's): its reason begins with "suite bug:",
and array_api_strict need not fail it. Prints both runs' counts, and exits 1 when

- either run collected no test,
- actnet fails a test that DEFECTS does not list,
- a listed defect passes now (a stale entry: remove it),
- a listed defect (not a suite bug) passes on array_api_strict: then it is
  actnet's own bug,
- or DEFECTS names a test id twice or a line has no reason.
"""

from __future__ import annotations

import sys
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

SUITE_BUG = "suite bug:"  # how the reason of a bug of the suite itself begins


@dataclass(frozen=True)
class Run:
    """One run's outcome per test id: "passed", "failed" or "skipped"."""

    outcomes: dict[str, str]

    def count(self) -> Counter[str]:
        return Counter(self.outcomes.values())

    def failed(self) -> set[str]:
        return {t for t, outcome in self.outcomes.items() if outcome == "failed"}


def test_id(classname: str, name: str) -> str:
    """pytest's node id from a JUnit test case: the classname is the module's
    dotted path, then any classes (array_api_tests.test_x.TestY)."""
    parts = classname.split(".")
    module = next(
        (i for i, p in enumerate(parts) if p.startswith("test_")), len(parts) - 1
    )
    path = "/".join(parts[: module + 1]) + ".py"
    return "::".join([path, *parts[module + 1 :], name])


def read_run(report: Path) -> Run:
    """The outcomes of a JUnit report: an error (in setup or teardown) counts as
    a failure, an xfail or a skip as skipped."""
    outcomes: dict[str, str] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        tags = {child.tag for child in case}
        if tags & {"failure", "error"}:
            outcome = "failed"
        elif "skipped" in tags:
            outcome = "skipped"
        else:
            outcome = "passed"
        key = test_id(case.get("classname", ""), case.get("name", ""))
        if outcomes.get(key) != "failed":  # a teardown error adds a second case
            outcomes[key] = outcome
    return Run(outcomes)


def read_defects(path: Path) -> tuple[dict[str, str], list[str]]:
    """{test id: reason} of the defects file, and the problems of its lines."""
    defects: dict[str, str] = {}
    problems = []
    for number, line in enumerate(path.read_text().splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, _, reason = (part.strip() for part in line.rpartition(" | "))
        if not name or not reason:
            problems.append(f"{path.name}:{number}: expected '<test id> | <reason>'")
        elif name in defects:
            problems.append(f"{path.name}:{number}: {name} is listed twice")
        else:
            defects[name] = reason
    return defects, problems


def compare(actnet: Run, strict: Run, defects: dict[str, str]) -> list[str]:
    """What is wrong with actnet's run, given the defects and the reference's."""
    problems = []
    for name, run in (("actnet.ndarray", actnet), ("array_api_strict", strict)):
        if not run.outcomes:
            problems.append(f"the run against {name} collected no test")
    failed = actnet.failed()
    for test in sorted(failed - defects.keys()):
        problems.append(f"fails, and is not a listed defect: {test}")
    for test in sorted(defects.keys() - failed):
        state = actnet.outcomes.get(test, "not run")
        problems.append(f"listed defect is {state} now (remove it): {test}")
    for test in sorted(defects.keys() & failed):
        if defects[test].startswith(SUITE_BUG):
            continue
        if strict.outcomes.get(test) != "failed":
            problems.append(
                f"listed defect passes on array_api_strict (so it is not a "
                f"shared defect): {test}"
            )
    return problems


def summary(name: str, run: Run) -> str:
    count = run.count()
    return (
        f"{name} - tests passed: {count['passed']}, failed: {count['failed']}, "
        f"skipped: {count['skipped']}"
    )


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    actnet, strict = read_run(Path(argv[0])), read_run(Path(argv[1]))
    defects, problems = read_defects(Path(argv[2]))
    print(summary("array_api_strict", strict))
    print(summary("actnet.ndarray", actnet))
    listed = sorted(actnet.failed() & defects.keys())
    if listed:
        print(f"{len(listed)} listed defect(s) of {argv[2]}:")
        for test in listed:
            print(f"  {test}: {defects[test]}")
    problems += compare(actnet, strict, defects)
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
