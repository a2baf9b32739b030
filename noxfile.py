"""actnet's one entry point. `nox` runs every test session; `nox -l` lists them all.

Every package is tested from its built wheel, in a fresh virtual environment that
holds only that wheel, the wheels of the actnet layers it declares, its declared
third-party dependencies and the test tools: that is what enforces the layer chain.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import nox
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).parent
PACKAGES = ROOT / "packages"
TESTING = ROOT / "testing"
LAYERS = ("mem", "device", "ndarray", "tensor", "neuron", "nn", "util")
WHEEL_DIR = ROOT / ".nox" / "_wheels"
ENV_UNSET_FOR_BENCH = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")

nox.options.default_venv_backend = "venv"
nox.options.error_on_missing_interpreters = True
nox.options.sessions = [
    *(f"tests-{layer}" for layer in LAYERS),
    "array-api",
    "lowest",
    "cpython-versions",
    "distributed",
    "typecheck",
    "lint",
    "layering",
    "crosscheck",
    "build",
    "demo",
]


# --------------------------------------------------------------------- helpers
def _pyproject(layer: str) -> dict:
    with open(PACKAGES / f"actnet-{layer}" / "pyproject.toml", "rb") as f:
        return tomllib.load(f)


def _requirements(layer: str) -> list[Requirement]:
    return [
        Requirement(r) for r in _pyproject(layer)["project"].get("dependencies", [])
    ]


def _actnet_layers(layer: str) -> list[str]:
    """The actnet layers `layer` needs installed: its declared ones, transitively,
    lowest first."""
    found: list[str] = []
    for req in _requirements(layer):
        if req.name.startswith("actnet-"):
            below = req.name.removeprefix("actnet-")
            found += [x for x in (*_actnet_layers(below), below) if x not in found]
    return found


_built: dict[str, Path] = {}


def _wheel(session: nox.Session, layer: str) -> Path:
    """Build `layer`'s wheel once per nox run and return its path."""
    if layer not in _built:
        out = WHEEL_DIR / layer
        shutil.rmtree(out, ignore_errors=True)
        session.run(
            "python",
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--wheel-dir",
            str(out),
            str(PACKAGES / f"actnet-{layer}"),
        )
        (wheel,) = out.glob("*.whl")
        _built[layer] = wheel
    return _built[layer]


def _install(
    session: nox.Session,
    layer: str,
    *extra: str,
    with_self: bool = True,
    constraints: Path | None = None,
) -> None:
    """Install `layer` (unless `with_self` is false) and the layers it declares from
    wheels, their declared dependencies, and `extra` requirement arguments."""
    layers = _actnet_layers(layer) + ([layer] if with_self else [])
    wheels = [str(_wheel(session, x)) for x in layers]
    args = [*wheels, *extra]
    if constraints is not None:
        args += ["--constraint", str(constraints)]
    if args:
        session.install(*args)


def _test_requirements(layer: str) -> list[str]:
    """The shared test tools, and the package's own (its tests/requirements.txt)."""
    args = ["-r", str(TESTING / "requirements-test.txt")]
    own = PACKAGES / f"actnet-{layer}" / "tests" / "requirements.txt"
    if own.exists():
        args += ["-r", str(own)]
    return args


def _run_tests(
    session: nox.Session, layer: str, constraints: Path | None = None
) -> None:
    _install(session, layer, *_test_requirements(layer), constraints=constraints)
    session.chdir(PACKAGES / f"actnet-{layer}")
    session.run(
        "python",
        "-m",
        "pytest",
        "-p",
        "no:cacheprovider",
        *session.posargs,
        env={"ACTNET_COUNT_OPERATIONS": "1"},
    )


# ----------------------------------------------------------------- test sessions
@nox.session(name="tests-mem")
def tests_mem(session: nox.Session) -> None:
    """actnet-mem's tests, with nothing else installed."""
    _run_tests(session, "mem")


@nox.session(name="tests-device")
def tests_device(session: nox.Session) -> None:
    _run_tests(session, "device")


@nox.session(name="tests-ndarray")
def tests_ndarray(session: nox.Session) -> None:
    _run_tests(session, "ndarray")


@nox.session(name="tests-tensor")
def tests_tensor(session: nox.Session) -> None:
    _run_tests(session, "tensor")


@nox.session(name="tests-neuron")
def tests_neuron(session: nox.Session) -> None:
    _run_tests(session, "neuron")


@nox.session(name="tests-nn")
def tests_nn(session: nox.Session) -> None:
    _run_tests(session, "nn")


@nox.session(name="tests-util")
def tests_util(session: nox.Session) -> None:
    _run_tests(session, "util")


ARRAY_API_SUITE = ROOT.parent / "shared" / "array-api-tests"
ARRAY_API_FLAGS = (
    "--max-examples=20",
    "--disable-deadline",
    # one seed: the same examples every run, so a listed defect is failed every
    # time and a new failure is not a matter of luck
    "--hypothesis-seed=0",
)


def _writable_copy(source: Path, target: Path) -> None:
    """`source` copied to a fresh `target` that can be written to (the suite's
    files are read-only in CI; pytest and hypothesis write beside them)."""
    if target.exists():
        _make_writable(target)
        shutil.rmtree(target)
    shutil.copytree(
        source,
        target,
        copy_function=shutil.copyfile,  # the contents, not the read-only modes
        ignore=shutil.ignore_patterns("__pycache__", ".hypothesis", ".pytest_cache"),
    )
    _make_writable(target)


def _make_writable(root: Path) -> None:
    """Every folder under `root` writable (copytree copies a folder's mode)."""
    for folder, _, _ in os.walk(root):
        Path(folder).chmod(0o755)


@nox.session(name="array-api")
def array_api(session: nox.Session) -> None:
    """The array API standard's own test suite (data-apis/array-api-tests, in
    ../shared) against actnet.ndarray, installed from its wheel, and against
    array_api_strict, the reference, in one environment. Fails on an actnet
    failure that testing/array-api-defects.txt does not list, on a listed defect
    that passes or that array_api_strict passes, and on a run that collected no
    test (ci/array_api_report.py)."""
    if not (ARRAY_API_SUITE / "array_api_tests").is_dir():
        session.error(f"the array API test suite is not at {ARRAY_API_SUITE}")
    _install(session, "ndarray", "-r", str(TESTING / "requirements-array-api.txt"))
    work = Path(session.create_tmp()).resolve() / "array-api-tests"
    _writable_copy(ARRAY_API_SUITE, work)
    session.chdir(work)
    reports = []
    for module in ("actnet.ndarray", "array_api_strict"):
        report = work / f"report-{module}.xml"
        session.log(f"the array API test suite against {module}")
        session.run(
            "python", "-m", "pytest", "-q", "-p", "no:cacheprovider", "--tb=short",
            *ARRAY_API_FLAGS, f"--junitxml={report}", *session.posargs,
            "array_api_tests/",
            env={"ARRAY_API_TESTS_MODULE": module,
                 "ARRAY_API_TESTS_VERSION": "2024.12"},
            success_codes=[0, 1],  # failures are judged below; 5 (none ran) is not
        )  # fmt: skip
        reports.append(str(report))
    session.chdir(ROOT)
    session.run(
        "python",
        str(ROOT / "ci" / "array_api_report.py"),
        *reports,
        str(TESTING / "array-api-defects.txt"),
    )


def _fresh_env(session: nox.Session, name: str) -> Path:
    """A virtual environment of its own inside the session's, for one package."""
    location = Path(session.virtualenv.location) / "per-package" / name
    session.run("python", "-m", "venv", "--clear", str(location), silent=True)
    return location / "bin" / "python"


def _check_lowest_constraints(session: nox.Session) -> None:
    """Every third-party lower bound a package declares is pinned in the constraints."""
    pinned: dict[str, Version] = {}
    for line in (TESTING / "constraints-lowest.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line:
            req = Requirement(line)
            (spec,) = req.specifier
            pinned[req.name.lower()] = Version(spec.version)
    missing = []
    for layer in LAYERS:
        for req in _requirements(layer):
            if req.name.startswith("actnet-"):
                continue
            lower = [
                s.version for s in req.specifier if s.operator in (">=", "==", "~=")
            ]
            if not lower:
                missing.append(f"actnet-{layer}: {req} declares no lower bound")
            elif pinned.get(req.name.lower()) != Version(lower[0]):
                missing.append(f"actnet-{layer}: {req} needs '{req.name}=={lower[0]}'")
    if missing:
        session.error(
            "testing/constraints-lowest.txt is out of date:\n" + "\n".join(missing)
        )


@nox.session
def lowest(session: nox.Session) -> None:
    """Each package's tests with every dependency at its declared lower bound."""
    _check_lowest_constraints(session)
    constraints = TESTING / "constraints-lowest.txt"
    for layer in LAYERS:
        python = _fresh_env(session, layer)
        wheels = [str(_wheel(session, x)) for x in (*_actnet_layers(layer), layer)]
        session.run(
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            *wheels,
            *_test_requirements(layer),
            "--constraint",
            str(constraints),
            external=True,
        )
        session.run(
            str(python),
            "-m",
            "pytest",
            "-p",
            "no:cacheprovider",
            "-q",
            str(PACKAGES / f"actnet-{layer}" / "tests"),
            "--rootdir",
            str(PACKAGES / f"actnet-{layer}"),
            external=True,
            env={"HYPOTHESIS_PROFILE": "dev"},
        )


def _interpreter(minor: int) -> str | None:
    """A working python3.`minor`: on PATH, or one of pyenv's versions."""
    candidates = [f"python3.{minor}"]
    pyenv = shutil.which("pyenv")
    if pyenv is not None:
        root = subprocess.run(
            [pyenv, "root"], capture_output=True, text=True, check=False
        ).stdout.strip()
        found = Path(root, "versions").glob(f"3.{minor}.*/bin/python3") if root else ()
        candidates += [str(x) for x in sorted(found)]
    for candidate in filter(None, map(shutil.which, candidates)):
        probe = subprocess.run(
            [candidate, "-c", "import sys, venv; print(sys.version_info[1])"],
            capture_output=True,
            text=True,
            check=False,
        )
        if probe.returncode == 0 and probe.stdout.strip() == str(minor):
            return candidate
    return None


@nox.session(name="cpython-versions")
def cpython_versions(session: nox.Session) -> None:
    """actnet-tensor's tests and actnet-ndarray's value-semantics tests on every
    CPython the packages support that this machine has: the copy-on-write rules
    read CPython reference counts (tensor's tests/test_copy_on_write.py and
    ndarray's tests/test_value_semantics.py pin each count down), which an
    interpreter release may change. The running interpreter is one of them;
    others that are missing are named and passed over."""
    floor = Version(_pyproject("tensor")["project"]["requires-python"].lstrip(">="))
    tested, missing = [], []
    for minor in range(floor.minor, 15):  # to 3.14, the newest release
        python = _interpreter(minor)
        if python is None:
            missing.append(f"3.{minor}")
            continue
        location = Path(session.virtualenv.location) / f"cpython-3.{minor}"
        session.run(python, "-m", "venv", "--clear", str(location), external=True)
        venv_python = str(location / "bin" / "python")
        wheels = [
            str(_wheel(session, x)) for x in (*_actnet_layers("tensor"), "tensor")
        ]
        session.run(
            venv_python, "-m", "pip", "install", "--quiet", *wheels,
            *_test_requirements("tensor"), *_test_requirements("ndarray"),
            external=True,
        )  # fmt: skip
        session.run(
            venv_python, "-m", "pytest", "-p", "no:cacheprovider", "-q",
            str(PACKAGES / "actnet-tensor" / "tests"),
            "--rootdir", str(PACKAGES / "actnet-tensor"), external=True,
        )  # fmt: skip
        session.run(
            venv_python, "-m", "pytest", "-p", "no:cacheprovider", "-q",
            str(PACKAGES / "actnet-ndarray" / "tests" / "test_value_semantics.py"),
            "--rootdir", str(PACKAGES / "actnet-ndarray"), external=True,
        )  # fmt: skip
        tested.append(f"3.{minor}")
    if f"3.{sys.version_info[1]}" not in tested:
        session.error("the running interpreter's version was not tested")
    session.log(
        f"tested on CPython {', '.join(tested)}; not found: {missing or 'none'}"
    )


@nox.session
def distributed(session: nox.Session) -> None:
    """The tests_mpi of actnet-tensor (collectives, actnet.tensor.distributed),
    actnet-nn (DistributedDataParallel) and actnet-util (`mpiexec -n 2 actnet demo
    digits`) under `mpiexec -n 2`: every rank runs them and all must pass
    (mpiexec fails when a rank does). mpi4py and the mpich wheel
    (whose mpiexec lands in the venv's bin) come from requirements-mpi.txt."""
    _install(
        session,
        "util",
        *_test_requirements("util"),
        "-r",
        str(TESTING / "requirements-mpi.txt"),
    )
    bin_dir = Path(session.bin)
    for layer in ("tensor", "nn", "util"):
        session.chdir(PACKAGES / f"actnet-{layer}")
        session.run(
            str(bin_dir / "mpiexec"), "-n", "2", str(bin_dir / "python"), "-m",
            "pytest", "-p", "no:cacheprovider", "-q", "tests_mpi", *session.posargs,
            external=True,
        )  # fmt: skip


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy --strict on each package's src, each in its own environment holding only
    the layers that package declares."""
    for layer in LAYERS:
        python = _fresh_env(session, layer)
        wheels = [str(_wheel(session, x)) for x in _actnet_layers(layer)]
        third_party = [
            str(r) for r in _requirements(layer) if not r.name.startswith("actnet-")
        ]
        session.run(
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            *wheels,
            *third_party,
            "-r",
            str(TESTING / "requirements-typecheck.txt"),
            external=True,
        )
        session.chdir(PACKAGES / f"actnet-{layer}" / "src")
        session.run(
            str(python),
            "-m",
            "mypy",
            "--strict",
            "--no-incremental",
            "-p",
            f"actnet.{layer}",
            external=True,
        )
        session.chdir(ROOT)


@nox.session
def crosscheck(session: nox.Session) -> None:
    """The PyTorch cross-checks of every package (packages/*/crosscheck), against
    torch==2.13.0 exactly (the CPU build: any looser pin downloads a CUDA build)."""
    _install(
        session,
        "util",
        *_test_requirements("ndarray"),
        *_test_requirements("util"),
        "-r",
        str(TESTING / "requirements-crosscheck.txt"),
    )
    folders = [
        str(PACKAGES / f"actnet-{layer}" / "crosscheck")
        for layer in LAYERS
        if (PACKAGES / f"actnet-{layer}" / "crosscheck").is_dir()
    ]
    session.run("python", "-m", "pytest", "-p", "no:cacheprovider", "-q", *folders)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting of everything."""
    session.install("-r", str(TESTING / "requirements-lint.txt"))
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def layering(session: nox.Session) -> None:
    """The layer chain (no upward, undeclared or function-local import of actnet), no
    use of another package's private names, one-way modules inside each package, and
    no source module over 600 lines of code."""
    session.install("-r", str(TESTING / "requirements-test.txt"))
    session.run("python", "-m", "pytest", "-p", "no:cacheprovider", "-q", "ci/tests")
    session.run("python", "ci/layering.py", str(PACKAGES))


@nox.session
def build(session: nox.Session) -> None:
    """Wheels and sdists of all seven packages in dist/, checked for the namespace."""
    session.install("build==1.6.1")
    dist = ROOT / "dist"
    shutil.rmtree(dist, ignore_errors=True)
    for layer in LAYERS:
        session.run(
            "python",
            "-m",
            "build",
            "--sdist",
            "--wheel",
            "--outdir",
            str(dist),
            str(PACKAGES / f"actnet-{layer}"),
            silent=True,
        )
    session.run("python", "ci/check_dist.py", str(dist), *LAYERS)


@nox.session
def demo(session: nox.Session) -> None:
    """The README's demo command, in a fresh environment (its output in a temporary
    folder), and actnet-mem's allocator demo."""
    session.install("-r", str(ROOT / "requirements-demo.txt"))
    out = Path(session.create_tmp()) / "digits"
    shutil.rmtree(out, ignore_errors=True)
    session.run("actnet", "demo", "digits", "--out", str(out))
    # the gpt demo in a short form (3 steps of the full model), then generation
    gpt = Path(session.create_tmp()) / "gpt"
    shutil.rmtree(gpt, ignore_errors=True)
    session.run("actnet", "demo", "gpt", "--steps", "3", "--out", str(gpt))
    session.run("actnet", "generate", "--model", str(gpt), "--max-new-tokens", "20")
    # and within half the captured step's planned memory (recordings until it fits)
    half = Path(session.create_tmp()) / "gpt-half"
    shutil.rmtree(half, ignore_errors=True)
    session.run(
        "actnet", "demo", "gpt", "--steps", "6", "--memory-budget", "0.5",
        "--out", str(half),
    )  # fmt: skip
    session.run("python", "-m", "actnet.mem.demo")


@nox.session
def bench(session: nox.Session) -> None:
    """Benchmarks against their peers, with OpenBLAS left to pick its own kernels."""
    _install(
        session,
        "util",
        "threadpoolctl",
        "-r",
        str(TESTING / "requirements-crosscheck.txt"),
        "-r",
        str(TESTING / "requirements-bench.txt"),
        "-r",
        str(TESTING / "requirements-mpi.txt"),
        *_test_requirements("util"),
    )
    unset = [arg for name in ENV_UNSET_FOR_BENCH for arg in ("-u", name)]
    for script in (
        "bench_mem.py",
        "bench_device.py",
        "bench_ndarray.py",
        "bench_tensor.py",
        "bench_nn.py",
        "bench_util.py",
        "bench_kernels.py",
        "bench_gpt_demo.py",
        "bench_rnn.py",
        "bench_compile.py",
        "bench_distributed.py",
    ):
        session.run(
            "env",
            *unset,
            "python",
            str(ROOT / "benchmarks" / script),
            *session.posargs,
            external=True,
        )
