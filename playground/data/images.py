"""Images in: a user's upload read safely, and the real photos the playground ships.

``load_image`` turns whatever a lab receives (a file path, bytes, a file object, a
numpy array, a PIL image, or the dict Gradio hands an event with
``preprocess=False``) into an RGB ``PIL.Image``, or raises ``ImageUploadError`` (a
``ValueError``) whose message says what was wrong and what to do. It checks the
file's size before reading it and the pixel count before decoding a single pixel,
so a decompression bomb (a small file declaring an enormous image) costs nothing.

``bundled_photos()`` lists real photos that ship inside scikit-image
(``skimage.data``) and scikit-learn (``load_sample_images``), each with a short
label and a one-sentence caption, so the image labs work with no upload and no
network. Any lab may use both (the zero-shot, SigLIP and train-CLIP tabs do).
"""
from __future__ import annotations

import base64
import binascii
import functools
import io
import os
import tempfile
from dataclasses import dataclass
from typing import Any, Callable, Mapping, Optional, Sequence

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from playground.data.uploads import UploadError

MAX_IMAGE_BYTES = 20_000_000  # matches the app's upload limit (PLAYGROUND_MAX_UPLOAD, 20 MB)
MAX_IMAGE_PIXELS = 40_000_000  # 40 megapixels: any phone photo fits; a bomb does not
MAX_SIDE = 2048  # larger images are shrunk on load; every model here sees at most a few hundred pixels
FORMATS_HINT = "PNG, JPEG, WebP, GIF, BMP or TIFF"


class ImageUploadError(UploadError):
    """An image that cannot be used; the message says what was wrong and what is expected."""


# -- reading one image ------------------------------------------------------------
def load_image(
    source: Any,
    *,
    max_pixels: int = MAX_IMAGE_PIXELS,
    max_bytes: int = MAX_IMAGE_BYTES,
    max_side: Optional[int] = MAX_SIDE,
    what: str = "The image",
) -> Image.Image:
    """Read ``source`` into an RGB image, refusing anything unsafe or unreadable.

    Args:
        source: a path (``str`` / ``os.PathLike``), ``bytes``, a binary file object,
            a ``data:image/...;base64,`` URL, a numpy array (H×W, H×W×1, ×3 or ×4;
            uint8, uint16, bool or float in [0, 1]), a ``PIL.Image``, or a mapping /
            object with a ``path`` (or a data ``url``), as Gradio passes files.
        max_pixels: refuse images with more pixels (checked before decoding).
        max_bytes: refuse files larger than this.
        max_side: shrink the result so its longer side is at most this (None: keep).
        what: how messages name the image (``"Photo 3"``), for lists of images.

    Returns:
        A fully decoded ``PIL.Image`` in mode RGB (EXIF rotation applied,
        transparency laid on white, the first frame of an animation).

    Raises:
        ImageUploadError: no image, a file that is not an image, a corrupt or
            truncated one, one too large in bytes or pixels, an unsupported mode.
    """
    if source is None:
        raise ImageUploadError(f"{what}: none given. Upload a photo, take one with the webcam, or pick a bundled one.")
    if isinstance(source, Image.Image):
        _check_pixels(source.size, max_pixels, what)
        return _finish(source, max_side, what)
    if isinstance(source, np.ndarray):
        return _finish(_from_array(source, max_pixels, what), max_side, what)
    data = _read_bytes(source, max_bytes, what)
    return _finish(_decode(data, max_pixels, what, max_side), max_side, what)


def _read_bytes(source: Any, max_bytes: int, what: str) -> bytes:
    """The encoded bytes of ``source`` (at most ``max_bytes``)."""
    if isinstance(source, Mapping) or hasattr(source, "path") and not isinstance(source, (str, bytes, os.PathLike)):
        path = source.get("path") if isinstance(source, Mapping) else getattr(source, "path", None)
        url = source.get("url") if isinstance(source, Mapping) else getattr(source, "url", None)
        if path:
            source = path
        elif isinstance(url, str) and url.startswith("data:"):
            source = url
        else:
            raise ImageUploadError(f"{what}: the upload arrived without a file. Upload it again.")
    if isinstance(source, (bytes, bytearray, memoryview)):
        data = bytes(source)
    elif isinstance(source, str) and source.startswith("data:"):
        data = _from_data_url(source, max_bytes, what)
    elif isinstance(source, str) and source.split(":", 1)[0].lower() in ("http", "https", "ftp"):
        raise ImageUploadError(
            f"{what}: {source[:80]!r} is a web address; images are not fetched from the web. "
            "Download the image and upload the file."
        )
    elif isinstance(source, (str, os.PathLike)):
        path = os.fspath(source)
        if not os.path.isfile(path):
            raise ImageUploadError(f"{what}: no file at {path!r}. Upload an image file ({FORMATS_HINT}).")
        size = os.path.getsize(path)
        if size > max_bytes:
            raise ImageUploadError(_too_many_bytes(size, max_bytes, what))
        with open(path, "rb") as f:
            data = f.read(max_bytes + 1)
    elif hasattr(source, "read"):
        data = source.read(max_bytes + 1)
        if not isinstance(data, bytes):
            raise ImageUploadError(f"{what}: the file was opened as text; open it in binary mode ('rb').")
    else:
        raise ImageUploadError(
            f"{what}: cannot read an image from a {type(source).__name__}. "
            "Give a file path, bytes, a numpy array or a PIL image."
        )
    if len(data) > max_bytes:
        raise ImageUploadError(_too_many_bytes(len(data), max_bytes, what))
    if not data:
        raise ImageUploadError(f"{what}: the file is empty. Upload an image file ({FORMATS_HINT}).")
    return data


def _from_data_url(url: str, max_bytes: int, what: str) -> bytes:
    header, _, payload = url.partition(",")
    if ";base64" not in header:
        raise ImageUploadError(f"{what}: only base64 data URLs are read (data:image/png;base64,...).")
    if len(payload) > max_bytes * 4 // 3 + 4:
        raise ImageUploadError(_too_many_bytes(len(payload) * 3 // 4, max_bytes, what))
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise ImageUploadError(f"{what}: the data URL is not valid base64. Upload the image as a file.") from None


def _too_many_bytes(size: int, max_bytes: int, what: str) -> str:
    return (
        f"{what} is {size / 1e6:.1f} MB; the limit is {max_bytes / 1e6:.0f} MB. "
        "Save a smaller copy (a few megapixels is plenty: the models see a few hundred pixels)."
    )


def _check_pixels(size: tuple[int, int], max_pixels: int, what: str) -> None:
    width, height = size
    if width <= 0 or height <= 0:
        raise ImageUploadError(f"{what} has no pixels ({width}×{height}). Upload a real image.")
    if width * height > max_pixels:
        raise ImageUploadError(
            f"{what} is {width}×{height} = {width * height / 1e6:.0f} megapixels; the limit is "
            f"{max_pixels / 1e6:.0f} megapixels (a file this large, or one that only claims to be, "
            "is refused before decoding). Save a smaller copy and upload that."
        )


def _decode(data: bytes, max_pixels: int, what: str, max_side: Optional[int] = None) -> Image.Image:
    """Open lazily, check the declared size, verify, then decode the first frame
    (a JPEG straight at a reduced scale when it is far larger than ``max_side``)."""
    try:
        probe = Image.open(io.BytesIO(data))
    except Image.DecompressionBombError:
        # PIL's own guard fires at twice its limit, before ours can read the size
        raise ImageUploadError(
            f"{what} declares far more pixels than the limit of {max_pixels / 1e6:.0f} megapixels "
            "(a decompression bomb, or a gigantic image). It was not decoded. Upload a smaller image."
        ) from None
    except UnidentifiedImageError:
        raise ImageUploadError(
            f"{what} is not an image this app can read (expected {FORMATS_HINT}). "
            "If it is a photo, export it as JPEG or PNG and upload that."
        ) from None
    except Exception as exc:  # PIL raises several types for mangled headers
        raise ImageUploadError(f"{what} is corrupt: its header cannot be read ({exc}). Upload another copy.") from None
    _check_pixels(probe.size, max_pixels, what)
    try:
        probe.verify()  # checksums and structure, without decoding pixels
        image = Image.open(io.BytesIO(data))
        if max_side:
            image.draft("RGB", (max_side, max_side))  # JPEG only; a no-op for other formats
        image.load()  # decodes the first frame; a truncated file fails here
    except Image.DecompressionBombError:
        raise ImageUploadError(f"{what} is too large to decode safely. Upload a smaller image.") from None
    except Exception as exc:
        raise ImageUploadError(
            f"{what} is corrupt or truncated and cannot be decoded ({type(exc).__name__}: {exc}). "
            "Upload another copy of the photo."
        ) from None
    return image


def _from_array(array: np.ndarray, max_pixels: int, what: str) -> Image.Image:
    a = np.asarray(array)
    if a.ndim == 3 and a.shape[2] == 1:
        a = a[:, :, 0]
    if not (a.ndim == 2 or a.ndim == 3 and a.shape[2] in (3, 4)):
        raise ImageUploadError(
            f"{what} has array shape {a.shape}; expected height×width (grey), height×width×3 (RGB) "
            "or height×width×4 (RGBA)."
        )
    _check_pixels((a.shape[1], a.shape[0]), max_pixels, what)
    if a.dtype == bool:
        a = a.astype(np.uint8) * 255
    elif a.dtype == np.uint16:
        a = (a >> 8).astype(np.uint8)
    elif np.issubdtype(a.dtype, np.floating):
        if not np.isfinite(a).all():
            raise ImageUploadError(f"{what} contains NaN or infinite values; expected numbers in [0, 1].")
        a = np.clip(a * 255.0 if a.max(initial=0.0) <= 1.0 else a, 0, 255).round().astype(np.uint8)
    elif a.dtype != np.uint8:
        if a.min(initial=0) < 0 or a.max(initial=0) > 255:
            raise ImageUploadError(f"{what} has {a.dtype} values outside 0..255; expected uint8 pixels.")
        a = a.astype(np.uint8)
    return Image.fromarray(np.ascontiguousarray(a))


def _finish(image: Image.Image, max_side: Optional[int], what: str) -> Image.Image:
    """Upright, RGB, not larger than ``max_side``; always a new image."""
    try:
        image = ImageOps.exif_transpose(image) or image
    except Exception:  # a broken EXIF block is no reason to refuse the photo
        pass
    rgb = _to_rgb(image, what)
    if rgb is image:
        rgb = rgb.copy()  # never resize or hand back the caller's own object
    if max_side and max(rgb.size) > max_side:
        rgb.thumbnail((max_side, max_side), Image.Resampling.BICUBIC, reducing_gap=2.0)
    return rgb


def _to_rgb(image: Image.Image, what: str) -> Image.Image:
    mode = image.mode
    if mode == "RGB":
        return image
    if mode in ("RGBA", "LA", "PA", "RGBa", "La") or mode == "P" and "transparency" in image.info:
        rgba = image.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    if mode in ("I", "F") or mode.startswith("I;"):
        a = np.asarray(image, dtype=np.float64)
        low, high = float(a.min(initial=0.0)), float(a.max(initial=0.0))
        a = (a - low) / (high - low) * 255.0 if high > low else np.zeros_like(a)
        return Image.fromarray(a.astype(np.uint8)).convert("RGB")
    try:
        return image.convert("RGB")
    except (ValueError, OSError) as exc:
        raise ImageUploadError(
            f"{what} uses colour mode {mode}, which cannot be converted to RGB ({exc}). Save it as an RGB JPEG or PNG."
        ) from None


def load_images(sources: Sequence[Any], max_images: int = 32, **kwargs) -> list[Image.Image]:
    """``load_image`` for each of ``sources``; messages name the image by its position."""
    sources = list(sources or [])
    if not sources:
        raise ImageUploadError("No images given. Add at least one photo.")
    if len(sources) > max_images:
        raise ImageUploadError(f"{len(sources)} images given; the limit is {max_images}. Remove some.")
    return [load_image(s, what=f"Image {i + 1}", **kwargs) for i, s in enumerate(sources)]


def gallery_items(payload: Any) -> list[tuple[Any, str]]:
    """``(source, caption)`` pairs from a Gradio Gallery value (as an event with
    ``preprocess=False`` receives it) or from a plain list of sources / pairs."""
    items = []
    for entry in payload or []:
        caption = ""
        if isinstance(entry, Mapping) and ("image" in entry or "video" in entry):
            caption = entry.get("caption") or ""
            entry = entry.get("image") or entry.get("video")
        elif isinstance(entry, (tuple, list)) and len(entry) == 2:
            entry, caption = entry[0], entry[1] or ""
        items.append((entry, str(caption)))
    return items


def source_name(source: Any, fallback: str) -> str:
    """A short display name for an image source: its original file name, else ``fallback``."""
    name = None
    if isinstance(source, Mapping):
        name = source.get("orig_name") or source.get("path")
    elif isinstance(source, (str, os.PathLike)) and not str(source).startswith("data:"):
        name = os.fspath(source)
    if not name:
        return fallback
    return os.path.splitext(os.path.basename(str(name)))[0][:40] or fallback


# -- the bundled photos -----------------------------------------------------------
@dataclass(frozen=True)
class Photo:
    """A real photo shipped inside an installed package.

    Attributes:
        name: a slug (``"chelsea"``), unique.
        label: a short class name for zero-shot labels (``"cat"``).
        caption: one sentence describing it, for image-text pairs.
        origin: where it comes from (package and function or file).
    """

    name: str
    label: str
    caption: str
    origin: str

    def image(self) -> Image.Image:
        """The photo as a new RGB image."""
        return _photo_image(self.name).copy()


def _skimage(fn_name: str) -> Callable[[], np.ndarray]:
    def read() -> np.ndarray:
        import skimage.data

        return getattr(skimage.data, fn_name)()

    return read


def _sklearn(file_name: str) -> Callable[[], str]:
    def read() -> str:
        # the file's path, found without importing sklearn.datasets (slow to import)
        import importlib.util

        spec = importlib.util.find_spec("sklearn")
        if spec is None or not spec.submodule_search_locations:
            raise ValueError("scikit-learn is not installed; its sample photos are missing.")
        return os.path.join(list(spec.submodule_search_locations)[0], "datasets", "images", file_name)

    return read


_PHOTOS: tuple[tuple[Photo, Callable[[], Any]], ...] = (
    (Photo("chelsea", "cat", "a close-up of a tabby cat's face", "skimage.data.chelsea"),
     _skimage("chelsea")),
    (Photo("coffee", "coffee cup", "a cup of coffee on a red saucer with a spoon", "skimage.data.coffee"),
     _skimage("coffee")),
    (Photo("astronaut", "astronaut", "an astronaut in an orange spacesuit in front of a flag",
           "skimage.data.astronaut"), _skimage("astronaut")),
    (Photo("rocket", "rocket", "a rocket on its launch pad at night, between towers", "skimage.data.rocket"),
     _skimage("rocket")),
    (Photo("flower", "flower", "a close-up of an orange dahlia flower", "sklearn.datasets flower.jpg"),
     _sklearn("flower.jpg")),
    (Photo("temple", "temple", "a temple with tiered roofs on a hill among trees", "sklearn.datasets china.jpg"),
     _sklearn("china.jpg")),
    (Photo("cameraman", "camera", "a black and white photo of a man with a camera on a tripod",
           "skimage.data.camera"), _skimage("camera")),
    (Photo("coins", "coins", "a grey photo of old coins laid out in rows", "skimage.data.coins"),
     _skimage("coins")),
    (Photo("galaxies", "galaxies", "many distant galaxies in the dark of deep space",
           "skimage.data.hubble_deep_field"), _skimage("hubble_deep_field")),
    (Photo("moon", "moon", "a grey close-up of the cratered surface of the moon", "skimage.data.moon"),
     _skimage("moon")),
    (Photo("tissue", "microscope slide", "stained tissue seen through a microscope",
           "skimage.data.immunohistochemistry"), _skimage("immunohistochemistry")),
    (Photo("retina", "retina", "the back of a human eye, its blood vessels in red", "skimage.data.retina"),
     _skimage("retina")),
    (Photo("page", "text", "a scanned page of printed text", "skimage.data.page"),
     _skimage("page")),
)
_READERS = {photo.name: read for photo, read in _PHOTOS}


def bundled_photos() -> list[Photo]:
    """The bundled photos, in a fixed order (everyday objects first)."""
    return [photo for photo, _ in _PHOTOS]


def bundled_photo(name: str) -> Photo:
    """The bundled photo called ``name``; ``ValueError`` lists the names."""
    for photo, _ in _PHOTOS:
        if photo.name == str(name).strip().lower():
            return photo
    names = ", ".join(p.name for p, _ in _PHOTOS)
    raise ValueError(f"No bundled photo called {name!r}. Bundled photos: {names}.")


@functools.lru_cache(maxsize=None)
def _photo_image(name: str) -> Image.Image:
    # read-only package data: decoded once per process, handed out as copies
    return load_image(_READERS[name](), max_side=1024, what=f"Bundled photo {name!r}")


def photo_file(name: str, folder: Optional[str] = None) -> str:
    """The bundled photo ``name`` as a JPEG file (written once), for UIs that show
    files and for tests that upload one. Lives under the system temp folder,
    which Gradio may serve."""
    photo = bundled_photo(name)
    folder = folder or os.path.join(tempfile.gettempdir(), "playground-photos")
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{photo.name}.jpg")
    if not os.path.isfile(path):
        tmp = f"{path}.{os.getpid()}.tmp"
        photo.image().save(tmp, format="JPEG", quality=90)
        os.replace(tmp, path)  # atomic: another process never reads a half-written file
    return path


# -- shared by the image labs: the gallery of photos, and photos named on the command line
GALLERY_START = ("chelsea", "coffee", "astronaut", "rocket", "flower", "temple")
MAX_MATRIX_IMAGES = 24
BUNDLED_PREFIX = "bundled:"


def gallery_photos(items) -> tuple[list[str], list]:
    """The gallery's photos (names, images), checked: not empty, at most
    ``MAX_MATRIX_IMAGES``, each one a readable image; repeated names numbered."""
    pairs = gallery_items(items)
    if not pairs:
        raise ValueError("The gallery is empty. Drop a few photos on it (or reload the tab for the bundled ones).")
    if len(pairs) > MAX_MATRIX_IMAGES:
        raise ValueError(f"{len(pairs)} photos in the gallery; the limit is {MAX_MATRIX_IMAGES}. Remove some.")
    names = unique_names([caption or source_name(src, f"photo {i + 1}") for i, (src, caption) in enumerate(pairs)])
    pictures = [load_image(src, what=f"Photo {i + 1} ({names[i]})") for i, (src, _) in enumerate(pairs)]
    return names, pictures


def unique_names(names: list[str]) -> list[str]:
    """``names`` with repeats numbered (heatmap rows with equal names would merge)."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def read_image(spec: str):
    """A file path, or ``bundled:NAME`` for a bundled photo."""
    if spec.startswith(BUNDLED_PREFIX):
        return bundled_photo(spec[len(BUNDLED_PREFIX):]).image(), spec[len(BUNDLED_PREFIX):]
    return load_image(spec, what=f"The image {spec!r}"), os.path.basename(spec)
