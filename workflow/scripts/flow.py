import cv2

from pose_animate.appearance.flow import compute_flow_folder, flow_qa_sheet
from pose_animate.core.runlog import to_log

with to_log(snakemake.log[0]):
    cv2.setNumThreads(1)  # parallel over frame pairs instead (see compute_flow_folder)
    cfg = snakemake.params.cfg
    compute_flow_folder(snakemake.input.frames, snakemake.output.fwd, snakemake.output.bwd,
                        snakemake.output.valid, snakemake.output.record,
                        method=cfg["method"], preset=cfg["preset"], alpha=cfg["alpha"],
                        beta=cfg["beta"], import_dir=(snakemake.input.source or [None])[0],
                        subject=snakemake.wildcards.subject, workers=snakemake.threads)
    flow_qa_sheet(snakemake.input.frames, snakemake.output.fwd, snakemake.output.valid,
                  snakemake.output.sheet, n_pairs=cfg["qa_pairs"])
