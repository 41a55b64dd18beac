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
])
def test_subject_sheet_errors_name_the_row_and_fix(tmp_path, text, needle):
    (tmp_path / "a.mp4").write_bytes(b"x")
    path = _sheet(tmp_path, text)
    with pytest.raises(PoseAnimateError) as err:
        load_subjects(path, base=tmp_path)
    assert needle in str(err.value) and str(path) in str(err.value) and "Fix:" in str(err.value)


def test_snakemake_reports_a_config_typo_with_the_fix(tmp_path):
    (tmp_path / "subjects.tsv").write_text("subject\tvideo\n")
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
