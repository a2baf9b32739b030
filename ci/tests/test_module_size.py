"""Small modules: none over 600 lines of code, counted without blank and
comment-only lines, with docstrings."""

from __future__ import annotations

import textwrap
from pathlib import Path

import layering
from fake_tree import make_layer, messages, run_script


def _module(lines: int) -> str:
    return "".join(f"x{i} = {i}\n" for i in range(lines))


def test_lines_of_code_skip_blank_and_comment_lines() -> None:
    source = textwrap.dedent(
        '''\
        """A docstring
        of three lines
        """

        # a comment

        def f(x):  # a comment after code
            return (
                x
                # a comment inside brackets
            )
        '''
    )
    assert layering.lines_of_code(source) == 3 + 1 + 3


def test_module_over_the_limit_is_caught(tmp_path: Path) -> None:
    source = _module(layering.MAX_LINES_OF_CODE + 1)
    package = make_layer(tmp_path, "mem", {"_big.py": source})
    [violation] = layering.check_package(package)
    assert violation.path.name == "_big.py"
    assert violation.message == (
        "601 lines of code, over 600: split the module into modules named after "
        "what they hold"
    )


def test_module_at_the_limit_passes(tmp_path: Path) -> None:
    source = _module(layering.MAX_LINES_OF_CODE)
    padded = source.replace("\n", "\n\n# why\n")  # blank and comment lines are free
    package = make_layer(tmp_path, "mem", {"_a.py": source, "_b.py": padded})
    assert messages(package) == []


def test_median_is_printed_for_information(tmp_path: Path) -> None:
    sizes = [1, 2, 10]
    modules = {f"_m{n}.py": _module(n) for n in sizes}
    make_layer(tmp_path, "mem", modules)
    result = run_script(tmp_path)
    assert result.returncode == 0, result.stdout
    assert "median module 2 lines of code, largest 10 (info)" in result.stdout
