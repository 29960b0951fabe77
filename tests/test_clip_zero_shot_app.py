"""The clip_zero_shot tab served for real and called through gradio_client, as the
README shows: scores, the image × label matrix, and a clear error for every bad input
while the server keeps serving."""
import io
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor

import pytest
from PIL import Image

from conftest import launch, tiny_models_plugin

from playground import create_plugin_manager, create_registry
from playground.web.app import build_app
from playground.data.images import photo_file

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402


@pytest.fixture(scope="module")
def app(tiny_specs):
    pm = create_plugin_manager(
        builtins=("playground.contract.default_models", "plugins.clip_zero_shot"), entry_points=False, extra=[tiny_models_plugin(tiny_specs)]
    )
    demo = build_app(pm, create_registry(pm, device="cpu"))
    assert not pm.errors
    url = launch(demo)
    yield demo, Client(url, verbose=False)
    demo.close()


@pytest.fixture(scope="module")
def client(app):
    return app[1]


def confidences(scores: dict) -> dict:
    return {c["label"]: c["confidence"] for c in scores["confidences"]}


def test_api_scores_a_photo_with_the_default_template_and_model(client, app):
    scores = client.predict(handle_file(photo_file("chelsea")), "cat, dog, rocket", api_name="/clip_zero_shot")
    probs = confidences(scores)
    assert set(probs) == {"cat", "dog", "rocket"} and scores["label"] == max(probs, key=probs.get)
    assert sum(probs.values()) == pytest.approx(1.0, abs=1e-4)  # tiny-clip (the fallback default): softmax
    assert "tiny-clip" in app[0].playground_registry.loaded_ids()


def test_api_with_a_sigmoid_model_and_the_ensemble(client):
    scores = client.predict(
        handle_file(photo_file("rocket")), "cat\ndog\nrocket", "ensemble of 7 templates", "tiny-siglip",
        api_name="/clip_zero_shot",
    )
    probs = confidences(scores)
    assert set(probs) == {"cat", "dog", "rocket"}
    assert abs(sum(probs.values()) - 1) > 0.5  # independent sigmoids (tiny SigLIP's bias is -10)


def test_api_matrix_of_several_photos(client):
    gallery = [{"image": handle_file(photo_file(n)), "caption": n} for n in ("coffee", "rocket", "moon")]
    figure, info = client.predict(gallery, "cat, rocket", "a photo of a {}.", "tiny-clip",
                                  api_name="/clip_zero_shot_matrix")
    assert "3 photos × 2 labels" in info and "from 1.000 to 1.000" in info
    assert figure["type"] == "plotly" and "coffee" in figure["plot"] and "moon" in figure["plot"]
    import json

    layout = json.loads(figure["plot"])["layout"]  # each row's sum beside its name, clear of the colour bar
    assert layout["yaxis"]["ticktext"] == ["coffee  Σ=1.00", "rocket  Σ=1.00", "moon  Σ=1.00"]
    assert not layout.get("annotations")


def png_header(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 99)) + chunk(
        b"IEND", b""
    )


@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad-images")
    files = {}
    files["text"] = folder / "shopping.png"
    files["text"].write_text("eggs, milk, bread\n")
    buf = io.BytesIO()
    Image.open(photo_file("chelsea")).save(buf, format="JPEG")
    files["corrupt"] = folder / "half.jpg"
    files["corrupt"].write_bytes(buf.getvalue()[: len(buf.getvalue()) // 3])
    files["bomb"] = folder / "bomb.png"
    files["bomb"].write_bytes(png_header(60_000, 60_000))  # 3.6 gigapixels declared, a few bytes sent
    files["big"] = folder / "big.png"
    files["big"].write_bytes(png_header(9_000, 9_000))
    return files


@pytest.mark.parametrize(
    "photo, labels, message",
    [
        ("text", "cat, dog", "not an image"),
        ("corrupt", "cat, dog", "corrupt or truncated"),
        ("bomb", "cat, dog", "decompression bomb"),
        ("big", "cat, dog", "81 megapixels; the limit is 40"),
        ("chelsea", "", "No labels"),
        ("chelsea", "   \n  ", "only spaces"),
        ("chelsea", "cat, dog, cat", "Duplicate label"),
        ("chelsea", ", ".join(f"thing {i}" for i in range(400)), "400 labels given"),
    ],
)
def test_bad_input_gets_a_clear_error(client, bad_files, photo, labels, message):
    path = photo_file(photo) if photo == "chelsea" else bad_files[photo]
    with pytest.raises(AppError, match=message):
        client.predict(handle_file(str(path)), labels, api_name="/clip_zero_shot")


def test_bad_template_and_unavailable_model(client):
    with pytest.raises(AppError, match="exactly once"):
        client.predict(handle_file(photo_file("coffee")), "cat, dog", "a photo", "tiny-clip",
                       api_name="/clip_zero_shot")
    with pytest.raises(AppError, match="clip-vit-b-32 cannot be used here|Hugging Face Hub"):
        client.predict(handle_file(photo_file("coffee")), "cat, dog", "a photo of a {}.", "clip-vit-b-32",
                       api_name="/clip_zero_shot")
    with pytest.raises(AppError, match="text-only"):
        client.predict(handle_file(photo_file("coffee")), "cat, dog", "a photo of a {}.", "minilm",
                       api_name="/clip_zero_shot")


def test_server_keeps_serving_others_while_bad_requests_fail(client, bad_files):
    good = handle_file(photo_file("coffee"))

    def call(path_or_file, labels):
        try:
            return client.predict(path_or_file, labels, api_name="/clip_zero_shot")
        except Exception as exc:
            return exc

    with ThreadPoolExecutor(4) as pool:
        futures = [
            pool.submit(call, handle_file(str(bad_files["bomb"])), "cat, dog"),
            pool.submit(call, good, "cup, rocket"),
            pool.submit(call, handle_file(str(bad_files["text"])), "cat, dog"),
            pool.submit(call, good, "cup, moon"),
        ]
        results = [f.result() for f in futures]
    assert isinstance(results[0], AppError) and "decompression bomb" in str(results[0])
    assert isinstance(results[2], AppError) and "not an image" in str(results[2])
    assert set(confidences(results[1])) == {"cup", "rocket"} and set(confidences(results[3])) == {"cup", "moon"}


def test_a_model_trained_in_this_session_scores_in_this_session_only(app, tiny_specs):
    from playground.models.open_clip import load

    demo, client = app
    registry = demo.playground_registry
    spec = next(s for s in tiny_specs if s.id == "tiny-siglip")
    registry.add_session_model(client.session_hash, "my-trained-clip", load(spec, "cpu"))  # as train_clip does
    try:
        scores = client.predict(handle_file(photo_file("moon")), "moon, cat", "a photo of a {}.", "my-trained-clip",
                                api_name="/clip_zero_shot")
        assert {c["label"] for c in scores["confidences"]} == {"moon", "cat"}
        _, note = client.predict("my-trained-clip", api_name="/clip_zero_shot_models")
        assert "my-trained-clip" in note and "trained in this session" in note
        stranger = Client(client.src, verbose=False)
        with pytest.raises(AppError, match="Unknown model 'my-trained-clip'"):
            stranger.predict(handle_file(photo_file("moon")), "moon, cat", "a photo of a {}.", "my-trained-clip",
                             api_name="/clip_zero_shot")
    finally:
        registry.drop_session(client.session_hash)
