"""Each rule's conda env (envs/*.yaml) names every package its script imports, following the
script's imports into pose_animate, so that `--sdm conda` works on a cluster."""

import ast
import re
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
# import name -> the package names that provide it (conda-forge or PyPI spelling).
PROVIDERS = {
    "cv2": {"mediapipe", "opencv", "opencv-contrib-python"},
    "yaml": {"pyyaml"},
    "skimage": {"scikit-image"},
    "ffmpeg": {"ffmpeg-python"},
    "imageio_ffmpeg": {"imageio-ffmpeg"},
    "torch": {"pytorch", "torch"},
    "PIL": {"pillow"},
    "sklearn": {"scikit-learn"},
}
# Optional backends, imported only when installed (never listed in the default envs).
OPTIONAL = {"detectron2", "densepose", "mmpose", "mmcv", "mmdet", "mmengine", "sam2",
            "onnxruntime"}
STDLIB = set(sys.stdlib_module_names) | {"snakemake", "pose_animate"}


def rule_envs_and_scripts():
    pairs = []
    for smk in sorted((REPO / "rules").glob("*.smk")):
        text = smk.read_text()
        for block in re.split(r"\n(?=rule \w+:)", text):
            name = re.match(r"rule (\w+):", block)
            conda = re.search(r"conda:\s*\n\s*\"([^\"]+)\"", block)
            script = re.search(r"script:\s*\n\s*\"([^\"]+)\"", block)
            if name and script:
                assert conda, f"{smk.name}: rule {name.group(1)} has no conda: env"
                pairs.append((name.group(1), (smk.parent / conda.group(1)).resolve(),
                              (smk.parent / script.group(1)).resolve()))
    return pairs


def imported_modules(path: Path, seen: set) -> set:
    """Top-level third-party modules imported by `path` and the pose_animate modules it uses."""
    if path in seen or not path.exists():
        return set()
    seen.add(path)
    found = set()
    tree = ast.parse(path.read_text())
    for node in ast.walk(tree):
        names = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import inside pose_animate
                base = path.parent
                for _ in range(node.level - 1):
                    base = base.parent
                mod = (node.module or "").split(".")
                targets = [base.joinpath(*mod)] if node.module else []
                targets += [base.joinpath(*mod, a.name) for a in node.names]
                for t in targets:
                    for cand in (t.with_suffix(".py"), t / "__init__.py"):
                        found |= imported_modules(cand, seen)
                continue
            names = [node.module]
        for name in names:
            top = name.split(".")[0]
            if top == "pose_animate":
                parts = name.split(".")
                for cand in (REPO.joinpath(*parts).with_suffix(".py"),
                             REPO.joinpath(*parts, "__init__.py")):
                    found |= imported_modules(cand, seen)
                if isinstance(node, ast.ImportFrom):
                    for a in node.names:
                        for cand in (REPO.joinpath(*parts, a.name).with_suffix(".py"),
                                     REPO.joinpath(*parts, a.name, "__init__.py")):
                            found |= imported_modules(cand, seen)
            elif top not in STDLIB and top not in OPTIONAL:
                found.add(top)
    return found


def env_packages(env_file: Path) -> set:
    env = yaml.safe_load(env_file.read_text())
    names = set()
    for dep in env["dependencies"]:
        items = dep["pip"] if isinstance(dep, dict) else [dep]
        for item in items:
            names.add(re.split(r"[\s=<>!\[]", item.strip(), maxsplit=1)[0].lower())
    return names


@pytest.mark.parametrize("rule, env_file, script", rule_envs_and_scripts(),
                         ids=lambda v: v if isinstance(v, str) else "")
def test_rule_env_names_every_imported_package(rule, env_file, script):
    assert env_file.exists(), f"rule {rule}: {env_file} is missing"
    assert script.exists(), f"rule {rule}: {script} is missing"
    packages = env_packages(env_file)
    missing = []
    for module in sorted(imported_modules(script, set())):
        providers = PROVIDERS.get(module, {module.lower().replace("_", "-")})
        if not providers & packages:
            missing.append(f"{module} (one of {sorted(providers)})")
    assert not missing, f"rule {rule}: {env_file.name} lacks {missing}"
