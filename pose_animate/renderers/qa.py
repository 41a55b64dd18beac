"""QA pictures of training, rendering and evaluation (each returns a BGR picture)."""

from pathlib import Path

from ..core.draw import contact_sheet
from ..core.formats import read_image
from ..core.plots import figure_image, plt
from .metrics import METRICS

def curves_plot(record: dict):
    """The training losses logged every `log_every` steps (the record's history), in the
    panels the family's training step groups them in."""
    history, panels = record["history"], record["loss_panels"]
    fig, axes = plt.subplots(1, len(panels), figsize=(13, 3.6))
    steps = [h["step"] for h in history]
    for ax, (title, names) in zip(axes, panels):
        for name in names:
            values = [h.get(name, 0) for h in history]
            if any(values):
                ax.plot(steps, values, label=name)
        ax.set_title(title)
        ax.set_xlabel("step")
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize=8)
        ax.grid(alpha=0.3)
    fig.suptitle(f"{record['family']} {record['name']}: {record['steps']} steps, "
                 f"{record['precision']} on {record['device']}", fontsize=10)
    fig.tight_layout()
    return figure_image(fig)


def samples_picture(run_dir):
    """The last sample grid the engine wrote (pose | generated | real rows)."""
    return read_image(Path(run_dir) / "samples_latest.jpg")


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.4g}"


def eval_table(record: dict):
    """One row per metric: the model and each baseline (and the real frames' warping error)."""
    columns = ["model", *record["baselines"]]
    cells = []
    for key in METRICS:
        row = [key, _fmt(record["model"][key])]
        row += [_fmt(record["baselines"][b][key]) for b in record["baselines"]]
        cells.append(row)
    cells.append(["warping_error of the real frames", _fmt(record["real_frames"]["warping_error"])]
                 + [""] * (len(columns) - 1))
    fig, ax = plt.subplots(figsize=(3.2 + 1.6 * len(columns), 0.42 * len(cells) + 1.0))
    ax.axis("off")
    width = 0.5
    table = ax.table(cellText=cells, colLabels=["metric", *[c.replace("_", " ") for c in columns]],
                     loc="center", cellLoc="left",
                     colWidths=[width] + [(1 - width) / len(columns)] * len(columns))
    table.scale(1, 1.4)
    held = record["heldout"]
    where = ", ".join(f"{s} {a}-{b}" for s, (a, b) in held["subjects"].items())
    ax.set_title(f"{record['family']} {record['name']}: held out {where} ({held['frames']} "
                 f"frames; nearest training pose {held['nearest_pose_distance_body_fraction']}"
                 " body heights away)", fontsize=9)
    made = record.get("pose_animate")
    if made:
        fig.text(0.01, 0.01, f"pose_animate {made['version']}, config {made['config_digest']}",
                 fontsize=7, color="0.4")
    fig.tight_layout()
    return figure_image(fig, dpi=100)


def eval_frames(shown: list[dict]):
    """Rows of real | each baseline | model for the shown held-out frames."""
    tiles, labels = [], []
    for item in shown:
        names = [k for k in item if k not in ("frame", "model")] + ["model"]
        for name in names:
            tiles.append(item[name])
            labels.append(f"{item['frame']} real" if name == "real" else name.replace("_", " "))
    return contact_sheet(tiles, cols=len(tiles) // max(1, len(shown)), labels=labels)


def render_stills(stills: list):
    """Evenly spaced comparison frames of a render (driving | skeleton | result), stacked."""
    return contact_sheet([s for _, s in stills], cols=1, labels=[f"frame {t}" for t, _ in stills])
