import json
import re
import subprocess
import sys

import pytest
import yaml

from pose_animate.core.config import REPO, check_datasets, load_subjects, validate_config
from pose_animate.core.errors import PoseAnimateError


def test_shipped_config_is_valid_and_defaults_are_filled():
    config = yaml.safe_load((REPO / "config" / "config.yaml").read_text())
    validate_config(config)
    assert config["frames"]["crop"] in ("person", "center", "none")
    assert "max_frames" in config["frames"]  # a default the file leaves out


def test_defaults_fill_whole_missing_sections():
    config = validate_config({})
    assert config["frames"]["size"] == 512 and config["keypoints"]["backend"] == "mediapipe"


@pytest.mark.parametrize("config, needle, fix", [
    ({"frams": {}}, "unknown key 'frams'", "did you mean 'frames'"),
    ({"frames": {"szie": 3}}, "unknown key 'szie' in frames", "did you mean 'size'"),
    ({"frames": {"size": "big"}}, "'frames.size' must be of type", "square side"),
    ({"frames": {"crop": "face"}}, "must be one of ['person', 'center', 'none']", "schema"),
])
def test_config_errors_name_the_file_key_and_fix(config, needle, fix):
    with pytest.raises(PoseAnimateError) as err:
        validate_config(config, source="my.yaml")
    text = str(err.value)
    assert text.startswith("my.yaml: ") and needle in text and fix in text


def _sheet(tmp_path, text):
    path = tmp_path / "subjects.tsv"
    path.write_text(text)
    return path


def test_subject_sheet_reads_rows_and_generated_videos(tmp_path):
    (tmp_path / "a.mp4").write_bytes(b"x")
    path = _sheet(tmp_path, "subject\tvideo\tkeypoints\nalice\ta.mp4\t\nbob\tdemo/b.mp4\t\n")
    sheet = load_subjects(path, generated=["demo/b.mp4"], base=tmp_path)
    assert list(sheet.index) == ["alice", "bob"] and sheet.loc["alice", "keypoints"] == ""


@pytest.mark.parametrize("text, needle", [
    ("subject\tvideo\nalice\tmissing.mp4\n", "row 2 (subject 'alice'): video 'missing.mp4' does not exist"),
    ("subject\tvideo\nalice\ta.mp4\nalice\ta.mp4\n", "row 3 (subject 'alice'): duplicate subject id (also row 2)"),
    ("subject\tvideo\nbad/name\ta.mp4\n", "'bad/name' is not a safe subject id"),
    ("subject\tvideo\nx__y\ta.mp4\n", "'x__y' is not a safe subject id"),
    ("subject\tvidoe\nalice\ta.mp4\n", "unknown column 'vidoe'"),
    ("subject\nalice\n", "missing column 'video'"),
    ("subject\tvideo\tkeypoints\nalice\ta.mp4\tnone/\n", "keypoints 'none/' do not exist"),
    ("subject video\nalice a.mp4\n", "line 1 has spaces but no tab"),
    ("subject\tvideo\nalice\ta.mp4\tx\n", "line 2 has 3 fields but the header names 2"),
    ("subject\tvideo\nA\ta.mp4\na\ta.mp4\n", "'a' differs from 'A' only in case (their"),
    ("subject\tvideo\n# nobody yet\n", "lists no videos"),
    ("\n", "the subject sheet is empty"),
])
def test_subject_sheet_errors_name_the_row_and_fix(tmp_path, text, needle):
    (tmp_path / "a.mp4").write_bytes(b"x")
    path = _sheet(tmp_path, text)
    with pytest.raises(PoseAnimateError) as err:
        load_subjects(path, base=tmp_path)
    assert needle in str(err.value) and str(path) in str(err.value) and "Fix:" in str(err.value)


def test_subject_sheet_comments_are_whole_lines_and_a_hash_can_name_a_file(tmp_path):
    (tmp_path / "take#2.mp4").write_bytes(b"x")
    path = _sheet(tmp_path, "# my subjects\nsubject\tvideo\n\n  # bob later\nalice\ttake#2.mp4\n")
    sheet = load_subjects(path, base=tmp_path)
    assert sheet.loc["alice", "video"] == "take#2.mp4"
    with pytest.raises(PoseAnimateError, match="row 6 .subject 'x'.: video 'gone.mp4'"):
        load_subjects(_sheet(tmp_path, "# c\nsubject\tvideo\nalice\ttake#2.mp4\n# c\n\n"
                             "x\tgone.mp4\n"), base=tmp_path)


def test_a_sheet_saved_by_excel_with_a_byte_order_mark_reads(tmp_path):
    (tmp_path / "a.mp4").write_bytes(b"x")
    path = tmp_path / "subjects.tsv"
    path.write_bytes("subject\tvideo\r\nalice\ta.mp4\r\n".encode("utf-8-sig"))
    assert list(load_subjects(path, base=tmp_path).index) == ["alice"]


def test_a_video_path_under_the_home_folder_is_expanded(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    (tmp_path / "a.mp4").write_bytes(b"x")
    sheet = load_subjects(_sheet(tmp_path, "subject\tvideo\nalice\t~/a.mp4\n"))
    assert sheet.loc["alice", "video"] == str(tmp_path / "a.mp4")


def test_a_missing_subject_sheet_says_how_to_point_at_one(tmp_path):
    with pytest.raises(PoseAnimateError) as err:
        load_subjects(tmp_path / "nope.tsv")
    assert "does not exist" in str(err.value) and "--config subjects=" in str(err.value)


def test_snakemake_reports_a_config_typo_with_the_fix(tmp_path):
    (tmp_path / "subjects.tsv").write_text("subject\tvideo\nx\tx.mp4\n")
    (tmp_path / "c.yaml").write_text("subjects: subjects.tsv\nflow_typo: {}\n")
    run = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--snakefile",
                          str(REPO / "Snakefile"), "--configfile", "c.yaml"],
                         cwd=tmp_path, capture_output=True, text=True)
    assert run.returncode != 0
    assert "unknown key 'flow_typo'" in run.stdout + run.stderr


def test_an_old_train_section_says_where_it_moved():
    with pytest.raises(PoseAnimateError, match="'train' moved to families.edn"):
        validate_config({"train": {"steps": 10}})


SUBJECTS = ["alice", "bob", "carol"]


@pytest.mark.parametrize("datasets, needle", [
    ({"d": {"train": ["alice", "bobb"]}}, "datasets.d.train: 'bobb' is not a subject.*'bob'"),
    ({"d": {"train": []}}, "datasets.d.train is empty"),
    ({"d": {"train": ["alice", "bob"], "test": ["bob"]}}, "bob in both train and test"),
    ({"alice": {"train": ["bob"]}}, "'alice' is also a subject's name"),
    ({"a__b": {"train": ["bob"]}}, "not a safe dataset name"),
])
def test_dataset_errors_name_the_dataset_and_fix(datasets, needle):
    config = validate_config({"datasets": datasets})
    with pytest.raises(PoseAnimateError, match=needle):
        check_datasets(config, SUBJECTS)


def test_datasets_are_checked_and_test_lists_default_to_empty():
    config = validate_config({"datasets": {"dancers": {"train": ["alice", "bob"]},
                                           "held": {"train": ["alice"], "test": ["carol"]}}})
    assert check_datasets(config, SUBJECTS)["dancers"]["test"] == []
    with pytest.raises(PoseAnimateError, match="required property"):
        validate_config({"datasets": {"d": {"test": ["alice"]}}})


def test_a_yaml_syntax_error_names_its_line_and_column(tmp_path):
    from pose_animate.core.config import check_yaml_syntax

    path = tmp_path / "config.yaml"
    path.write_text("subjects: subjects.tsv\nmodels: [\n  {family: edn\nrenders: []\n")
    with pytest.raises(PoseAnimateError, match=r"config.yaml: line 4, column 8: YAML syntax "
                                               r"error \(expected ',' or '}'"):
        check_yaml_syntax(path)


def _dry_run(tmp_path, *args):
    (tmp_path / "subjects.tsv").write_text("subject\tvideo\nx\tx.mp4\n")
    (tmp_path / "x.mp4").write_bytes(b"x")
    run = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--snakefile",
                          str(REPO / "Snakefile"), *args], cwd=tmp_path, capture_output=True,
                         text=True)
    assert run.returncode != 0
    return run.stdout + run.stderr


def test_snakemake_names_the_line_of_a_syntax_error_in_the_default_config(tmp_path):
    (tmp_path / "config").mkdir()
    (tmp_path / "config" / "config.yaml").write_text("subjects: subjects.tsv\nframes:\n"
                                                      "  size: 128\n   fps: 12\n")
    output = _dry_run(tmp_path)
    assert "config/config.yaml: line 4, column 7: YAML syntax error" in output


def test_a_bad_command_line_value_is_blamed_on_the_command_line(tmp_path):
    (tmp_path / "c.yaml").write_text("subjects: subjects.tsv\n")
    output = _dry_run(tmp_path, "--configfile", "c.yaml", "--config", "frames={size: x")
    assert "--config frames='{size: x': 'frames' must be of type object" in output
    assert "c.yaml:" not in output


@pytest.mark.parametrize("name", ["../x", "a/b", "a__b", ".hidden"])
def test_a_demo_figure_named_like_a_path_is_refused(name):
    with pytest.raises(PoseAnimateError, match=f"'{re.escape(name)}' in demo.figures is not a "
                                               "safe name.*Fix: use letters"):
        validate_config({"demo": {"figures": {name: {"seed": 1}}}})


def test_validated_sections_have_one_key_order_whatever_the_file_wrote():
    a = validate_config({"subjects": "s.tsv", "frames": {"size": 96, "crop": "person"},
                         "demo": {"figures": {"x": {"seed": 1, "fps": 12}}}})
    b = validate_config({"demo": {"figures": {"x": {"fps": 12, "seed": 1}}},
                         "frames": {"crop": "person", "size": 96}, "subjects": "s.tsv"})
    for section in ("frames", "demo", "keypoints"):
        assert json.dumps(a[section]) == json.dumps(b[section])  # params compare in order
    assert list(a["frames"]) == sorted(a["frames"])
