"""The configuration and the subject sheet: validated once, at the edge, with errors that
name the file, the key or row, and the fix. Usable without Snakemake."""

import copy
import os
import difflib
import functools
import re
import shutil
from pathlib import Path

import jsonschema
import pandas as pd
import yaml

from .errors import PoseAnimateError

REPO = Path(__file__).resolve().parents[2]
CONFIG_SCHEMA = REPO / "workflow" / "schemas" / "config.schema.yaml"
SUBJECTS_SCHEMA = REPO / "workflow" / "schemas" / "subjects.schema.yaml"
SAFE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
# Sections that moved: an old config names them, the error says where they went.
MOVED = {"train": "families.edn (each renderer family has its settings under families.<name>; "
                  "list what to train under models:)"}


def _with_defaults(cls):
    """A validator class that also fills in `default`s of the schema's properties."""
    validate_properties = cls.VALIDATORS["properties"]

    def set_defaults(validator, properties, instance, schema):
        if isinstance(instance, dict):
            for key, sub in properties.items():
                if "default" in sub and key not in instance:
                    instance[key] = _copy(sub["default"])
                elif sub.get("type") == "object" and key not in instance and \
                        "properties" in sub:
                    instance[key] = {}
        yield from validate_properties(validator, properties, instance, schema)

    return jsonschema.validators.extend(cls, {"properties": set_defaults})


def _copy(value):
    return yaml.safe_load(yaml.safe_dump(value))


_Validator = _with_defaults(jsonschema.Draft7Validator)


@functools.cache
def _schema(path=CONFIG_SCHEMA) -> dict:
    return yaml.safe_load(Path(path).read_text())


def validate_config(config: dict, source="config/config.yaml", schema_path=CONFIG_SCHEMA,
                    command_line: dict | None = None) -> dict:
    """Validate `config` in place, fill defaults, and return it; raise a PoseAnimateError.

    `command_line` holds the values given with `snakemake --config key=value`: an error in one
    of those is blamed on the command line, not on the file."""
    schema = _schema(schema_path)
    errors = sorted(_Validator(schema).iter_errors(config), key=lambda e: list(e.path))
    if errors:
        err = errors[0]
        top = err.absolute_path[0] if err.absolute_path else None
        if command_line and top in command_line:
            source = f"--config {top}={command_line[top]!r}"
        raise PoseAnimateError(_explain(err, schema), path=source, fix=_fix(err, schema))
    # Keys in one order whatever order the files wrote them in: Snakemake compares a rule's
    # params with their order, so reordering a YAML file would rerun every stage.
    for key in list(config):
        config[key] = _sorted_keys(config.pop(key))
    return config


def _sorted_keys(value):
    if isinstance(value, dict):
        return {k: _sorted_keys(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list):
        return [_sorted_keys(v) for v in value]
    return value


def check_yaml_syntax(path) -> None:
    """Raise a PoseAnimateError naming the line and column of a YAML syntax error in `path`
    (Snakemake's own message for one names neither)."""
    path = Path(path)
    try:
        yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise PoseAnimateError(f"{where}YAML syntax error ({problem}).", path=path,
                               fix="check the indentation (spaces, not tabs), colons and "
                                   "brackets on that line and the one before.")


def configured_path(value, key: str, what: str, kind: str = "file") -> Path:
    """The local file, folder or program (`kind`) that config key `key` names, checked to be
    there; an error naming the key otherwise (nothing is ever downloaded in its place). A
    program may also be a name on PATH."""
    if not value:
        raise PoseAnimateError(f"{key} is not set: it names {what}.", path="config",
                               fix=f"set {key} to its path on this machine.")
    found = shutil.which(value) if kind == "program" else None
    path = Path(os.path.expanduser(found or value))
    there = path.is_dir() if kind == "folder" else path.is_file()
    if kind == "program":
        there = there and os.access(path, os.X_OK)
    if not there:
        raise PoseAnimateError(
            f"{key} is {value!r}: no such {'executable' if kind == 'program' else kind}.",
            path="config", fix=f"set {key} to {what} on this machine (installed programs and "
                               "weights are never downloaded).")
    return path


def settings(section: str, values: dict | None = None, **overrides) -> dict:
    """One section of the configuration (dotted for nested ones: "families.edn"), validated,
    with every default filled in: what a stage function takes as its `settings`.

    The workflow passes the validated section; library users write
    `settings("frames", size=256)`.
    """
    schema = _schema()
    for key in section.split("."):
        schema = schema["properties"][key]
    section_values = copy.deepcopy({**(values or {}), **overrides})
    errors = sorted(_Validator(schema).iter_errors(section_values), key=lambda e: list(e.path))
    if errors:
        raise PoseAnimateError(_explain(errors[0], schema, section),
                               fix=_fix(errors[0], schema))
    return section_values


def _dotted(path, section: str = "") -> str:
    return ".".join([section] * bool(section) + [str(p) for p in path]) or "(top level)"


def _explain(err, schema, section: str = "") -> str:
    where = _dotted(err.absolute_path, section)
    if err.validator == "additionalProperties":
        unknown = sorted(set(err.instance) - set(err.schema.get("properties", {})))
        return f"unknown key '{unknown[0]}' in {where}."
    if err.validator == "type":
        return (f"'{where}' must be of type {err.validator_value}, "
                f"got {err.instance!r}.")
    if "propertyNames" in err.schema_path:
        return f"'{err.instance}' in {where} is not a safe name (it names a folder)."
    if err.validator == "enum":
        return f"'{where}' must be one of {err.validator_value}, got {err.instance!r}."
    return f"'{where}': {err.message}."


def _fix(err, schema) -> str:
    if err.validator == "additionalProperties":
        known = list(err.schema.get("properties", {}))
        unknown = sorted(set(err.instance) - set(known))[0]
        if not err.absolute_path and unknown in MOVED:
            return f"'{unknown}' moved to {MOVED[unknown]}."
        close = difflib.get_close_matches(str(unknown), known, n=1)
        hint = f"did you mean '{close[0]}'? " if close else ""
        return f"{hint}Known keys here: {', '.join(known)}."
    if "propertyNames" in err.schema_path:
        return ("use letters, digits, '_', '-' and '.', starting with a letter or digit, "
                "without '/' or '__'.")
    desc = err.schema.get("description")
    return f"see workflow/schemas/config.schema.yaml{': ' + desc if desc else '.'}"


def load_config(path) -> dict:
    path = Path(path)
    check_yaml_syntax(path)
    try:
        config = yaml.safe_load(path.read_text()) or {}
    except OSError as exc:
        raise PoseAnimateError(f"cannot read the configuration ({exc}).", path=path,
                               fix="check the file exists and is readable.")
    return validate_config(config, source=path)


def _read_sheet(path: Path) -> pd.DataFrame:
    """The sheet's rows as strings. Lines starting with `#` are comments; a `#` elsewhere is
    part of a value (file names may hold one). Tabs separate the fields: a row with spaces and
    no tab, or with more fields than the header, is an error that names the row."""
    fix = "the sheet is tab-separated with a header row: subject<TAB>video[<TAB>keypoints]."
    if not path.is_file():
        raise PoseAnimateError(
            "the subject sheet does not exist.", path=path,
            fix="create it (one row per video: subject<TAB>video), or point the config's "
                "'subjects:' at yours (e.g. --config subjects=my_subjects.tsv).")
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()  # -sig: Excel's BOM
    except (OSError, UnicodeDecodeError) as exc:
        raise PoseAnimateError(f"cannot read the subject sheet ({exc}).", path=path, fix=fix)
    rows = [(i, line.rstrip("\r").split("\t")) for i, line in enumerate(lines, start=1)
            if line.strip() and not line.lstrip().startswith("#")]
    if not rows:
        raise PoseAnimateError("the subject sheet is empty: nothing to run.", path=path, fix=fix)
    (_, header), body = rows[0], rows[1:]
    for i, fields in rows:
        if len(fields) == 1 and " " in fields[0].strip():
            raise PoseAnimateError(f"line {i} has spaces but no tab: {fields[0].strip()!r}.",
                                   path=path, fix=fix)
        if len(fields) > len(header) and any(f.strip() for f in fields[len(header):]):
            raise PoseAnimateError(
                f"line {i} has {len(fields)} fields but the header names {len(header)} "
                f"columns ({', '.join(h.strip() for h in header)}).", path=path,
                fix="remove the extra field, or name its column in the header; " + fix)
    if not body:
        raise PoseAnimateError("the subject sheet lists no videos: nothing to run.", path=path,
                               fix="add one row per video under the header: "
                                   "subject<TAB>video.")
    width = len(header)
    table = [(fields + [""] * width)[:width] for _, fields in body]
    sheet = pd.DataFrame(table, columns=header, dtype=str)
    sheet.attrs["lines"] = [i for i, _ in body]
    return sheet


def load_subjects(path, *, generated=(), base=None) -> pd.DataFrame:
    """Read and check the subject sheet (TSV): one row per video.

    `generated` are paths that the workflow itself makes (the demo videos): they need not
    exist yet. Relative paths are taken from `base` (the working directory by default).
    """
    path = Path(path)
    base = Path(base) if base else Path.cwd()
    sheet = _read_sheet(path)
    lines = sheet.attrs["lines"]
    sheet.columns = [c.strip() for c in sheet.columns]
    schema = yaml.safe_load(SUBJECTS_SCHEMA.read_text())
    known = list(schema["properties"])
    for col in sheet.columns:
        if col not in known:
            close = difflib.get_close_matches(col, known, n=1)
            raise PoseAnimateError(
                f"unknown column '{col}'.", path=path,
                fix=(f"did you mean '{close[0]}'? " if close else "")
                + f"Columns are: {', '.join(known)}.")
    for col in schema["required"]:
        if col not in sheet.columns:
            raise PoseAnimateError(f"missing column '{col}'.", path=path,
                                   fix=f"the header must hold {', '.join(schema['required'])}.")
    if "keypoints" not in sheet.columns:
        sheet["keypoints"] = ""
    sheet = sheet.apply(lambda c: c.str.strip())
    for col in ("video", "keypoints"):  # ~/videos/a.mp4 as a shell would read it
        sheet[col] = [os.path.expanduser(v) if v.startswith("~") else v for v in sheet[col]]
    generated = {str(Path(g)) for g in generated}
    seen = {}
    for i, row in zip(lines, sheet.itertuples(index=False)):
        where = f"row {i} (subject '{row.subject}')"
        if not SAFE_ID.match(row.subject) or "__" in row.subject:
            raise PoseAnimateError(
                f"{where}: '{row.subject}' is not a safe subject id.", path=path,
                fix="use letters, digits, '_', '-' and '.', starting with a letter or digit, "
                    "without '__' (it separates target and driving in render folders).")
        if row.subject.lower() in seen:
            other, j = seen[row.subject.lower()]
            same = "duplicate subject id" if other == row.subject else \
                f"subject id '{row.subject}' differs from '{other}' only in case (their " \
                "folders collide on case-insensitive disks)"
            raise PoseAnimateError(f"{where}: {same} (also row {j}).",
                                   path=path, fix="give every row its own subject id.")
        seen[row.subject.lower()] = (row.subject, i)
        if not row.video:
            raise PoseAnimateError(f"{where}: the video column is empty.", path=path,
                                   fix="give a video file or a folder of images.")
        video = Path(row.video)
        if str(video) not in generated and not (base / video).exists():
            raise PoseAnimateError(f"{where}: video '{row.video}' does not exist.", path=path,
                                   fix="correct the path (relative paths are from the "
                                       "working directory, the repository root) or "
                                       "remove the row.")
        if row.keypoints and not (base / row.keypoints).exists():
            raise PoseAnimateError(f"{where}: keypoints '{row.keypoints}' do not exist.",
                                   path=path, fix="give a folder of OpenPose JSON or an "
                                                  "AlphaPose results file, or leave it empty.")
    return sheet.set_index("subject", drop=False)


def dataset_subjects(config: dict, name: str, where: str, source) -> tuple[list, list]:
    """(train, test) subjects of the dataset `name`, for the entry `where` that names it."""
    if name not in config["datasets"]:
        raise PoseAnimateError(f"{where}: no dataset '{name}' in datasets:.", path=source,
                               fix="define it under datasets: with train and test subject "
                                   "lists.")
    return config["datasets"][name]["train"], config["datasets"][name]["test"]


def check_datasets(config: dict, subjects, source="config/config.yaml") -> dict:
    """The `datasets:` section against the subject sheet: every named subject exists, a train
    list is not empty, no subject is in both lists, a dataset is not named like a subject."""
    known = set(subjects)
    for name, lists in config["datasets"].items():
        where = f"datasets.{name}"
        if not SAFE_ID.match(name) or "__" in name:
            raise PoseAnimateError(f"'{name}' is not a safe dataset name.", path=source,
                                   fix="use letters, digits, '_', '-' and '.', without '__'.")
        if name in known:
            raise PoseAnimateError(f"{where}: '{name}' is also a subject's name.", path=source,
                                   fix="name the dataset apart from every subject (models and "
                                       "results of both live under that name).")
        if not lists["train"]:
            raise PoseAnimateError(f"{where}.train is empty.", path=source,
                                   fix="list the subjects to train on.")
        for role in ("train", "test"):
            for subject in lists[role]:
                if subject not in known:
                    close = difflib.get_close_matches(subject, sorted(known), n=1)
                    raise PoseAnimateError(
                        f"{where}.{role}: '{subject}' is not a subject of the sheet.",
                        path=source, fix=(f"did you mean '{close[0]}'? " if close else "")
                        + "add it to the subject sheet or correct the name.")
        both = sorted(set(lists["train"]) & set(lists["test"]))
        if both:
            raise PoseAnimateError(f"{where}: {', '.join(both)} in both train and test.",
                                   path=source, fix="a test subject must be one the model "
                                                    "never saw: keep it in one list.")
    return config["datasets"]
