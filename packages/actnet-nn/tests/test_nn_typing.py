"""`model(x)` has the type of `model.forward` under `mypy --strict`.

mypy runs in a subprocess on copies of the fixture in a temporary folder, so it
checks against the installed actnet packages (a wheel under nox), not the source
tree beside the tests.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

FIXTURE = Path(__file__).with_name("typing_fixture.py")

BAD = """
from __future__ import annotations

import actnet.tensor as at
from actnet import nn
from actnet.tensor import Tensor


class TwoHeads(nn.Module):
    def forward(self, x: Tensor, *, scale: float = 1.0) -> tuple[Tensor, Tensor]:
        return x, x * scale


model = TwoHeads()
wrong: int = model(at.ones(3))
model("not a tensor")
model(at.ones(3), scale="big")
"""


@pytest.fixture(scope="module")
def mypy_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("mypy_cache")


def _mypy(folder: Path, source: str, cache: Path) -> subprocess.CompletedProcess[str]:
    path = folder / "checked.py"
    path.write_text(source)
    command = [sys.executable, "-m", "mypy", "--strict", "--cache-dir", str(cache)]
    return subprocess.run(
        [*command, "--no-error-summary", path.name],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def test_the_fixture_type_checks(tmp_path: Path, mypy_cache: Path) -> None:
    result = _mypy(tmp_path, FIXTURE.read_text(), mypy_cache)
    assert result.returncode == 0, result.stdout + result.stderr


def test_misuse_of_forward_types_is_reported(tmp_path: Path, mypy_cache: Path) -> None:
    result = _mypy(tmp_path, BAD, mypy_cache)
    assert result.returncode == 1, result.stdout + result.stderr
    errors = [line for line in result.stdout.splitlines() if ": error: " in line]
    assert errors == [
        "checked.py:15: error: Incompatible types in assignment (expression has "
        + 'type "tuple[Tensor, Tensor]", variable has type "int")  [assignment]',
        'checked.py:16: error: Argument 1 to "__call__" of "Module" has '
        + 'incompatible type "str"; expected "Tensor"  [arg-type]',
        'checked.py:17: error: Argument "scale" to "__call__" of "Module" has '
        + 'incompatible type "str"; expected "float"  [arg-type]',
    ]
