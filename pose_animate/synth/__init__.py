"""The built-in demo subject: a procedural dancing figure with exact ground truth.

    for f in render_sequence(seed=0, n_frames=48, size=256, fps=24, style="groove"):
        f.image, f.keypoints, f.mask, f.iuv, f.flow, f.flow_inv, f.background
    write_demo("results/demo/x", seed=0, n_frames=48)   # video.mp4 + truth/

The figure is a 2D articulated body (figure.py) moved by a seeded dance cycle (motion.py),
painted from a 24-part DensePose texture atlas (appearance.py) and rasterised per pixel
centre (render.py), so keypoints, mask, IUV, flow and texture are exact by construction.
Parameters and defaults: sequence.DEFAULTS.
"""

from .demo import write_demo
from .sequence import DEFAULTS, Scene, SynthFrame, render_sequence

__all__ = ["DEFAULTS", "Scene", "SynthFrame", "render_sequence", "write_demo"]
