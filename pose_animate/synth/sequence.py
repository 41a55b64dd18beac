"""A demo sequence: the scene built from the parameters, streamed one frame at a time with
its exact ground truth."""

from dataclasses import dataclass

import numpy as np

from ..densepose.texture import rerender
from .appearance import make_appearance, make_atlas, make_background
from .figure import make_body, part_shapes
from .motion import STYLES, make_motion, skeleton
from .pose import keypoints, part_frames
from .render import flow, iuv, rasterise

# Every generator parameter with its default (workflow/schemas/config.schema.yaml mirrors
# these for config.demo.figures; a test checks that they agree).
DEFAULTS = dict(
    seed=0, n_frames=48, size=256, fps=24.0,
    # camera framing: figure height (sole to crown) / frame side; shift of the figure as
    # fractions of the frame (x right, y down)
    scale=0.78, offset=[0.0, 0.04],
    # proportions (multipliers of the average figure)
    leg_length=1.0, arm_length=1.0, head_size=1.0, build=1.0,
    # motion
    style="groove", tempo_bpm=104.0, amplitude=1.0,
    # slow non-periodic drift of arms, elbows, sway and lean (0 keeps a strict dance cycle)
    variation=0.0,
    # appearance: RGB 0..255 colours and styles; None draws them from the seed
    skin=None, hair=None, shirt=None, trousers=None, shoes=None,
    shirt_pattern=None, sleeves=None, hair_style=None,
    # background motion in pixels per frame (a slowly panning camera); the figure stays put
    pan=[0.0, 0.0],
)


@dataclass
class SynthFrame:
    """One frame and its truth. Arrays are (H, W, ...) in frame pixels."""
    index: int
    image: np.ndarray        # BGR uint8
    keypoints: np.ndarray    # (137, 3) float32, OpenPose layout
    mask: np.ndarray         # uint8 0/255
    iuv: tuple               # (I uint8, U float32, V float32)
    flow: np.ndarray | None      # float32 (H, W, 2), frame t -> t+1; None on the last frame
    flow_inv: np.ndarray | None  # float32 (H, W, 2), frame t+1 -> t; None on the last frame
    background: np.ndarray   # BGR uint8, the clean background (read-only, shared by frames)


def resolve_params(params: dict) -> dict:
    """DEFAULTS updated with `params`; unknown names and bad values raise ValueError."""
    unknown = sorted(set(params) - set(DEFAULTS))
    if unknown:
        raise ValueError(f"unknown demo parameter(s) {unknown}; known: {sorted(DEFAULTS)}")
    p = {**DEFAULTS, **params}
    if int(p["size"]) < 32 or int(p["n_frames"]) < 1 or float(p["fps"]) <= 0:
        raise ValueError(f"need size >= 32, n_frames >= 1, fps > 0; got size={p['size']}, "
                         f"n_frames={p['n_frames']}, fps={p['fps']}")
    if p["style"] not in STYLES:
        raise ValueError(f"unknown style {p['style']!r}; one of {sorted(STYLES)}")
    p.update(seed=int(p["seed"]), size=int(p["size"]), n_frames=int(p["n_frames"]),
             fps=float(p["fps"]), offset=[float(v) for v in p["offset"]],
             pan=[float(v) for v in p["pan"]])
    return p


class Scene:
    """Everything fixed over a sequence: body, parts, atlas, motion, background."""

    def __init__(self, **params):
        p = self.params = resolve_params(params)
        self.size, self.fps = p["size"], p["fps"]
        self.appearance = make_appearance(
            p["seed"], skin=p["skin"], hair=p["hair"], shirt=p["shirt"],
            trousers=p["trousers"], shoes=p["shoes"], shirt_pattern=p["shirt_pattern"],
            sleeves=p["sleeves"], hair_style=p["hair_style"])
        self.body = make_body(p["scale"] * self.size, p["leg_length"], p["arm_length"],
                              p["head_size"], p["build"], self.appearance.hair_style)
        self.parts = part_shapes(self.body)
        self.atlas = make_atlas(self.parts, self.body, self.appearance)
        self.motion = make_motion(p["seed"], p["style"], p["tempo_bpm"], p["amplitude"],
                                  p["variation"])
        self.root_x = self.size * (0.5 + p["offset"][0])
        self.floor_y = self.size * (0.5 + p["offset"][1]) + 0.5 * self.body.height
        self.background = make_background(p["seed"], self.size,
                                          self.floor_y - 0.12 * self.body.height)
        self.pan = np.array(p["pan"])
        self._static_bg = None if self.pan.any() else self._background(0)

    def _background(self, index: int) -> np.ndarray:
        img = self.background.image(self.size, shift=self.pan * index)
        img.flags.writeable = False
        return img

    def background_at(self, index: int) -> np.ndarray:
        return self._static_bg if self._static_bg is not None else self._background(index)

    def pose_at(self, index: int):
        """(skeleton, part frames) at frame `index`."""
        sk = skeleton(self.body, self.motion, index / self.fps, self.root_x, self.floor_y)
        return sk, part_frames(self.parts, sk)

    def describe(self) -> dict:
        """What meta.json records about the scene."""
        return dict(params=self.params, appearance=self.appearance.describe(),
                    figure_height_px=self.body.height, floor_y=self.floor_y,
                    parts_in_drawing_order=[p.name for p in self.parts])


def render_sequence(seed=0, n_frames=48, size=256, fps=24, **params):
    """Yield SynthFrame objects one at a time (memory does not grow with n_frames)."""
    scene = Scene(seed=seed, n_frames=n_frames, size=size, fps=fps, **params)
    yield from scene_frames(scene)


def scene_frames(scene: Scene):
    n = scene.params["n_frames"]
    sk, frames = scene.pose_at(0)
    raster = rasterise(scene.parts, frames, scene.size)
    for t in range(n):
        if t + 1 < n:
            sk_next, frames_next = scene.pose_at(t + 1)
            raster_next = rasterise(scene.parts, frames_next, scene.size)
            fwd = flow(raster, frames_next, -scene.pan)
            bwd = flow(raster_next, frames, scene.pan)
        else:
            fwd = bwd = None
        I, U, V = iuv(raster, scene.parts)
        background = scene.background_at(t)
        yield SynthFrame(
            index=t, image=rerender(scene.atlas, I, U, V, background),
            keypoints=keypoints(scene.body, scene.parts, frames, sk),
            mask=np.where(I > 0, 255, 0).astype(np.uint8), iuv=(I, U, V), flow=fwd,
            flow_inv=bwd, background=background)
        if t + 1 < n:
            sk, frames, raster = sk_next, frames_next, raster_next
