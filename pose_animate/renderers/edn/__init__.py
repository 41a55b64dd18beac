"""Everybody Dance Now (Chan et al., ICCV 2019) on pix2pixHD: a subject-specific pose-to-video
renderer with temporal smoothing. `family.py` declares it, `model.py` holds the networks and
the inference step, `train.py` the training step."""
