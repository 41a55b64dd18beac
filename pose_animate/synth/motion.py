"""Dance cycles of the demo figure: joint angles as sums of sinusoids on the beat, with
phases and amplitudes drawn from a seed; legs placed by two-bone inverse kinematics so that
the feet stay on the floor line unless they step.

Angles are measured from straight down, positive towards the image's right; `side` is -1
for the figure's right limbs (image left) and +1 for its left limbs, so side * angle is
"outwards".
"""

from dataclasses import dataclass

import numpy as np

from .figure import FOOT_ANGLE, Body

# Per style, as fractions of the figure's height (sway, bounce, step, lift) or radians.
STYLES = {
    # hip sway and bounce, arms out with elbows bending up, side steps
    "groove": dict(sway=0.03, bounce=0.018, lean=0.06, head=0.1, step=0.06, lift=0.03,
                   march=0.0, arm=0.55, arm_amp=0.35, elbow=0.65, elbow_amp=0.5, elbow_dir=1),
    # arms raised and waving above the shoulders, small steps
    "wave": dict(sway=0.025, bounce=0.015, lean=0.05, head=0.08, step=0.03, lift=0.02,
                 march=0.0, arm=1.9, arm_amp=0.3, elbow=0.55, elbow_amp=0.45, elbow_dir=1),
    # knees lifting in turn, arms swinging with the elbows bent
    "march": dict(sway=0.015, bounce=0.012, lean=0.03, head=0.06, step=0.0, lift=0.06,
                  march=1.0, arm=0.25, arm_amp=0.2, elbow=0.9, elbow_amp=0.35, elbow_dir=-1),
}


def unit(angle):
    """The direction `angle` radians from straight down, towards the image's right."""
    return np.array([np.sin(angle), np.cos(angle)])


def rot90(v):
    """v turned a quarter turn: up -> image right, down -> image left."""
    return np.array([-v[1], v[0]])


@dataclass(frozen=True)
class Motion:
    style: str
    tempo_bpm: float
    amplitude: float
    phase: dict       # radians, drawn from the seed
    gain: dict        # amplitude jitter, drawn from the seed
    variation: float = 0.0  # strength of the slow non-periodic drift (0: a strict cycle)
    drift: dict | None = None  # phases of the drift terms, drawn from the seed


# Drift frequencies as multiples of the beat: irrational ratios, so that with variation > 0
# no pose of the clip comes back (a renderer's held-out frames then hold new poses).
DRIFT_RATE = {"arm_r": 0.0917, "arm_l": 0.1291, "elbow_r": 0.1523, "elbow_l": 0.0769,
              "sway": 0.0613, "lean": 0.1087}


def make_motion(seed: int, style="groove", tempo_bpm=104.0, amplitude=1.0,
                variation=0.0) -> Motion:
    if style not in STYLES:
        raise ValueError(f"unknown motion style {style!r}; one of {sorted(STYLES)}")
    rng = np.random.default_rng([seed, 1])
    keys = ["sway", "lean", "head", "head2", "arm_r", "arm_l", "arm2_r", "arm2_l", "elbow_r",
            "elbow_l", "wrist_r", "wrist_l"]
    phase = {k: float(rng.uniform(0, 2 * np.pi)) for k in keys}
    # the two arms move roughly in opposition
    phase["arm_l"] = phase["arm_r"] + np.pi + float(rng.uniform(-0.6, 0.6))
    gain = {k: float(rng.uniform(0.8, 1.2)) for k in keys}
    # a separate stream, so that variation=0 clips stay what they were for every seed
    drift_rng = np.random.default_rng([seed, 2])
    drift = {k: float(drift_rng.uniform(0, 2 * np.pi)) for k in DRIFT_RATE}
    return Motion(style, float(tempo_bpm), float(amplitude), phase, gain, float(variation),
                  drift)


def _smoothstep(p):
    p = np.clip(p, 0.0, 1.0)
    return p * p * (3 - 2 * p)


def _step_cycle(q, move=0.125):
    """A foot that steps out at q=0 and back at q=0.5 (q in cycles): (offset 0..1, lift 0..1)."""
    q = q % 1.0
    if q < move:
        p = q / move
        return _smoothstep(p), np.sin(np.pi * p)
    if q < 0.5:
        return 1.0, 0.0
    if q < 0.5 + move:
        p = (q - 0.5) / move
        return 1.0 - _smoothstep(p), np.sin(np.pi * p)
    return 0.0, 0.0


def _march_cycle(q):
    """A foot lifted during the first half of each cycle (q in cycles): lift 0..1."""
    q = q % 1.0
    return np.sin(np.pi * q / 0.5) ** 2 if q < 0.5 else 0.0


def _two_bone(root, target, l1, l2, bend_sign):
    """Middle joint of a two-bone chain from `root` reaching `target` (clamped to reach)."""
    d = target - root
    dist = float(np.hypot(*d))
    reach = 0.999 * (l1 + l2)
    if dist > reach:
        target = root + d * (reach / dist)
        d, dist = target - root, reach
    cos_a = np.clip((l1 * l1 + dist * dist - l2 * l2) / (2 * l1 * dist), -1.0, 1.0)
    a = bend_sign * np.arccos(cos_a)
    u = d / dist
    rot = np.array([[np.cos(a), -np.sin(a)], [np.sin(a), np.cos(a)]])
    return root + l1 * (rot @ u), target


def skeleton(body: Body, motion: Motion, t: float, root_x: float, floor_y: float) -> dict:
    """Joint positions (image pixels) and part directions of the figure at time t seconds.

    root_x: where the figure stands (midline); floor_y: the floor line under its soles.
    """
    st, amp, ph, g = STYLES[motion.style], motion.amplitude, motion.phase, motion.gain
    H = body.height
    beat = t * motion.tempo_bpm / 60.0
    w = 2 * np.pi * beat
    sk = {}
    drift = {k: motion.variation * np.sin(2 * np.pi * rate * beat + motion.drift[k])
             for k, rate in DRIFT_RATE.items()}

    # pelvis: sway every two beats, down on each beat; the torso leans with the sway
    sway = amp * st["sway"] * H * g["sway"] * (np.sin(w / 2 + ph["sway"]) + drift["sway"])
    down = amp * st["bounce"] * H * (0.5 - 0.5 * np.cos(w))
    lean = amp * st["lean"] * g["lean"] * (np.sin(w / 2 + ph["sway"] + 0.5)
                                           + 0.3 * np.sin(w + ph["lean"]) + drift["lean"])
    up = -unit(lean)  # pointing up, leaning towards the image's right for lean > 0
    across = rot90(up)  # towards the figure's left (image right)

    # feet: planted on the floor line; side steps (groove, wave) or knee lifts (march)
    ankles, lifts = {}, {}
    for side in (-1, 1):
        if st["march"]:
            out, lift = 0.0, _march_cycle(beat / 2 + (0.5 if side > 0 else 0.0))
        else:
            out, lift = _step_cycle(beat / 4 + (0.25 if side > 0 else 0.0))
        ankles[side] = np.array([root_x + side * (body.stance_x + amp * st["step"] * H * out),
                                 floor_y - body.ankle - amp * st["lift"] * H * lift])
        lifts[side] = float(lift)
    # the pelvis goes down further where a leg could not reach its foot (knees stay bent)
    midhip = np.array([root_x + sway, floor_y - body.standing_hip_height() + down])
    reach = 0.995 * (body.thigh + body.shin)
    for side in (-1, 1):
        hip = midhip + side * body.hip_x * across
        dx = ankles[side][0] - hip[0]
        need = ankles[side][1] - hip[1] - np.sqrt(max(reach * reach - dx * dx, 0.0))
        midhip[1] += max(need, 0.0)
    neck = midhip + body.torso * up
    sk.update(midhip=midhip, neck=neck, up=up)
    head_tilt = amp * st["head"] * (g["head"] * np.sin(w + ph["head"])
                                    + 0.4 * np.sin(w / 2 + ph["head2"]))
    sk["head_up"] = -unit(lean + head_tilt)

    for side, tag in ((-1, "r"), (1, "l")):
        name = "R" if side < 0 else "L"
        shoulder = neck + side * body.shoulder_x * across - body.shoulder_drop * up
        raise_ = st["arm"] + amp * st["arm_amp"] * g[f"arm_{tag}"] * (
            0.75 * np.sin(w / 2 + ph[f"arm_{tag}"]) + 0.25 * np.sin(w + ph[f"arm2_{tag}"])
            + drift[f"arm_{tag}"])
        bend = st["elbow"] + amp * st["elbow_amp"] * g[f"elbow_{tag}"] * (np.sin(
            w / 2 + ph[f"elbow_{tag}"]) + drift[f"elbow_{tag}"])
        a_upper = lean + side * raise_
        a_fore = a_upper + side * st["elbow_dir"] * bend
        a_hand = a_fore + side * 0.2 * np.sin(w + ph[f"wrist_{tag}"])
        elbow = shoulder + body.upper_arm * unit(a_upper)
        wrist = elbow + body.forearm * unit(a_fore)
        sk.update({f"{name}Shoulder": shoulder, f"{name}Elbow": elbow, f"{name}Wrist": wrist,
                   f"{name}HandDir": unit(a_hand)})

        hip = midhip + side * body.hip_x * across
        # knees bend outwards (the figure's right knee towards the image's left)
        knee, ankle = _two_bone(hip, ankles[side], body.thigh, body.shin, -side)
        sk.update({f"{name}Hip": hip, f"{name}Knee": knee, f"{name}Ankle": ankle,
                   f"{name}FootDir": unit(side * FOOT_ANGLE * (1 - 0.25 * lifts[side])),
                   f"{name}Lift": lifts[side]})
    return sk

