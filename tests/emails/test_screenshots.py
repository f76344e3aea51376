"""Each kind's HTML email rendered by a real browser (headless Chromium, Debian's
package, installed by `make install`) and compared with its committed reference image
(tests/emails/reference/), so a layout that breaks shows up.

The comparison has a tolerance (a few differing pixels, at half size, in greys), so
font hinting is no failure; a lost style sheet, a collapsed column or a missing block
is. After a change on purpose, write the references again and look at them:
``RAPPORT_UPDATE_EMAIL_REFERENCES=1 make test PYTEST_ARGS=tests/emails``.
"""

import os
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from services.notifier.notifications import catalogue
from services.notifier.notifications.samples import sample

REFERENCES = Path(__file__).parent / "reference"
CHROMIUM = shutil.which("chromium")
UPDATE = os.environ.get("RAPPORT_UPDATE_EMAIL_REFERENCES") == "1"
# (name, kind, width, dark mode): every kind on a phone, the decline note also on a
# desktop and in dark mode.
SHOTS = [(kind, kind, 420, False) for kind in sorted(catalogue.kinds())] + [
    ("invitation_declined-desktop", "invitation_declined", 900, False),
    ("invitation_declined-dark", "invitation_declined", 420, True),
]
HEIGHT = 1100
# A pixel differs when its grey differs by more than this; an image differs when more
# than this share of its pixels do.
PIXEL_TOLERANCE = 40
SHARE_TOLERANCE = 0.01

pytestmark = pytest.mark.skipif(
    CHROMIUM is None, reason="chromium is not installed (make install installs it)"
)


def screenshot(document: str, width: int, dark: bool, folder: Path) -> Image.Image:
    page, shot, profile = folder / "email.html", folder / "shot.png", folder / "profile"
    page.write_text(document, encoding="utf-8")
    command = [
        str(CHROMIUM),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        f"--user-data-dir={profile}",
        f"--window-size={width},{HEIGHT}",
        f"--screenshot={shot}",
        *(["--force-dark-mode"] if dark else []),
        page.as_uri(),
    ]
    subprocess.run(command, check=True, capture_output=True, timeout=60)  # noqa: S603
    with Image.open(shot) as image:
        return _comparable(image)


def _comparable(image: Image.Image) -> Image.Image:
    """Greys at half size: what the layout is, less what the fonts' hinting is."""
    grey = image.convert("L")
    return grey.resize((grey.width // 2, grey.height // 2), Image.Resampling.BILINEAR)


def differing_share(one: Image.Image, other: Image.Image) -> float:
    if one.size != other.size:
        return 1.0
    difference = ImageChops.difference(one, other).point(
        lambda value: 255 if value > PIXEL_TOLERANCE else 0
    )
    histogram = difference.histogram()
    return histogram[255] / (one.width * one.height)


def _shoot(shot: tuple[str, str, int, bool]) -> tuple[str, Image.Image]:
    name, kind, width, dark = shot
    with tempfile.TemporaryDirectory() as folder:
        return name, screenshot(sample(kind).email.html, width, dark, Path(folder))


@pytest.fixture(scope="module")
def shots() -> dict[str, Image.Image]:
    # Two browsers at a time: the machine is shared.
    with ThreadPoolExecutor(max_workers=2) as pool:
        return dict(pool.map(_shoot, SHOTS))


@pytest.mark.parametrize("name", [shot[0] for shot in SHOTS])
def test_each_kinds_email_looks_as_its_reference_in_a_browser(
    name: str, shots: dict[str, Image.Image]
) -> None:
    reference = REFERENCES / f"{name}.png"
    if UPDATE:
        shots[name].save(reference, optimize=True)
    assert reference.exists(), f"no reference image: {reference} (see this module's docstring)"
    with Image.open(reference) as expected:
        share = differing_share(shots[name], expected.convert("L"))
    assert share <= SHARE_TOLERANCE, f"{name}: {share:.1%} of the pixels differ from {reference}"


def test_a_broken_layout_is_told_apart_from_its_reference(tmp_path: Path) -> None:
    """The comparison can fail: the decline note without its styles differs."""
    email = sample("invitation_declined").email.html
    unstyled = email.replace('style="', 'data-style="').replace("<style", "<template")
    broken = screenshot(unstyled, 420, False, tmp_path)
    with Image.open(REFERENCES / "invitation_declined.png") as expected:
        assert differing_share(broken, expected.convert("L")) > SHARE_TOLERANCE
