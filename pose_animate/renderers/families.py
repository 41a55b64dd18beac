"""The renderer families the pipeline knows (their declarations; no torch)."""

import re
from pathlib import Path

from ..core.config import dataset_subjects
from ..core.errors import PoseAnimateError
from .d2g.family import D2G
from .edn.family import EDN
from .family import Family
from .gfla.family import GFLA
from .pose2img.family import POSE2IMG

FAMILIES: dict[str, Family] = {f.name: f for f in (EDN, D2G, POSE2IMG, GFLA)}


def family(name: str) -> Family:
    if name not in FAMILIES:
        raise PoseAnimateError(f"unknown renderer family '{name}'.",
                               fix=f"use one of {', '.join(FAMILIES)}.")
    return FAMILIES[name]


def plan_models(config: dict, subjects, source="config/config.yaml") -> list[dict]:
    """The validated `models:` (with `renders:` checked against them): per model its family,
    name (the subject or dataset), scope, and the subjects it trains and is tested on. A
    render of a photo (`image:`) gets its target name here (`image-{file stem}`)."""
    known = set(subjects)
    plan, seen = [], set()
    for i, entry in enumerate(config["models"]):
        where = f"models[{i}]"
        fam = family(entry["family"])
        given = [k for k in ("subject", "dataset") if k in entry]
        if len(given) != 1:
            raise PoseAnimateError(f"{where} needs exactly one of subject: or dataset:.",
                                   path=source, fix="write {family: edn, subject: alice} or "
                                                    "{family: gfla, dataset: dancers}.")
        wanted = "subject" if fam.scope == "subject" else "dataset"
        if given[0] != wanted:
            raise PoseAnimateError(
                f"{where}: family {fam.name} trains per {wanted}, not per {given[0]}.",
                path=source, fix=f"write {{family: {fam.name}, {wanted}: <name>}}.")
        name = entry[wanted]
        if wanted == "subject":
            if name not in known:
                raise PoseAnimateError(f"{where}: '{name}' is not a subject of the sheet.",
                                       path=source, fix="add it to the sheet or correct it.")
            train, test = [name], [name]
        else:
            train, test = dataset_subjects(config, name, where, source)
            if not test:
                raise PoseAnimateError(f"{where}: dataset '{name}' has no test subjects.",
                                       path=source, fix=f"{fam.name} is evaluated on people it "
                                                        "never saw: list some under test:.")
            if len(train) < 2:
                raise PoseAnimateError(
                    f"{where}: dataset '{name}' has {len(train)} train subject.", path=source,
                    fix=f"{fam.name} learns to animate people it never saw from many people: "
                        "list two or more under train: (the more, the better it generalises).")
        if (fam.name, name) in seen:
            raise PoseAnimateError(f"{where}: {fam.name} on '{name}' is listed twice.",
                                   path=source, fix="remove the duplicate.")
        seen.add((fam.name, name))
        plan.append({"family": fam.name, "name": name, "scope": fam.scope, "train": train,
                     "test": test})
    for name, fam in FAMILIES.items():
        for dataset in fam.datasets_named(config["families"][name]):
            if dataset not in config["datasets"]:
                raise PoseAnimateError(f"families.{name} names the dataset '{dataset}', which "
                                       "datasets: does not define.", path=source,
                                       fix="define it under datasets: or correct the name.")
    rendered, gesture_files, images = set(), {}, {}
    for i, render in enumerate(config["renders"]):
        if "image" in render:
            _image_target(render, i, known, images, source)
        if "target" not in render:
            raise PoseAnimateError(f"renders[{i}] names no target.", path=source,
                                   fix="give target: (the subject rendered or animated), or "
                                       "image: (a photo, for gfla).")
        if ("driving" in render) == ("gestures" in render):
            raise PoseAnimateError(f"renders[{i}] needs exactly one of driving: or gestures:.",
                                   path=source, fix="write {target: alice, driving: bob} or "
                                                    "{target: alice, gestures: talk.npz}.")
        for role in ("target", "driving"):
            if role in render and render[role] not in known and not (
                    role == "target" and "image" in render):
                raise PoseAnimateError(f"renders[{i}].{role}: '{render[role]}' is not a "
                                       "subject of the sheet.", path=source,
                                       fix="add it to the sheet or correct the name.")
        if "gestures" in render and not Path(render["gestures"]).is_file():
            raise PoseAnimateError(f"renders[{i}].gestures: no file {render['gestures']}.",
                                   path=source, fix="give the path of the gesture .npz.")
        if "gestures" in render:  # one name, one file at one frame rate
            name, made_of = driving_name(render), (Path(render["gestures"]).resolve(),
                                                   render["fps"])
            if gesture_files.setdefault(name, made_of) != made_of:
                raise PoseAnimateError(
                    f"renders[{i}]: its gesture render is named {name}, as another render of "
                    "another file or frame rate is.", path=source,
                    fix="give the gesture files distinct names (the render is named after "
                        "the file) and one fps each.")
        key = (render["family"], render["target"], driving_name(render))
        if key in rendered or ("gestures" in render and key[2] in known):
            raise PoseAnimateError(f"renders[{i}]: a second render named {key[1]}__{key[2]} "
                                   f"for {key[0]}.", path=source,
                                   fix="remove the duplicate or rename the gesture file.")
        rendered.add(key)
        if family(render["family"]).scope == "dataset":
            if (render["family"], render.get("dataset")) not in seen:
                raise PoseAnimateError(
                    f"renders[{i}] animates with a {render['family']} model, named by its "
                    f"dataset: '{render.get('dataset')}' is not one that models: trains.",
                    path=source, fix=f"write {{family: {render['family']}, dataset: <name>, "
                                     "target: <subject>, driving: <subject>}} with a dataset of "
                                     f"a {render['family']} entry of models:.")
            continue
        if (render["family"], render["target"]) not in seen:
            raise PoseAnimateError(
                f"renders[{i}] renders onto {render['family']} '{render['target']}', which "
                "models: does not train.", path=source,
                fix=f"add {{family: {render['family']}, subject: {render['target']}}} to "
                    "models:.")
    return plan


def _image_target(render: dict, i: int, known, images: dict, source) -> None:
    """A render whose person is a photo (`image:`, families learnt from a dataset): checked,
    and given its target name, `image-{file stem}`, the folder its frame and keypoints are
    made in (results/sources/) and its render's name."""
    where = f"renders[{i}]"
    if "target" in render:
        raise PoseAnimateError(f"{where} names both target: and image:.", path=source,
                               fix="keep one: the subject animated, or a photo of a person.")
    if family(render["family"]).scope != "dataset":
        raise PoseAnimateError(f"{where}: a {render['family']} model renders its own subject, "
                               "not a photo.", path=source,
                               fix="animate photos with a family learnt from a dataset "
                                   "(gfla), or give target: for this one.")
    path = Path(render["image"])
    if not path.is_file():
        raise PoseAnimateError(f"{where}.image: no file {path}.", path=source,
                               fix="give the path of a photo of one person.")
    stem = re.sub(r"[^A-Za-z0-9.-]+", "-", path.stem).strip("-.")
    name = f"image-{stem or 'photo'}"
    if name in known or images.setdefault(name, path.resolve()) != path.resolve():
        raise PoseAnimateError(f"{where}: its photo would be named {name}, as "
                               f"{'a subject' if name in known else 'another photo'} is.",
                               path=source, fix="rename the photo file.")
    render["target"] = name


def driving_name(render: dict) -> str:
    """The name a render's driving motion goes by in its folders: the driving subject, or
    `gestures-{file stem}` (characters a wildcard does not take made '-')."""
    if "driving" in render:
        return render["driving"]
    stem = re.sub(r"[^A-Za-z0-9.-]+", "-", Path(render["gestures"]).stem).strip("-.")
    return f"gestures-{stem or 'file'}"
