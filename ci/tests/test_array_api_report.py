"""The array API suite's report check: fed runs and a defects file, it fails on
what it promises to (an unlisted failure, a stale or unshared defect, an empty
run) and passes otherwise."""

from __future__ import annotations

from pathlib import Path

import array_api_report as report
import pytest

SPECIAL = "array_api_tests/test_special_cases.py::test_unary[expm1(x_i is +0) -> +0]"


def junit(path: Path, cases: dict[tuple[str, str], str]) -> Path:
    """A JUnit report of {(classname, name): outcome} as pytest writes one."""
    body = {
        "passed": "",
        "failed": '<failure message="AssertionError">trace</failure>',
        "error": '<error message="fixture">trace</error>',
        "skipped": '<skipped type="pytest.skip" message="no">skip</skipped>',
    }
    rows = "".join(
        f'<testcase classname="{c}" name="{n.replace(">", "&gt;")}" time="0.1">'
        f"{body[outcome]}</testcase>"
        for (c, n), outcome in cases.items()
    )
    path.write_text(
        f'<?xml version="1.0" encoding="utf-8"?><testsuites><testsuite name="pytest"'
        f' tests="{len(cases)}">{rows}</testsuite></testsuites>'
    )
    return path


def run(tmp_path: Path, name: str, cases: dict[tuple[str, str], str]) -> Path:
    return junit(tmp_path / f"{name}.xml", cases)


SPECIAL_CASE = ("array_api_tests.test_special_cases", SPECIAL.split("::")[1])
BOTH_FAIL = {
    ("array_api_tests.test_linalg", "test_outer"): "passed",
    SPECIAL_CASE: "failed",
    ("array_api_tests.test_inspection_functions.TestInspection", "test_devices"): (
        "skipped"
    ),
}
FIXED = {**BOTH_FAIL, SPECIAL_CASE: "passed"}


def test_test_ids_are_pytests_node_ids() -> None:
    assert report.test_id("array_api_tests.test_linalg", "test_outer") == (
        "array_api_tests/test_linalg.py::test_outer"
    )
    assert report.test_id(
        "array_api_tests.test_inspection_functions.TestInspection", "test_devices"
    ) == ("array_api_tests/test_inspection_functions.py::TestInspection::test_devices")


def test_a_listed_defect_that_strict_shares_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    defects = tmp_path / "defects.txt"
    defects.write_text(f"# a comment\n\n{SPECIAL} | NumPy's expm1\n")
    code = report.main(
        [str(run(tmp_path, "a", BOTH_FAIL)), str(run(tmp_path, "s", BOTH_FAIL)),
         str(defects)]
    )  # fmt: skip
    out = capsys.readouterr()
    assert code == 0, out.err
    assert "actnet.ndarray - tests passed: 1, failed: 1, skipped: 1" in out.out
    assert "NumPy's expm1" in out.out


@pytest.mark.parametrize(
    ("actnet", "strict", "listed", "message"),
    [
        (BOTH_FAIL, BOTH_FAIL, "", "fails, and is not a listed defect"),
        (FIXED, BOTH_FAIL, f"{SPECIAL} | NumPy's", "listed defect is passed now"),
        (BOTH_FAIL, FIXED, f"{SPECIAL} | NumPy's", "passes on array_api_strict"),
        ({}, BOTH_FAIL, "", "against actnet.ndarray collected no test"),
        (BOTH_FAIL, BOTH_FAIL, f"{SPECIAL}\n", "expected '<test id> | <reason>'"),
        (
            BOTH_FAIL,
            BOTH_FAIL,
            f"{SPECIAL} | one\n{SPECIAL} | two\n",
            "is listed twice",
        ),
    ],
)
def test_what_fails_the_check(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    actnet: dict[tuple[str, str], str],
    strict: dict[tuple[str, str], str],
    listed: str,
    message: str,
) -> None:
    defects = tmp_path / "defects.txt"
    defects.write_text(listed)
    code = report.main(
        [str(run(tmp_path, "a", actnet)), str(run(tmp_path, "s", strict)),
         str(defects)]
    )  # fmt: skip
    assert code == 1
    assert message in capsys.readouterr().err


def test_a_suite_bug_need_not_fail_on_array_api_strict(tmp_path: Path) -> None:
    defects = tmp_path / "defects.txt"
    defects.write_text(f"{SPECIAL} | suite bug: None == numpy.dtype('float64')\n")
    args = [str(run(tmp_path, "a", BOTH_FAIL)), str(run(tmp_path, "s", FIXED))]
    assert report.main([*args, str(defects)]) == 0
    # but it must still fail on actnet
    args[0] = str(run(tmp_path, "a", FIXED))
    assert report.main([*args, str(defects)]) == 1


def test_an_error_counts_as_a_failure(tmp_path: Path) -> None:
    cases = {("array_api_tests.test_linalg", "test_outer"): "error"}
    assert report.read_run(run(tmp_path, "a", cases)).failed() == {
        "array_api_tests/test_linalg.py::test_outer"
    }
