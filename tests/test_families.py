"""pose_animate.renderers.families: the families' declarations and the validated plan of what
to train (models:) and render (renders:)."""

import pytest

from pose_animate.core.config import validate_config
from pose_animate.core.errors import PoseAnimateError
from pose_animate.renderers import engine, inference
from pose_animate.renderers.families import FAMILIES, driving_name, plan_models

SUBJECTS = ["alice", "bob"]


def test_every_family_has_a_declaration_a_model_and_a_training_step():
    assert set(FAMILIES) == set(inference.MODELS) == set(engine.TRAINING)
    for name, family in FAMILIES.items():
        defaults = validate_config({})["families"][name]
        parts = family.parts(defaults)
        assert {"frames", "openpose_json"} <= set(parts), name
        assert family.scope in ("subject", "dataset")


def test_edn_reads_what_its_settings_switch_on():
    edn = FAMILIES["edn"]
    settings = validate_config({"families": {"edn": {"use_background": True, "mask_weight": 1,
                                                     "use_iuv": True}}})["families"]["edn"]
    assert set(edn.parts(settings)) == {"frames", "openpose_json", "bg.jpg", "mask",
                                        "densepose"}


def plan(**config):
    return plan_models(validate_config(config), SUBJECTS)


def test_models_and_renders_make_a_plan():
    models = plan(models=[{"family": "edn", "subject": "alice"}],
                  renders=[{"target": "alice", "driving": "bob"}])  # family defaults to edn
    assert models == [{"family": "edn", "name": "alice", "scope": "subject", "train": ["alice"],
                       "test": ["alice"]}]


@pytest.mark.parametrize("config, needle", [
    ({"models": [{"family": "edn"}]}, r"models\[0\] needs exactly one of subject: or dataset:"),
    ({"models": [{"family": "edn", "subject": "alice", "dataset": "d"}]}, "exactly one"),
    ({"models": [{"family": "edn", "dataset": "d"}]}, "trains per subject, not per dataset"),
    ({"models": [{"family": "edn", "subject": "zed"}]}, "'zed' is not a subject"),
    ({"models": [{"family": "edn", "subject": "bob"}, {"family": "edn", "subject": "bob"}]},
     "listed twice"),
    ({"renders": [{"target": "alice", "driving": "bob"}]},
     r"renders\[0\] renders onto edn 'alice', which models: does not train.*subject: alice"),
    ({"models": [{"family": "edn", "subject": "alice"}],
      "renders": [{"target": "alice", "driving": "zed"}]}, "driving: 'zed' is not a subject"),
])
def test_plan_errors_name_the_entry_and_fix(config, needle):
    with pytest.raises(PoseAnimateError, match=needle):
        plan(**config)


def test_a_gesture_file_drives_a_render_under_its_own_name(tmp_path):
    talk = tmp_path / "talk show 1.npz"
    talk.write_bytes(b"")
    (tmp_path / "b").mkdir()
    other = tmp_path / "b" / "talk_show-1.npz"  # another file of the same name
    other.write_bytes(b"")
    alice = [{"family": "edn", "subject": "alice"}]
    plan(models=alice, renders=[{"target": "alice", "gestures": str(talk)}])
    assert driving_name({"gestures": str(talk)}) == "gestures-talk-show-1"
    assert driving_name({"driving": "bob"}) == "bob"
    for renders, needle in (
            ([{"target": "alice"}], r"renders\[0\] needs exactly one of driving: or gestures:"),
            ([{"target": "alice", "driving": "bob", "gestures": str(talk)}], "exactly one"),
            ([{"target": "alice", "gestures": str(tmp_path / "no.npz")}],
             r"renders\[0\].gestures: no file .*no.npz"),
            ([{"target": "alice", "gestures": str(talk)}] * 2,
             r"renders\[1\]: a second render named alice__gestures-talk-show-1"),
            ([{"target": "alice", "gestures": str(talk)},
              {"target": "alice", "family": "edn", "gestures": str(other)}],
             r"renders\[1\]: its gesture render is named gestures-talk-show-1, as another"),
            ([{"target": "alice", "gestures": str(talk)},
              {"target": "alice", "gestures": str(talk), "fps": 30}], "another file or frame")):
        with pytest.raises(PoseAnimateError, match=needle):
            plan(models=alice, renders=renders)


def test_an_unknown_family_is_refused_by_the_schema():
    with pytest.raises(PoseAnimateError, match="must be one of"):
        validate_config({"models": [{"family": "nerf", "subject": "alice"}]})
