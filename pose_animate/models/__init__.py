"""Pose-to-video renderers: `pix2pixhd` (the Everybody-Dance-Now family) and its input maps."""
