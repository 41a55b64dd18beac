"""The version of pose_animate, in this one place (pyproject.toml reads it, the package exports
it, CHANGELOG.md says what changed)."""

__version__ = "0.2.0"
