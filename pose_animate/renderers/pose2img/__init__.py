"""Pose2Img (the image module of "Speech Drives Templates", ICCV 2021): a speaker's upper body,
face and fingers from 137 keypoints and one source image of the speaker. `family.py` declares
it, `model.py` holds the networks and the inference step, `train.py` the training step."""
