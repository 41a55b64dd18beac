"""The frames stage: probe (probe), the person pass (person), the crop geometry and coordinate
maps (crop), extraction with ffmpeg (extract) and the crop QA sheet (qa)."""
