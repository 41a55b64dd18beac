"""pose_animate: a Snakemake pipeline for pose-guided human video animation.

Every algorithm lives in this package as a plain function, tested without Snakemake;
the workflow's rules only wire files to it. The packages mirror the rule files: `core`
(formats, errors, logs, config, devices, drawing, the stage shell), then the stages in DAG
order: `synth` (demo subjects), `frames`, `keypoints`, `clean`, `appearance` (masks,
background, flow), `densepose` (IUV and texture), `renderers` (model families, training,
rendering, evaluation).
"""

import os

# Before torch loads OpenMP (any stage may import it): threads spinning at barriers make CPU
# training 2-25x slower when other jobs share the cores; a short spin keeps the speed of an
# idle machine (bench/bench_train.py: 211 ms a step idle as when spinning, 447 instead of
# 1013 ms with two busy processes beside it).
os.environ.setdefault("GOMP_SPINCOUNT", "20000")

from .core.version import __version__  # noqa: E402,F401  (kept in core: the stages stamp it)
