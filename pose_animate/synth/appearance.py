"""What the demo figure looks like: colours drawn from a seed, the painted 24-part texture
atlas, and the background.

The atlas follows the contract of DESIGN.md "Texture" (1200 x 800, tile column i / row j
holds part 6*i + j + 1, indexed [v, u] with v flipped). Shading (darker towards a limb's
silhouette, as on a cylinder) is baked into the atlas, so the rendered figure is exactly
atlas sampled at the IUV; tiles of parts the figure never shows (back views) are black.
"""

from dataclasses import dataclass

import numpy as np

from ..densepose.texture import ATLAS_SHAPE, TILE, tile_origin
from .figure import (EYE, BROW_Y, FACE_HALF_WIDTH, MOUTH, NOSTRIL_Y, Body, PartShape,
                     head_regions, torso_half_width)


# RGB palettes the seed draws from.
SKIN = [(255, 219, 172), (241, 194, 125), (224, 172, 105), (198, 134, 66), (141, 85, 36),
        (234, 192, 160)]
HAIR = [(40, 28, 20), (90, 56, 37), (150, 100, 50), (20, 20, 22), (200, 160, 90), (110, 40, 30)]
SHIRT = [(200, 40, 40), (40, 90, 180), (30, 140, 80), (230, 180, 40), (120, 60, 160),
         (30, 160, 170), (220, 110, 30), (235, 235, 230)]
TROUSERS = [(40, 50, 80), (60, 60, 62), (110, 80, 50), (30, 30, 35), (70, 95, 130),
            (150, 130, 100)]
SHOES = [(30, 30, 30), (235, 235, 235), (120, 60, 30), (170, 30, 30)]
IRIS = [(70, 45, 25), (60, 100, 150), (60, 110, 70), (40, 30, 25)]
WALL = [(205, 208, 212), (218, 204, 182), (186, 204, 194), (196, 186, 206), (176, 190, 208)]
FLOOR = [(126, 94, 64), (140, 140, 138), (104, 84, 72), (164, 134, 100)]
PATTERNS = ("plain", "stripes", "checks", "dots")


@dataclass(frozen=True)
class Appearance:
    """Colours are RGB floats in 0..1."""
    skin: tuple
    hair: tuple
    shirt: tuple
    shirt_accent: tuple
    trousers: tuple
    shoes: tuple
    iris: tuple
    shirt_pattern: str
    sleeves: str
    hair_style: str

    def describe(self) -> dict:
        """JSON-able description (colours as RGB 0..255), for meta.json."""
        out = {}
        for k, v in self.__dict__.items():
            out[k] = [int(round(x * 255)) for x in v] if isinstance(v, tuple) else v
        return out


def _rgb(value):
    return tuple(float(x) / 255.0 for x in value)


def make_appearance(seed: int, skin=None, hair=None, shirt=None, trousers=None, shoes=None,
                    shirt_pattern=None, sleeves=None, hair_style=None) -> Appearance:
    """Colours (RGB 0..255 lists) and styles; each left as None is drawn from the seed."""
    rng = np.random.default_rng([seed, 0])

    def pick(given, palette):
        drawn = palette[rng.integers(len(palette))]  # drawn always: keeps the stream stable
        return _rgb(given if given is not None else drawn)

    skin_c, hair_c = pick(skin, SKIN), pick(hair, HAIR)
    shirt_c, trousers_c = pick(shirt, SHIRT), pick(trousers, TROUSERS)
    shoes_c, iris_c = pick(shoes, SHOES), pick(None, IRIS)
    pattern = PATTERNS[rng.integers(len(PATTERNS))]
    sleeve = ("short", "long")[rng.integers(2)]
    hair_s = ("short", "long")[rng.integers(2)]
    # the pattern's second colour: a light or dark version of the shirt, whichever contrasts
    lum = 0.3 * shirt_c[0] + 0.59 * shirt_c[1] + 0.11 * shirt_c[2]
    accent = tuple(0.35 * x for x in shirt_c) if lum > 0.55 else tuple(
        x + 0.6 * (1 - x) for x in shirt_c)
    return Appearance(skin_c, hair_c, shirt_c, accent, trousers_c, shoes_c, iris_c,
                      shirt_pattern or pattern, sleeves or sleeve, hair_style or hair_s)


# ---- painting ---------------------------------------------------------------------------

def _mix(a, b, m):
    """Blend colour arrays: a where m = 0, b where m = 1 (m broadcasts over channels)."""
    m = np.asarray(m, np.float64)[..., None]
    return np.asarray(a) * (1 - m) + np.asarray(b) * m


def _soft(x, sharp=6.0):
    """0..1 from a signed value, smooth over about 1/sharp."""
    return 0.5 + 0.5 * np.tanh(sharp * x)


def _cylinder(c, radius):
    """Shading across a limb or the torso: 1 on the centre line, darker to the silhouette."""
    r = np.clip(np.abs(c) / np.maximum(radius, 1e-6), 0, 1)
    return 0.72 + 0.28 * np.sqrt(1 - r * r)


def _pattern(app: Appearance, s, c, period):
    """The shirt's pattern (0 = shirt colour, 1 = accent) in the part's pixel coordinates."""
    ps, pc = np.sin(2 * np.pi * s / period), np.sin(2 * np.pi * c / period)
    if app.shirt_pattern == "stripes":
        return _soft(ps, 4)
    if app.shirt_pattern == "checks":
        return 0.5 * _soft(ps, 4) + 0.5 * _soft(pc, 4)
    if app.shirt_pattern == "dots":
        ds = (s / period) % 1 - 0.5
        dc = (c / period) % 1 - 0.5
        return _soft(0.22 - np.hypot(ds, dc), 25)
    return np.zeros(np.broadcast(s, c).shape)


def _shirt(app, body, s, c):
    return _mix(app.shirt, app.shirt_accent, _pattern(app, s, c, 0.055 * body.height))


def _paint_torso(part, body, app, s, c):
    half = torso_half_width(body, s)
    col = _shirt(app, body, s, c)
    # the waistband sits above the hip joints (MidHip is s = 0), as on a person
    waist = 0.2 * body.torso
    belt = (s < waist) & (s > waist - 0.035 * body.torso)
    col = np.where(belt[..., None], np.array(app.trousers) * 0.55, col)
    col = np.where((s <= waist - 0.035 * body.torso)[..., None], np.array(app.trousers), col)
    # a V neckline showing the skin under the neck
    depth = 0.07 * body.height
    vneck = np.abs(c) < body.r_neck * np.clip(1 - (part.geometry["top"] - s) / depth, 0, 1)
    col = np.where(vneck[..., None], np.array(app.skin) * 0.9, col)
    return col * _cylinder(c, half)[..., None]


def _paint_limb(part, body, app, s, c):
    g = part.geometry
    radius = g["r0"] + (g["r1"] - g["r0"]) * np.clip(s / g["length"], 0, 1)
    if part.kind == "leg":
        col = np.broadcast_to(np.array(app.trousers), s.shape + (3,)).copy()
        col *= (1 - 0.12 * np.exp(-(c / (0.08 * radius + 1e-6)) ** 2))[..., None]  # crease
    elif part.kind == "upper_arm" and app.sleeves == "short":
        sleeve = s < 0.55 * g["length"]
        col = np.where(sleeve[..., None], _shirt(app, body, s, c), np.array(app.skin))
    elif part.kind == "upper_arm" or app.sleeves == "long":
        col = _shirt(app, body, s, c)
        cuff = s > g["length"] + 0.5 * g["r1"]
        col = np.where(cuff[..., None], np.array(app.skin), col)
    else:
        col = np.broadcast_to(np.array(app.skin), s.shape + (3,)).copy()
    return col * _cylinder(c, radius)[..., None]


def _paint_hand(part, body, app, s, c):
    L = part.geometry["length"]
    shade = 0.8 + 0.2 * np.exp(-((s / L - 0.3) ** 2 + (c / L) ** 2) / 0.08)
    return np.array(app.skin) * shade[..., None]


def _paint_foot(part, body, app, s, c):
    g = part.geometry
    across = np.abs(c - g["heel"][1]) / g["r_toe"]
    col = np.array(app.shoes) * (0.7 + 0.3 * np.sqrt(np.clip(1 - across ** 2, 0, 1)))[..., None]
    # laces: a lighter stripe along the top of the shoe, towards the toes
    laces = (across < 0.18) & (s > g["heel"][0] + 0.3 * (g["toe"][0] - g["heel"][0]))
    return np.where(laces[..., None], col * 0.5 + 0.45, col)


def _paint_head(part, body, app, s, c):
    x, y = c / body.head, (s - body.neck) / body.head
    r = head_regions(body, x, y)
    skin = np.array(app.skin)
    shade = 0.8 + 0.2 * np.sqrt(np.clip(1 - (x / FACE_HALF_WIDTH) ** 2, 0, 1))
    col = skin * shade[..., None]
    col = np.where(r["neck"][..., None], skin * 0.88, col)
    col = np.where(r["ear"][..., None], skin * 0.85, col)
    # eyes: white, iris, pupil, a dark upper lid
    ex, ey = x - EYE["x"], y - EYE["y"]
    eye = (ex / EYE["semi_x"]) ** 2 + (ey / EYE["semi_y"]) ** 2
    col = np.where((eye <= 1)[..., None], np.array((0.95, 0.95, 0.93)), col)
    dist = np.hypot(ex, ey)
    col = np.where(((dist <= EYE["iris"]) & (eye <= 1))[..., None], np.array(app.iris), col)
    col = np.where((dist <= EYE["pupil"])[..., None], np.array((0.05, 0.04, 0.04)), col)
    lid = (eye > 0.55) & (eye <= 1.6) & (ey > 0.008)
    col = np.where(lid[..., None], skin * 0.35, col)
    brow = np.abs(y - (BROW_Y + 0.025 * (1 - ((x - 0.165) / 0.105) ** 2))) < 0.018
    brow &= (x > 0.055) & (x < 0.28)
    col = np.where(brow[..., None], np.array(app.hair) * 0.8, col)
    # nose: a shadow along its side, dark nostrils
    side = (np.abs(x - 0.045) < 0.012) & (y > NOSTRIL_Y) & (y < 0.5)
    col = np.where(side[..., None], skin * 0.72, col)
    nostril = ((x - 0.035) / 0.022) ** 2 + ((y - NOSTRIL_Y) / 0.013) ** 2 <= 1
    col = np.where(nostril[..., None], skin * 0.35, col)
    # mouth: lips redder than the skin, a dark line between them
    lips = (x / MOUTH["semi_x"]) ** 2 + ((y - MOUTH["y"]) / MOUTH["semi_y"]) ** 2 <= 1
    lip_colour = np.array((0.75, 0.3, 0.3)) * 0.6 + skin * 0.4
    col = np.where(lips[..., None], lip_colour, col)
    line = lips & (np.abs(y - MOUTH["y"]) < 0.008)
    col = np.where(line[..., None], np.array((0.3, 0.08, 0.08)), col)
    cheek = ((x - 0.2) / 0.07) ** 2 + ((y - 0.32) / 0.05) ** 2 <= 1
    col = np.where(cheek[..., None], col * 0.93 + np.array((0.9, 0.4, 0.4)) * 0.07, col)
    # hair with strands
    strands = 0.85 + 0.15 * np.sin(x * 90 + 8 * np.sin(y * 9))
    col = np.where(r["hair"][..., None], np.array(app.hair) * strands[..., None], col)
    return col


_PAINTERS = {"torso": _paint_torso, "leg": _paint_limb, "upper_arm": _paint_limb,
             "forearm": _paint_limb, "hand": _paint_hand, "foot": _paint_foot,
             "head": _paint_head}


def paint_tile(part: PartShape, body: Body, app: Appearance) -> np.ndarray:
    """The part's 200 x 200 tile, RGB float 0..1, texel [row, col] = (v flipped, u)."""
    s0, s1, c0, c1 = part.box
    u = np.arange(TILE) / (TILE - 1)
    v = (TILE - 1 - np.arange(TILE)) / (TILE - 1)
    s = np.broadcast_to(s0 + u * (s1 - s0), (TILE, TILE))
    c = np.broadcast_to((c0 + v * (c1 - c0))[:, None], (TILE, TILE))
    return np.clip(_PAINTERS[part.kind](part, body, app, s, c), 0, 1)


def make_atlas(parts: list[PartShape], body: Body, app: Appearance) -> np.ndarray:
    """The 1200 x 800 BGR uint8 atlas the figure is painted with."""
    atlas = np.zeros(ATLAS_SHAPE + (3,), np.uint8)
    for part in parts:
        row, col = tile_origin(part.dp)
        rgb = paint_tile(part, body, app)
        atlas[row:row + TILE, col:col + TILE] = np.rint(rgb[..., ::-1] * 255).astype(np.uint8)
    return atlas


# ---- background -------------------------------------------------------------------------

@dataclass(frozen=True)
class Background:
    """A wall over a wooden floor, a continuous function of world coordinates (pixels).

    World = image + pan * frame index, so a panning camera shifts it exactly.
    """
    wall: tuple
    floor: tuple
    floor_y: float     # the wall/floor boundary, world y
    unit: float        # pattern scale in pixels
    phase: tuple

    def render(self, x, y) -> np.ndarray:
        """RGB float 0..1 at world coordinates x, y (arrays of one shape)."""
        u, (p0, p1, p2) = self.unit, self.phase
        wall = np.array(self.wall) * (0.94 + 0.04 * np.sin(x / (9 * u) + p0)
                                      * np.sin(y / (13 * u) + p1))[..., None]
        # wallpaper: a faint diamond lattice and soft vertical panels
        lattice = np.cos(2 * np.pi * (x + y) / (11 * u)) * np.cos(2 * np.pi * (x - y) / (11 * u))
        panel = np.exp(-(((x / (48 * u) + p2) % 1 - 0.5) * 48) ** 2 / 2)
        wall = wall * (1 + 0.05 * lattice - 0.12 * panel)[..., None]
        # floor: planks narrowing with distance, with grain
        depth = np.maximum(y - self.floor_y, 0) + 6 * u
        plank = np.abs(((np.log(depth) / 0.22) % 1) - 0.5)
        grain = 0.06 * np.sin(x / (2.5 * u) + 4 * np.sin(y / (6 * u) + p1))
        floor = np.array(self.floor) * (0.9 + grain - 0.25 * np.exp(-(plank - 0.5) ** 2 / 0.002)
                                        + 0.1 * ((y - self.floor_y) / (60 * u)).clip(0, 1)
                                        )[..., None]
        skirting = np.abs(y - self.floor_y + 2.5 * u) < 2.5 * u
        out = np.where((y >= self.floor_y)[..., None], floor, wall)
        return np.clip(np.where(skirting[..., None], np.array((0.93, 0.93, 0.9)), out), 0, 1)

    def image(self, size: int, shift=(0.0, 0.0)) -> np.ndarray:
        """BGR uint8 frame of the background seen with the camera shifted by `shift` pixels."""
        ys, xs = np.mgrid[0:size, 0:size].astype(np.float64)
        rgb = self.render(xs + shift[0], ys + shift[1])
        return np.rint(rgb[..., ::-1] * 255).astype(np.uint8)


def make_background(seed: int, size: int, floor_y: float) -> Background:
    rng = np.random.default_rng([seed, 2])
    wall = _rgb(WALL[rng.integers(len(WALL))])
    floor = _rgb(FLOOR[rng.integers(len(FLOOR))])
    return Background(wall, floor, float(floor_y), size / 256.0,
                      tuple(float(p) for p in rng.uniform(0, 2 * np.pi, 3)))
