"""The workflow passes Snakemake's linter and is formatted with snakefmt."""

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_snakemake_lint_is_clean():
    run = subprocess.run([sys.executable, "-m", "snakemake", "--lint"], cwd=REPO,
                         capture_output=True, text=True)
    out = run.stdout + run.stderr
    assert run.returncode == 0 and "Lints for" not in out, out[-3000:]


def test_rules_are_formatted_with_snakefmt():
    snakefmt = Path(sys.executable).with_name("snakefmt")
    files = ["Snakefile", *sorted(str(p.relative_to(REPO)) for p in (REPO / "rules").glob("*.smk"))]
    run = subprocess.run([str(snakefmt), "--check", *files], cwd=REPO, capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stdout + run.stderr
