"""DensePose-style body-part coordinates (IUV): backends and conversions.

- `skeleton`: the default, from keypoints and the person mask (CPU, no weights).
- `detectron2_backend`: DensePose R-CNN where detectron2 and its DensePose project are
  installed (local config and weights).
- `import_dump`: `apply_net.py dump` files and folders of IUV PNGs.
- `convert`: DensePose chart outputs pasted into frame-sized I, U, V.
"""
