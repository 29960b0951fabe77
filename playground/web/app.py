"""``build_app()``: the gr.Blocks shell, one gr.Tab per lab, plus Models and Plugins panels."""
from __future__ import annotations

import logging
import os
import re
from typing import Optional

import gradio as gr
import pandas as pd

from playground.web import gradio_fixes
from playground.web.api_defaults import give_api_defaults
from playground.web.empty_tables import label_empty_tables
from playground.classroom import VoteStore
from playground.classroom.instructor import build_instructor_tab, instructor_token
from playground.web.login import build_login_row
from playground.classroom.ui import Classroom
from playground.contract.lab import Lab, LabContext
from playground.models.lazy import warm_up
from playground.contract.plugins import PlaygroundPluginManager, PluginError, collect_labs, create_plugin_manager, create_registry
from playground.models.registry import ModelRegistry, fidelity_text
from playground.web.result_cache import ResultCache
from playground.web.ui import friendly_errors, session_id

log = logging.getLogger("playground")

HEADER = """# Contrastive playground
An encoder whose objective never asks the vectors of unrelated texts to point apart (BERT's masked-LM and next-sentence
prediction, which compares two segments read together; mean-pooled GloVe) tends to crowd its text vectors into a cone
along one shared direction (Ethayarajh 2019; Li et al. 2020). Contrastive losses (triplet, InfoNCE, CLIP, SigLIP) tend
to spread them (Wang & Isola 2020; Gao et al. 2021) and so make the raw cosine usable, though not always (CLIP's image
and text vectors keep a modality gap; Liang et al. 2022). Each tab is an experiment: predict what
you will see, run it, and compare."""

CSS = """
.lab-error { border: 2px solid #d9534f; border-radius: 8px; padding: 0.5em 1em; background: #fff5f5; }
.lesson { border-left: 4px solid #6c8ebf; padding-left: 1em; }
.models-table td, .models-table td * { overflow-wrap: anywhere; }  /* a Hub path in `reason` has no space to break at */
"""

# How many runs of one event may compute at once, and how many may wait. A class of
# ~30 students fits in the queue; the 2-core CPU is not oversubscribed.
DEFAULT_CONCURRENCY = int(os.environ.get("PLAYGROUND_CONCURRENCY", "2"))
MAX_QUEUE = int(os.environ.get("PLAYGROUND_MAX_QUEUE", "64"))
MAX_UPLOAD = os.environ.get("PLAYGROUND_MAX_UPLOAD", "20mb")

# the long `reason` last, so the short columns (and a loaded model's fidelity) show without scrolling
MODEL_COLUMNS = ["id", "kind", "available", "loaded", "device", "backend", "fidelity", "memory_gb", "reason"]
# Fixed shares of the width, so an empty column keeps its header on one line (not "b/a/c/k/...")
# and the long reason wraps inside its own cell instead of running past the table's edge.
MODEL_COLUMN_WIDTHS = ["16%", "8%", "8%", "7%", "6%", "7%", "7%", "8%", "33%"]
PLUGIN_COLUMNS = ["plugin", "source", "labs", "models", "error"]


def code_span(text: str) -> str:
    """``text`` as one Markdown code span, whatever backticks it holds: the fence is
    one backtick longer than the longest run inside (CommonMark), padded by spaces."""
    runs = [len(run) for run in re.findall(r"`+", text)]
    if not runs:
        return f"`{text}`"
    fence = "`" * (max(runs) + 1)
    return f"{fence} {text} {fence}"


def error_panel(error: PluginError) -> None:
    """A visible panel naming the failed plugin, what went wrong and the fix."""
    fix = f"**Fix:** {error.fix}\n\n" if error.fix else ""
    gr.Markdown(
        f"### Plugin `{error.plugin}` failed ({error.stage})\n\n{code_span(error.message)}\n\n{fix}"
        "The other tabs work. Fix the plugin and restart; `playground labs` lists it too.",
        elem_classes=["lab-error"],
    )
    if error.details:
        with gr.Accordion("Traceback", open=False):
            gr.Code(error.details, language=None)


def is_builtin(lab: Lab, pm: PlaygroundPluginManager) -> bool:
    info = pm.infos.get(lab.plugin)
    return info is not None and info.source == "builtin"


def lab_origin(lab: Lab, pm: PlaygroundPluginManager) -> str:
    """One line saying where a lab comes from: built in, or which installed plugin."""
    if is_builtin(lab, pm):
        return "built in"
    info = pm.infos.get(lab.plugin)
    source = f", {info.source}" if info is not None else ""
    return f"your lab: plugin `{lab.plugin}`{source}"


def unprefixed_api_names(lab: Lab, fns: list) -> list[str]:
    """The public ``api_name``s among ``fns`` (a lab's events) that do not start with the lab id."""
    return [
        str(fn.api_name) for fn in fns
        if fn.api_name and getattr(fn, "api_visibility", "public") != "private" and not str(fn.api_name).startswith(lab.id)
    ]


def build_lab_tab(lab: Lab, registry: ModelRegistry, pm: PlaygroundPluginManager, tab: gr.Tab,
                  classroom: Optional[Classroom] = None, results: Optional[ResultCache] = None) -> None:
    """Build one lab inside the open tab; a failing ``build`` leaves an error panel, and
    an event whose ``api_name`` does not start with the lab id is reported above the lab."""
    if not is_builtin(lab, pm):
        gr.Markdown(f"*{lab_origin(lab, pm).capitalize()}.*")
    if lab.description:
        gr.Markdown(f"*{lab.description}*")
    notice = gr.Column(visible=False)
    root = gr.context.Context.root_block
    before = set(root.fns) if root is not None else set()
    failed = None
    with gr.Column() as body:
        try:
            lab.build(LabContext(registry=registry, lab_id=lab.id, tab=tab, classroom=classroom,
                                results=results))
        except Exception as exc:
            log.exception("lab %s failed to build", lab.id)
            failed = pm.record_error(lab.plugin, "build", exc)
    if failed is not None:  # the half-built lab is hidden; the panel says why
        body.visible = False
        error_panel(failed)
        return
    added = [fn for key, fn in root.fns.items() if key not in before] if root is not None else []
    wrong = unprefixed_api_names(lab, added)
    if wrong:
        name = wrong[0]
        error = pm.record_error(
            lab.plugin, "build",
            ValueError(f"lab {lab.id!r}: event api_name {name!r} does not start with the lab id {lab.id!r}."),
            fix=f'Pass `api_name="{lab.id}_{name}"` to that event (or `api_name=False` if it is no API).',
        )
        notice.visible = True
        with notice:
            error_panel(error)


def models_table(registry: ModelRegistry, session: str = "") -> pd.DataFrame:
    rows = [{**r, "fidelity": fidelity_text(r.get("fidelity"))} for r in registry.status(session=session)]
    return pd.DataFrame([{c: r.get(c, "") for c in MODEL_COLUMNS} for r in rows], columns=MODEL_COLUMNS)


def plugins_table(pm: PlaygroundPluginManager) -> pd.DataFrame:
    rows = [
        {
            "plugin": info.name,
            "source": info.source,
            "labs": ", ".join(info.labs),
            "models": ", ".join(info.models),
            "error": str(info.error) if info.error else "",
        }
        for info in pm.infos.values()
    ]
    return pd.DataFrame(rows, columns=PLUGIN_COLUMNS)


def failed_plugins_markdown(failed: list[PluginError]) -> str:
    """The Start page's list of failed plugins, each with its fix; '' when none failed."""
    if not failed:
        return ""
    return "## Plugins that failed\n\n" + "\n".join(
        f"- ⚠ `{error.plugin}` ({error.stage}): {error.message}" + (f" **Fix:** {error.fix}" if error.fix else "")
        for error in failed
    )


def build_start_page(labs: list[Lab], failed: list[PluginError], pm: PlaygroundPluginManager, tabs: gr.Tabs,
                     instructor: bool = False) -> tuple[dict[str, gr.Button], gr.Markdown]:
    """The lab index: one button per lab that opens its tab (no hunting through an
    overflow menu), students' own labs first and marked as theirs, failed plugins last.
    Returns each lab's button (by lab id) and the failed-plugins list, which
    ``flag_failed_builds`` completes once the tabs are built."""
    buttons: dict[str, gr.Button] = {}
    yours = [lab for lab in labs if not is_builtin(lab, pm)]
    builtin = [lab for lab in labs if is_builtin(lab, pm)]
    gr.Markdown("Each button opens a lab's tab. Your own labs (installed plugins) come first.")
    for heading, group in (("Your labs", yours), ("Built-in labs", builtin)):
        if not group:
            continue
        gr.Markdown(f"## {heading}")
        for lab in group:
            with gr.Row(equal_height=True):
                button = gr.Button(lab.title, size="md", scale=1, min_width=200,
                                   variant="primary" if lab in yours else "secondary")
                buttons[lab.id] = button
                note = f"{lab.description} " if lab.description else ""
                with gr.Column(scale=3):
                    gr.Markdown(f"{note}*({lab_origin(lab, pm)})*", container=False)
            button.click(lambda lab_id=lab.id: gr.Tabs(selected=lab_id), None, tabs, api_name=False, queue=False)
    if instructor:
        gr.Markdown("## For the instructor")
        with gr.Row(equal_height=True):
            button = gr.Button("Instructor", size="md", scale=1, min_width=200)
            with gr.Column(scale=3):
                gr.Markdown("Your class's votes, live, beside each measured answer; new rounds, reset and CSV "
                            "(needs the instructor token).", container=False)
        button.click(lambda: gr.Tabs(selected="instructor"), None, tabs, api_name=False, queue=False)
    return buttons, gr.Markdown(failed_plugins_markdown(failed), visible=bool(failed))


def flag_failed_builds(labs: list[Lab], pm: PlaygroundPluginManager, buttons: dict[str, gr.Button],
                       tabs: dict[str, gr.Tab], failed_list: gr.Markdown) -> None:
    """After the tabs are built: mark with ⚠ the Start-page button and the tab of each lab
    whose plugin failed while building, and list every failed plugin on the Start page.
    (The Start page is built first, so it cannot know yet which builds will fail.)"""
    for lab in labs:
        info = pm.infos.get(lab.plugin)
        if info is not None and info.error is not None and info.error.stage == "build":
            buttons[lab.id].value = f"⚠ {lab.title}"
            tabs[lab.id].label = f"⚠ {lab.title}"
    failed_list.value = failed_plugins_markdown(pm.errors)
    failed_list.visible = bool(pm.errors)


def build_models_panel(registry: ModelRegistry) -> None:
    gr.Markdown(
        "Every model the labs can use. Bundled models always load; the others come from the "
        "Hugging Face Hub where it is reachable (a hosted Space), or from the local cache. "
        "`backend` says what computes a loaded model's vectors (ONNX Runtime or torch); a quantised "
        "model (`minilm-int8`) measures how far its vectors drift from the exact ones when it loads, "
        "and `fidelity` shows that measurement: load it here to see it."
    )
    table = gr.Dataframe(value=models_table(registry), headers=MODEL_COLUMNS, interactive=False, wrap=True,
                         column_widths=MODEL_COLUMN_WIDTHS, elem_classes=["models-table"])
    with gr.Row():
        refresh = gr.Button("Refresh")
        to_load = gr.Dropdown(choices=list(registry.specs), label="Load a model now", scale=3)
        load = gr.Button("Load", variant="primary")

    def refresh_table(request: gr.Request):
        return models_table(registry, session_id(request))

    @friendly_errors
    def load_model(model_id: str, request: gr.Request):
        if not model_id:
            raise ValueError("Pick a model to load first.")
        registry.get(model_id)
        return models_table(registry, session_id(request))

    refresh.click(refresh_table, None, table, api_name="models_status")
    load.click(load_model, to_load, table, api_name="models_load")


def build_plugins_panel(pm: PlaygroundPluginManager) -> None:
    gr.Markdown("Installed plugins, the labs and models each contributes, and any error.")
    gr.Dataframe(value=plugins_table(pm), headers=PLUGIN_COLUMNS, interactive=False, wrap=True)
    for error in pm.errors:
        error_panel(error)


def build_app(
    pm: Optional[PlaygroundPluginManager] = None, registry: Optional[ModelRegistry] = None,
    votes: Optional[VoteStore] = None,
) -> gr.Blocks:
    """The whole app: header, one tab per lab (ordered by ``order`` then title), a tab per
    plugin that failed before it could build, the Models and Plugins panels, and the
    Instructor tab when ``PLAYGROUND_INSTRUCTOR_TOKEN`` is set. ``votes`` is the class's
    vote store (by default a file under ``PLAYGROUND_DATA_DIR``)."""
    gradio_fixes.apply()  # identical images returned at once must not truncate each other
    pm = pm if pm is not None else create_plugin_manager()
    registry = registry if registry is not None else create_registry(pm)
    labs = collect_labs(pm)
    failed_early = list(pm.errors)  # import or register failures: no lab to build
    votes = votes if votes is not None else VoteStore()
    results = ResultCache()  # a class pressing Run with the same settings computes once
    # Files users upload or download (model zips among them) are removed from Gradio's
    # cache once they are an hour old, checked every hour, so a class demo's disk stays bounded.
    with gr.Blocks(title="Contrastive playground", delete_cache=(3600, 3600)) as demo:
        gr.Markdown(HEADER)
        build_login_row()  # on a ZeroGPU Space: log in to spend your own GPU quota
        classroom = Classroom(votes, led=bool(instructor_token()))  # inside the Blocks: it holds the browser's anonymous id
        with gr.Tabs() as tabs:
            with gr.Tab("Start", id="start"):
                classroom.class_banner()
                buttons, failed_list = build_start_page(labs, failed_early, pm, tabs, instructor=bool(instructor_token()))
            lab_tabs = {}
            for lab in labs:
                with gr.Tab(lab.title, id=lab.id) as tab:
                    build_lab_tab(lab, registry, pm, tab, classroom, results)
                lab_tabs[lab.id] = tab
            flag_failed_builds(labs, pm, buttons, lab_tabs, failed_list)
            for error in failed_early:
                with gr.Tab(f"⚠ {error.plugin}", id=f"error-{error.plugin}"):
                    error_panel(error)
            with gr.Tab("Models", id="models"):
                build_models_panel(registry)
            with gr.Tab("Plugins", id="plugins"):
                build_plugins_panel(pm)
            if instructor_token():  # without the variable the tab does not exist
                with gr.Tab("Instructor", id="instructor"):
                    build_instructor_tab(votes, demo)

        classroom.follow(demo)  # every vote panel named and, with an instructor, in its question's phase

        def forget_session(request: gr.Request):
            registry.drop_session(session_id(request))

        demo.unload(forget_session)
        give_api_defaults(demo)  # gradio_client may leave out any argument the page can leave empty
        label_empty_tables(demo)  # no "1 2 3" placeholder headers before a run (inside: the config is taken on exit)
    demo.queue(default_concurrency_limit=DEFAULT_CONCURRENCY, max_size=MAX_QUEUE)
    demo.playground_registry = registry  # for tests and the CLI
    demo.playground_plugins = pm
    demo.playground_labs = labs
    demo.playground_votes = votes
    demo.playground_results = results
    warm_up()  # torch and friends, in the background: building the tabs imported none of them
    return demo


def launch_kwargs() -> dict:
    """Arguments for ``demo.launch`` shared by the CLI and the Space's app.py."""
    return {"theme": gr.themes.Soft(), "css": CSS, "max_file_size": MAX_UPLOAD, "show_error": True}
