"""The `exports:` entries checked against the sheet, the datasets and the stages' settings,
before anything runs: per export its layout, name and subjects by role."""

from ..core.config import dataset_subjects
from ..core.errors import PoseAnimateError
from . import (animate_anyone, d2g, gfla, mraa, pose2img, pose_transfer, stable_animator,
               wan_animate)

LAYOUTS = {module.__name__.rsplit(".", 1)[1]: module for module in (
    gfla, mraa, pose2img, pose_transfer, d2g, wan_animate, animate_anyone, stable_animator)}
FACE_HANDS = ("pose2img", "wan_animate")  # they render or crop face and hands


def plan_exports(config: dict, subjects, source="config/config.yaml") -> list[dict]:
    known = set(subjects)
    plan, seen = [], set()
    for i, entry in enumerate(config.get("exports", [])):
        where, layout = f"exports[{i}]", entry["layout"]
        scope = LAYOUTS[layout].SCOPE
        given = [k for k in ("subject", "dataset") if k in entry]
        allowed = ["subject", "dataset"] if scope == "any" else [scope]
        if len(given) != 1 or given[0] not in allowed:
            raise PoseAnimateError(
                f"{where}: layout {layout} exports " + " or ".join(f"a {a}" for a in allowed)
                + f", given {' and '.join(given) or 'neither'}.", path=source,
                fix=f"write {{layout: {layout}, {allowed[0]}: <name>}}.")
        name = entry[given[0]]
        if given[0] == "subject":
            if name not in known:
                raise PoseAnimateError(f"{where}: '{name}' is not a subject of the sheet.",
                                       path=source, fix="add it to the sheet or correct it.")
            train, test = [name], []
        else:
            train, test = dataset_subjects(config, name, where, source)
        driving = entry.get("driving")
        if driving is not None and layout != "pose_transfer":
            raise PoseAnimateError(f"{where}: driving: is for the pose_transfer layout only.",
                                   path=source, fix="remove driving: from this entry.")
        if driving is not None and driving not in known:
            raise PoseAnimateError(f"{where}: driving '{driving}' is not a subject of the "
                                   "sheet.", path=source, fix="add it to the sheet or correct it.")
        if layout in FACE_HANDS and not config["keypoints"].get("face_hands", True):
            raise PoseAnimateError(
                f"{where}: layout {layout} needs face and hand keypoints, and "
                "keypoints.face_hands is false.", path=source,
                fix="set keypoints.face_hands: true (or remove this export).")
        if (layout, name) in seen:
            raise PoseAnimateError(f"{where}: {layout} of '{name}' is listed twice.",
                                   path=source, fix="remove the duplicate.")
        seen.add((layout, name))
        plan.append({"layout": layout, "name": name, "train": train, "test": test,
                     "driving": driving, "parts": list(LAYOUTS[layout].PARTS)})
    return plan
