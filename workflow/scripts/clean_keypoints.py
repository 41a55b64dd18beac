import shutil

from pose_animate.atomic import atomic_dir
from pose_animate.formats import write_json
from pose_animate.runlog import to_log

with to_log(snakemake.log[0]):
    with atomic_dir(snakemake.output.cleaned) as tmp:
        for f in sorted(__import__("pathlib").Path(snakemake.input.raw).glob("*_keypoints.json")):
            shutil.copy2(f, tmp / f.name)
    write_json(snakemake.output.record, {"method": "raw keypoints, not cleaned"})
