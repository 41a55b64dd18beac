"""What deploying the workflow relies on: the container files build the environment the conda
envs describe, one version everywhere, the catalog's usage, and the `pose_animate` command."""

import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml

from pose_animate import __version__
from pose_animate.__main__ import main as cli

REPO = Path(__file__).resolve().parent.parent
CONTAINERS = ["Dockerfile", "pose_animate.def"]
# conda-only names -> what provides them in the container
CONDA_EQUIVALENT = {"pytorch": "torch", "ffmpeg": "imageio-ffmpeg", "python": None,
                    "pip": None, "cpuonly": None}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~ \[]", requirement.strip(), maxsplit=1)[0].lower()


def env_packages() -> set[str]:
    names = set()
    for env in sorted((REPO / "envs").glob("*.yaml")):
        for dep in yaml.safe_load(env.read_text())["dependencies"]:
            if isinstance(dep, dict):
                names |= {_name(p) for p in dep.get("pip", [])}
            else:
                equivalent = CONDA_EQUIVALENT.get(_name(dep), _name(dep))
                if equivalent:
                    names.add(equivalent)
    return names


def project_dependencies() -> set[str]:
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    return {_name(d) for d in project["dependencies"]}


@pytest.mark.parametrize("container", CONTAINERS)
def test_container_builds_every_package_the_envs_name(container):
    text = (REPO / container).read_text()
    torch_pin = re.search(r"TORCH \?= (\S+)", (REPO / "Makefile").read_text()).group(1)
    assert torch_pin in text  # the same torch as `make setup`, first, from a chosen index
    assert re.search(r"pip install .*-e /opt/pose_animate", text)  # pyproject's dependencies
    provided = project_dependencies() | {_name(w) for w in re.findall(r"[\w.-]+", text)}
    missing = sorted(env_packages() - provided)
    assert not missing, f"{container} does not install {missing}"


def test_one_version_everywhere():
    schema = yaml.safe_load((REPO / "workflow" / "schemas" / "config.schema.yaml").read_text())
    image = schema["properties"]["container"]["default"]
    assert image.endswith(f":{__version__}")
    assert f"## {__version__}" in (REPO / "CHANGELOG.md").read_text()
    assert 'attr = "pose_animate.core.version.__version__"' in (REPO / "pyproject.toml").read_text()
    for container in CONTAINERS:
        assert "pose_animate --version" in (REPO / container).read_text()


def test_the_catalog_usage_matches_the_readme():
    usage = yaml.safe_load((REPO / ".snakemake-workflow-catalog.yml").read_text())["usage"]
    readme = (REPO / "README.md").read_text()
    for flag in usage["mandatory-flags"]["flags"].split():
        if flag.startswith("--"):
            assert flag in readme, flag
    assert usage["software-stack-deployment"]["conda"] and usage["report"]
    assert "--sdm apptainer" in readme and "--sdm conda" in readme


def test_the_command_prints_the_version_and_names_a_yaml_mistakes_line(tmp_path, capsys):
    run = subprocess.run([sys.executable, "-m", "pose_animate", "--version"],
                         capture_output=True, text=True)
    assert run.stdout.strip() == f"pose_animate {__version__}"
    bad = tmp_path / "bad.yaml"
    bad.write_text("subjects: x.tsv\nframes:\n  size: 128\n   fps: 12\n")
    assert cli(["check-config", str(bad), str(REPO / "config" / "config.yaml")]) == 1
    out = capsys.readouterr()
    assert f"{bad}: line 4, column 7: YAML syntax error" in out.err
    assert "config.yaml: ok" in out.out
