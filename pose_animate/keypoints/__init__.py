"""Keypoint backends (detect or import) that all write OpenPose JSON in frame pixels."""
