"""Bad input across all labs, through the API as any client could send it: empty, huge,
wrong type, malformed CSV, out-of-range numbers, NaN and inf, corrupt and huge images,
path-like strings. Each gets a clear message (not a generic failure, no traceback), and
the server answers the next request.

NaN and inf cannot cross Gradio's JSON API as numbers (the client refuses to encode
them, and a browser's number field cannot produce them), so they are sent where they
can arrive: inside text fields and CSV cells, and to the headless CLI."""
import pytest
from gradio_client import Client, handle_file
from gradio_client.exceptions import AppError

from conftest import launch
from playground import create_plugin_manager, create_registry
from playground.web.app import build_app
from playground.data.images import photo_file



@pytest.fixture(scope="module")
def bad_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad")
    files = {
        "binary.csv": bytes(range(256)) * 10,
        "empty.csv": b"",
        "nocolumns.csv": b"foo,bar\n1,2\n",
        "quotes.csv": b'text,label\n"unterminated,quote\nx,y\n',
        "one_label.csv": b"text,label\n" + b"".join(b"row %d,same\n" % i for i in range(10)),
        "huge.csv": b"text,label\n" + b"".join(b"text %d,l%d\n" % (i, i % 3) for i in range(60000)),
        "notimage.png": b"this is not an image at all",
        "truncated.jpg": open(photo_file("coffee"), "rb").read()[:2000],
    }
    for name, data in files.items():
        (d / name).write_bytes(data)
    return {name: handle_file(str(d / name)) for name in files}


@pytest.fixture(scope="module")
def client(tiny_plugin):
    pm = create_plugin_manager(entry_points=False, extra=[tiny_plugin])
    demo = build_app(pm, create_registry(pm, device="cpu"))
    yield Client(launch(demo), verbose=False)
    demo.close()


def call(client, api_name, **overrides):
    """Call ``api_name`` with its defaults, overriding parameters by name."""
    params = client.view_api(return_format="dict", print_info=False)["named_endpoints"][api_name]["parameters"]
    args = [overrides.pop(p["parameter_name"], p.get("parameter_default")) for p in params]
    assert not overrides, f"{api_name} has no parameter(s) {list(overrides)}"
    return client.predict(*args, api_name=api_name)


def cases(f):
    photo = handle_file(photo_file("chelsea"))
    return [
        # (api_name, overrides, regex the message must match)
        ("/anisotropy_run", dict(path=f["binary.csv"]), r"UTF-8"),
        ("/anisotropy_run", dict(path=f["empty.csv"]), r"empty"),
        ("/anisotropy_run", dict(path=f["nocolumns.csv"]), r"[Mm]issing column"),
        ("/anisotropy_run", dict(path=f["one_label.csv"]), r"single label|two labels"),
        ("/anisotropy_run", dict(path=f["huge.csv"]), r"limit"),
        ("/anisotropy_run", dict(sigma_value=1e300), r"σ|sigma|noise|number|maximum"),
        ("/anisotropy_run", dict(sigma_value=-0.5), r"σ|sigma|noise|number|minimum"),
        ("/triplet_margin_run", dict(upload_=f["quotes.csv"]), r"CSV|column|label|row"),
        ("/triplet_margin_run", dict(margin_=-1e300), r"margin|α|number|minimum"),
        ("/triplet_margin_train", dict(steps_=1e300), r"step|number|maximum"),
        ("/temperature_live", dict(tau=1e300), r"τ|tau|temperature|number|maximum"),
        ("/temperature_live", dict(tau=-1.0), r"τ|tau|temperature|between|minimum"),
        ("/temperature_run", dict(taus_="0.1, inf, nan"), r"τ|tau|temperature|number"),
        ("/temperature_run", dict(taus_="../../etc/passwd"), r"τ|tau|temperature|number"),
        ("/clip_zero_shot", dict(photo=f["notimage.png"], labels_text="cat, dog"), r"not an image"),
        ("/clip_zero_shot", dict(photo=f["truncated.jpg"], labels_text="cat, dog"), r"corrupt|truncated|broken|cannot be read"),
        ("/clip_zero_shot", dict(photo=photo, labels_text="   ,  , "), r"no labels|only spaces"),
        ("/clip_zero_shot", dict(photo=photo, labels_text=", ".join(f"label{i}" for i in range(500))), r"labels"),
        ("/siglip_compare", dict(photo=photo, labels_text="cat, Cat"), r"[Dd]uplicate"),
        ("/fine_tune_run", dict(choice="upload", path=f["binary.csv"]), r"UTF-8"),
        ("/fine_tune_run", dict(choice="upload", path=f["nocolumns.csv"]), r"query|positive|column"),
        ("/fine_tune_run", dict(epochs_value=1e300), r"epoch|number|maximum"),
        ("/train_clip_train", dict(batch_size=-3), r"batch|number|minimum"),
        ("/train_clip_train", dict(steps=1e300), r"step|number|maximum"),
        ("/train_clip_compare", dict(sizes=[]), r"batch size|sizes|choose|pick"),
    ]


def test_every_bad_input_gets_a_clear_message_and_the_server_keeps_serving(client, bad_files):
    import re

    failures = []
    for api_name, overrides, pattern in cases(bad_files):
        try:
            call(client, api_name, **overrides)
            failures.append(f"{api_name}{overrides!r}: accepted")
        except AppError as exc:
            message = str(exc)
            if not re.search(pattern, message, re.I) or "Something went wrong" in message or "Traceback" in message:
                failures.append(f"{api_name} {list(overrides)}: unclear message {message!r}")
        except Exception as exc:  # the client refused locally: not what a browser would get
            failures.append(f"{api_name} {list(overrides)}: {type(exc).__name__}: {exc}")
    assert failures == [], "\n".join(failures)
    status = client.predict(api_name="/models_status")
    assert "minilm" in str(status)


def test_path_like_labels_are_just_text(client):
    scores = client.predict(handle_file(photo_file("rocket")), "../../etc/passwd, /proc/self/environ",
                            api_name="/clip_zero_shot")
    assert {c["label"] for c in scores["confidences"]} == {"../../etc/passwd", "/proc/self/environ"}


@pytest.mark.parametrize("argv, pattern", [
    (["run", "anisotropy", "--models", "glove,minilm", "--sigma", "nan"], r"σ|sigma|noise|finite|number"),
    (["run", "temperature", "--taus", "0.1,inf"], r"τ|tau|temperature"),
    (["run", "train_clip", "--steps", "nan"], r"step|number|integer|invalid"),
])
def test_nan_and_inf_on_the_command_line_get_a_clear_message(argv, pattern, capsys):
    import re

    from playground.web.cli import main

    try:
        code = main(argv)
    except SystemExit as exc:  # argparse's own refusal of a non-number
        code = exc.code
    err = capsys.readouterr().err
    assert code != 0 and re.search(pattern, err, re.I) and "Traceback" not in err, err
