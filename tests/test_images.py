"""The shared image loader: every source it accepts, every way an upload can be bad,
and the bundled photos."""
import base64
import io
import struct
import zlib

import numpy as np
import pytest
from PIL import Image

from playground.data.uploads import UploadError
from playground.data.images import (
    ImageUploadError, bundled_photo, bundled_photos, gallery_items, load_image, load_images, photo_file, source_name,
)


def png_bytes(image: Image.Image) -> bytes:
    buf = io.BytesIO()
    image.save(buf, format="PNG")
    return buf.getvalue()


def bomb_png(width: int, height: int) -> bytes:
    """A valid PNG header declaring ``width``×``height`` pixels, with almost no data:
    the shape of a decompression bomb (decoding it would need gigabytes)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit greyscale
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(b"\x00" * 64)) + chunk(
        b"IEND", b""
    )


@pytest.fixture
def rgb():
    rng = np.random.default_rng(0)
    return Image.fromarray(rng.integers(0, 255, (30, 40, 3), dtype=np.uint8))


def test_reads_path_bytes_file_object_and_gradio_dict(tmp_path, rgb):
    path = tmp_path / "photo.png"
    rgb.save(path)
    expected = np.asarray(rgb)
    for source in (str(path), path, path.read_bytes(), open(path, "rb"), {"path": str(path), "orig_name": "x.png"}):
        image = load_image(source)
        assert image.mode == "RGB" and image.size == (40, 30)
        assert np.array_equal(np.asarray(image), expected)  # PNG is lossless


def test_reads_data_url_and_refuses_web_addresses(rgb):
    url = "data:image/png;base64," + base64.b64encode(png_bytes(rgb)).decode()
    assert np.array_equal(np.asarray(load_image(url)), np.asarray(rgb))
    assert load_image({"path": None, "url": url}).size == (40, 30)
    with pytest.raises(ImageUploadError, match="web address"):
        load_image("https://example.com/cat.jpg")
    with pytest.raises(ImageUploadError, match="not valid base64"):
        load_image("data:image/png;base64,@@@not-base64@@@")


def test_converts_every_mode_to_rgb():
    grey = load_image(np.full((5, 6), 200, dtype=np.uint8))
    assert grey.mode == "RGB" and np.asarray(grey)[0, 0].tolist() == [200, 200, 200]
    floats = load_image(np.full((5, 6, 3), 0.5, dtype=np.float32))
    assert np.asarray(floats)[0, 0].tolist() == [128, 128, 128]
    mask = load_image(np.eye(4, dtype=bool))
    assert np.asarray(mask)[0, 0].tolist() == [255, 255, 255] and np.asarray(mask)[0, 1].tolist() == [0, 0, 0]
    transparent = np.zeros((4, 4, 4), dtype=np.uint8)  # fully transparent black: laid on white
    assert np.asarray(load_image(transparent))[0, 0].tolist() == [255, 255, 255]
    sixteen = Image.fromarray(np.arange(12, dtype=np.uint16).reshape(3, 4) * 1000)
    out = np.asarray(load_image(png_bytes(sixteen)))
    assert out[0, 0, 0] == 0 and out[-1, -1, 0] == 255  # stretched to the full 8-bit range
    palette = Image.new("P", (3, 3), 1)
    assert load_image(palette).mode == "RGB"
    with pytest.raises(ImageUploadError, match="array shape"):
        load_image(np.zeros((2, 2, 5), dtype=np.uint8))
    with pytest.raises(ImageUploadError, match="NaN"):
        load_image(np.full((2, 2), np.nan))


def test_applies_exif_rotation_and_never_mutates_the_caller(tmp_path, rgb):
    exif = Image.Exif()
    exif[274] = 6  # "rotate 90° clockwise to display"
    path = tmp_path / "phone.jpg"
    rgb.save(path, exif=exif.tobytes())
    assert load_image(path).size == (30, 40)
    big = Image.new("RGB", (300, 100), "red")
    small = load_image(big, max_side=150)
    assert small.size == (150, 50) and big.size == (300, 100) and small is not big


def test_not_an_image(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("this is a shopping list, not a picture\n")
    with pytest.raises(ImageUploadError, match="not an image"):
        load_image(path)
    with pytest.raises(ImageUploadError, match="empty"):
        load_image(b"")
    with pytest.raises(ImageUploadError, match="no file"):
        load_image(tmp_path / "missing.png")
    with pytest.raises(ImageUploadError, match="none given"):
        load_image(None)
    assert issubclass(ImageUploadError, UploadError) and issubclass(ImageUploadError, ValueError)


def test_corrupt_and_truncated_images(rgb):
    buf = io.BytesIO()
    rgb.resize((200, 150)).save(buf, format="JPEG", quality=90)
    jpeg = buf.getvalue()
    with pytest.raises(ImageUploadError, match="corrupt|truncated"):
        load_image(jpeg[: len(jpeg) // 2])
    png = bytearray(png_bytes(rgb))
    png[-20] ^= 0xFF  # flip bits inside the image data: a checksum no longer matches
    with pytest.raises(ImageUploadError, match="corrupt"):
        load_image(bytes(png))


def test_decompression_bombs_are_refused_before_decoding():
    # beyond PIL's own hard limit (about 179 megapixels): PIL refuses to open it
    with pytest.raises(ImageUploadError, match="decompression bomb"):
        load_image(bomb_png(100_000, 100_000))
    # below PIL's limit but above ours: refused by size, never decoded
    with pytest.raises(ImageUploadError, match="8000×8000 = 64 megapixels; the limit is 40"):
        load_image(bomb_png(8000, 8000))
    with pytest.raises(ImageUploadError, match="megapixels"):
        load_image(np.zeros((100, 100), dtype=np.uint8), max_pixels=5000)
    with pytest.raises(ImageUploadError, match="megapixels"):
        load_image(Image.new("RGB", (100, 100)), max_pixels=5000)


def test_file_size_limit(tmp_path, rgb):
    path = tmp_path / "photo.png"
    rgb.save(path)
    with pytest.raises(ImageUploadError, match="MB; the limit is"):
        load_image(path, max_bytes=100)
    with pytest.raises(ImageUploadError, match="MB; the limit is"):
        load_image(path.read_bytes(), max_bytes=100)


def test_load_images_names_the_bad_one(rgb):
    good = png_bytes(rgb)
    with pytest.raises(ImageUploadError, match="Image 2 is not an image"):
        load_images([good, b"nope"])
    with pytest.raises(ImageUploadError, match="limit is 1"):
        load_images([good, good], max_images=1)
    with pytest.raises(ImageUploadError, match="No images"):
        load_images([])


def test_gallery_items_and_names():
    payload = [
        {"image": {"path": "/tmp/a.png", "orig_name": "cat.png"}, "caption": "a cat"},
        {"image": {"path": "/tmp/b.png"}, "caption": None},
    ]
    items = gallery_items(payload)
    assert items[0] == ({"path": "/tmp/a.png", "orig_name": "cat.png"}, "a cat") and items[1][1] == ""
    assert gallery_items([("/tmp/x.png", "x")]) == [("/tmp/x.png", "x")]
    assert gallery_items(None) == []
    assert source_name(payload[0]["image"], "photo 1") == "cat"
    assert source_name(b"...", "photo 1") == "photo 1"


def test_bundled_photos_are_real_captioned_rgb_images(tmp_path):
    photos = bundled_photos()
    assert len(photos) >= 10
    assert len({p.name for p in photos}) == len(photos) and len({p.label for p in photos}) == len(photos)
    for photo in photos:
        image = photo.image()
        assert image.mode == "RGB" and min(image.size) >= 150 and max(image.size) <= 1024
        assert photo.caption and photo.label and photo.origin
        # a real photo, not a flat colour: many distinct values
        assert len(np.unique(np.asarray(image.convert("L")))) > 50
    first = photos[0].image()
    original = first.getpixel((0, 0))
    first.paste((1, 2, 3), (0, 0, 10, 10))  # callers get copies: editing one changes nothing shared
    assert first.getpixel((0, 0)) == (1, 2, 3) and photos[0].image().getpixel((0, 0)) == original
    path = photo_file("chelsea", folder=str(tmp_path))
    assert load_image(path).size == bundled_photo("chelsea").image().size
    with pytest.raises(ValueError, match="Bundled photos: chelsea"):
        bundled_photo("unicorn")


def test_large_jpeg_is_shrunk_to_max_side(rgb):
    buf = io.BytesIO()
    rgb.resize((1500, 1000)).save(buf, format="JPEG")
    image = load_image(buf.getvalue(), max_side=400)
    assert image.size == (400, 267) and image.mode == "RGB"
