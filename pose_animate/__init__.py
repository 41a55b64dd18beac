"""pose_animate: a Snakemake pipeline for pose-guided human video animation.

Every algorithm lives in this package as a plain function, tested without Snakemake;
the workflow's rules only wire files to it.
"""

__version__ = "0.1.0"
