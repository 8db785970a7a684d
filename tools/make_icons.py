"""Draw the app's icons and logos into DIR (package/static): `make icons`.

Splunk looks for static/appIcon.png (36x36), appIcon_2x.png (72x72), appIconAlt*.png (same sizes,
shown on dark app bars) and appLogo*.png (160x40 and 320x80). The picture: a phone with a download
arrow dropping into its screen. Shapes are drawn at 8x and scaled down for smooth edges.
Needs Pillow 10.1 or later (its built-in scalable font writes the logo text).

Usage: python tools/make_icons.py DIR
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

NAVY = (24, 52, 82, 255)
WHITE = (255, 255, 255, 255)
ORANGE = (245, 130, 32, 255)
CLEAR = (0, 0, 0, 0)
SCALE = 8


def _glyph(draw: ImageDraw.ImageDraw, size: int, phone: tuple[int, ...], arrow: tuple[int, ...]) -> None:
    """Phone outline plus arrow inside a SIZE x SIZE square at the drawing's origin."""
    s = size / 36  # the design is laid out on a 36-unit grid
    stroke = max(1, round(2.2 * s))
    draw.rounded_rectangle((10.5 * s, 4 * s, 25.5 * s, 32 * s), radius=3 * s, outline=phone, width=stroke)
    draw.line((16 * s, 28.5 * s, 20 * s, 28.5 * s), fill=phone, width=stroke)  # home bar
    # Arrow: shaft from above the phone into the screen, head inside the screen.
    draw.line((18 * s, 1 * s, 18 * s, 17 * s), fill=arrow, width=round(3.2 * s))
    draw.polygon([(12.5 * s, 14 * s), (23.5 * s, 14 * s), (18 * s, 22.5 * s)], fill=arrow)


def icon(size: int, alt: bool) -> Image.Image:
    big = size * SCALE
    image = Image.new("RGBA", (big, big), CLEAR)
    draw = ImageDraw.Draw(image)
    if alt:
        # Alt icons sit on Splunk's dark bars: no tile, light strokes.
        _glyph(draw, big, WHITE, ORANGE)
    else:
        draw.rounded_rectangle((0, 0, big - 1, big - 1), radius=big * 0.18, fill=NAVY)
        _glyph(draw, big, WHITE, ORANGE)
    return image.resize((size, size), Image.LANCZOS)


def logo(width: int, height: int) -> Image.Image:
    big_w, big_h = width * SCALE, height * SCALE
    image = Image.new("RGBA", (big_w, big_h), CLEAR)
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle((0, 0, big_h - 1, big_h - 1), radius=big_h * 0.18, fill=NAVY)
    _glyph(draw, big_h, WHITE, ORANGE)
    font = ImageFont.load_default(size=int(big_h * 0.36))
    draw.text((big_h * 1.2, big_h * 0.5), "Mobile Ingress", fill=NAVY, font=font, anchor="lm")
    return image.resize((width, height), Image.LANCZOS)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    images = {
        "appIcon.png": icon(36, alt=False),
        "appIcon_2x.png": icon(72, alt=False),
        "appIconAlt.png": icon(36, alt=True),
        "appIconAlt_2x.png": icon(72, alt=True),
        "appLogo.png": logo(160, 40),
        "appLogo_2x.png": logo(320, 80),
    }
    for name, image in images.items():
        # optimize=True and no timestamps or text chunks: the same drawing gives the same bytes.
        image.save(out / name, optimize=True)
        print(f"{out / name}: {image.width}x{image.height}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
