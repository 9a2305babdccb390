"""binder/: the files mybinder.org (repo2docker) builds the tutorial image from.

The slow test is the closest check of the Binder image possible without Docker: a fresh virtual environment
built only from binder/requirements.txt and binder/postBuild (no --system-site-packages), then every tutorial
executed in it through binder/start, offline, against the archive postBuild prepared.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BINDER = REPO / "binder"

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli")


def _name(requirement: str) -> str:
    """Normalised project name of a requirement string (PEP 503), without extras or version."""
    name = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", requirement).group(1)
    return re.sub(r"[-_.]+", "-", name).lower()


def _requirements() -> dict[str, str]:
    lines = (BINDER / "requirements.txt").read_text().splitlines()
    reqs = [line.split("#", 1)[0].strip() for line in lines]
    return {_name(req): req for req in reqs if req}


def test_binder_requirements_pin_every_runtime_dependency():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    needed = {_name(dep) for dep in project["dependencies"]}
    optional_dask = {_name(dep) for dep in project["optional-dependencies"]["dask"]}
    pinned = _requirements()
    missing = sorted((needed | optional_dask) - set(pinned))
    assert not missing, f"binder/requirements.txt does not pin {missing}"
    loose = sorted(req for req in pinned.values() if "==" not in req)
    assert not loose, f"binder/requirements.txt should pin exact versions: {loose}"
    assert not any(req.startswith(("-e", ".")) for req in pinned.values())  # repo2docker refuses these


def test_binder_runtime_matches_requires_python():
    runtime = (BINDER / "runtime.txt").read_text().strip()
    match = re.fullmatch(r"python-(\d+)\.(\d+)", runtime)
    assert match, f"runtime.txt should read like 'python-3.11', not {runtime!r}"
    requires = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    minimum = tuple(int(part) for part in re.search(r">=\s*(\d+)\.(\d+)", requires).groups())
    assert tuple(int(part) for part in match.groups()) >= minimum


@pytest.mark.parametrize(("given", "expected"), [(None, "sdc"), ("local", "local")])
def test_binder_start_chooses_the_real_sdc_unless_told_otherwise(given, expected):
    env = {k: v for k, v in os.environ.items() if k != "IMAP_EXPLORER_SOURCE"}
    if given is not None:
        env["IMAP_EXPLORER_SOURCE"] = given
    result = subprocess.run([str(BINDER / "start"), sys.executable, "-c",
                             "import os, sys; print(os.environ['IMAP_EXPLORER_SOURCE']); sys.exit(3)"],
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.stdout.strip() == expected
    assert result.returncode == 3  # start execs the command: its exit code is the session's


_RUNNER = textwrap.dedent("""
    import sys, time
    from pathlib import Path

    import nbformat
    from nbclient import NotebookClient

    # The kernel must be the environment's own Python, running the installed package (not the source tree).
    probe = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import sys, imap_explorer; print(sys.prefix); print(imap_explorer.__file__)")])
    NotebookClient(probe, kernel_name="python3", timeout=120).execute()
    print("kernel:", " ".join(probe.cells[0].outputs[0]["text"].split()), flush=True)
    for path in map(Path, sys.argv[1:]):
        notebook = nbformat.read(path, as_version=4)
        started = time.perf_counter()
        NotebookClient(notebook, kernel_name="python3", timeout=300,
                       resources={"metadata": {"path": str(path.parent)}}).execute()
        print(f"ran {path.name} in {time.perf_counter() - started:.1f} s", flush=True)
""")


def _copy_repository(target: Path) -> None:
    """What a fresh clone holds (the tracked kinds of files), without the caches and the virtualenvs."""
    top_level_skip = {".git", ".venv", "build", "dist", "data", "test-artifacts", ".pytest_cache", ".ruff_cache"}

    def ignore(folder: str, names: list[str]) -> set[str]:
        skip = {n for n in names if n == "__pycache__" or n.endswith((".egg-info", ".pyc"))}
        if Path(folder) == REPO:
            skip |= top_level_skip & set(names)
        return skip

    shutil.copytree(REPO, target, ignore=ignore)


def _run(cmd: list[str], **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(part) for part in cmd], capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        pytest.fail(f"{' '.join(map(str, cmd))} failed with exit code {result.returncode}:\n"
                    f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


@pytest.mark.slow
def test_binder_environment_runs_every_tutorial(tmp_path):
    repo = tmp_path / "repo"
    _copy_repository(repo)
    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", venv], timeout=300)
    bin_dir = venv / ("Scripts" if os.name == "nt" else "bin")
    python = bin_dir / "python"
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "PYTHONHOME", "IMAP_EXPLORER_ARCHIVE", "JUPYTER_PATH", "JUPYTER_DATA_DIR",
                        "MPLBACKEND")}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(venv),
               XDG_CACHE_HOME=str(tmp_path / "cache"), IMAP_EXPLORER_SOURCE="local",
               JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter-config"), JUPYTER_RUNTIME_DIR=str(tmp_path / "jupyter-run"))
    env.setdefault("PIP_CACHE_DIR", str(Path.home() / ".cache" / "pip"))  # the image's cache would be empty
    env.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")

    # repo2docker: requirements.txt, then postBuild, both from the repository root.
    _run([python, "-m", "pip", "install", "-q", "-r", repo / "binder" / "requirements.txt"], cwd=repo, env=env,
         timeout=1200)
    _run([repo / "binder" / "postBuild"], cwd=repo, env=env, timeout=1200)
    archive = tmp_path / "cache" / "imap-explorer" / "archive"
    from imap_explorer.synthetic import INSTRUMENTS

    # every instrument, and the repoint table under spice/ (the product specs were installed with the package)
    assert sorted(p.name for p in (archive / "imap").iterdir()) == sorted([*INSTRUMENTS, "ialirt", "spice"])

    # Every session goes through binder/start; the tests choose the offline source explicitly.
    notebooks = sorted((repo / "notebooks").glob("*.ipynb"))
    assert len(notebooks) == 6
    result = _run([repo / "binder" / "start", python, "-c", _RUNNER, *notebooks], cwd=repo / "notebooks", env=env,
                  timeout=1800)
    kernel = result.stdout.splitlines()[0]
    assert str(venv) in kernel
    assert f"{venv}/lib" in kernel.split()[-1]  # imap_explorer imported from site-packages
    assert "ran 06_ten_instruments.ipynb" in result.stdout
    print(result.stdout)

    # The README's "Explorer app on Binder" link: Voila as a Jupyter server extension, /voila/render/<path>.
    _check_voila_render(python, repo, {**env, "IMAP_DATA_ACCESS_URL": "http://127.0.0.1:9"}, tmp_path)


def _check_voila_render(python: Path, repo: Path, env: dict[str, str], tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    token = "binder-test-token"
    log = tmp_path / "jupyter-server.log"
    with open(log, "wb") as log_file:
        server = subprocess.Popen(
            [str(python), "-m", "jupyter_server", "--no-browser", "--ServerApp.ip=127.0.0.1", f"--port={port}",
             "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={repo}",
             "--allow-root"],
            env=env, stdout=log_file, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        try:
            url = f"http://127.0.0.1:{port}/voila/render/imap_explorer/app/explorer.ipynb?token={token}"
            deadline = time.monotonic() + 180
            page = None
            while page is None and time.monotonic() < deadline and server.poll() is None:
                try:
                    with urllib.request.urlopen(url, timeout=180) as resp:
                        assert resp.status == 200
                        page = resp.read().decode()
                except urllib.error.HTTPError as err:
                    pytest.fail(f"{url} answered {err.code}: {err.read()[:500]!r}\n{log.read_text()[-3000:]}")
                except (urllib.error.URLError, ConnectionError):
                    time.sleep(0.5)
            assert page is not None, f"no page at {url}:\n{log.read_text()[-3000:]}"
            assert "IMAP Explorer" in page
            assert "application/vnd.jupyter.widget-view+json" in page
        finally:
            server.terminate()
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
