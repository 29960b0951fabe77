"""The tab: two model pickers and the texts in; for each model, side by side, the
sorted cosine heatmap, the intra/inter histograms and a 2-D projection; a figures
table, the noise sweep, the prediction revealed and downloads out.

It only wires components to ``compute`` and ``figures``. The UMAP warm-up starts
here (a daemon thread, once per process) so the first UMAP click does not wait.
"""
from __future__ import annotations

import copy
from typing import Optional

import gradio as gr

from playground.science import geometry
from playground.classroom.ui import ClassVotes
from playground.web.downloads import write_downloads
from playground.contract.lab import LabContext
from playground.web.result_cache import data_hash
from playground.web.ui import friendly_errors, model_choices, serialised_plot, session_id

from . import isotropy
from .noise import SCALE_NAMES
from .compute import (
    DEFAULT_NOISE_SCALE, DEFAULT_SIGMAS, MAX_ROWS, MIN_PER_LABEL, NOISE_AFTER, NOISE_MODES, NOISE_SCALES,
    PREDICT_CHOICES, PREDICT_QUESTION, AnisotropyResult, analyse, default_models, describe_texts, load_texts,
    parse_model_ids, project, reveal,
)
from .figures import PROJECTION_NAMES, all_figures, heatmap_figure, histogram_figure, projection_figure, sweep_figure

LESSON = """### Does the training objective shape the space? An illustrative comparison
Two encoders read the same few hundred short texts from four domains that share almost nothing: clinical notes,
contract clauses, lines of poetry and the opening lines of Python docstrings. **Model A** (left) was not trained to
make the cosine of two texts' vectors mean anything: BERT was pre-trained to fill in masked tokens and to say whether
one segment follows another (next-sentence prediction, a yes/no head on the `[CLS]` token: it does compare two
segments, read together, but nothing in it asks the vectors of unrelated texts to point apart); GloVe fits word
co-occurrence counts (a weighted least-squares fit, not a likelihood), and its word vectors are far less alike than the
texts they make: mean-pooled here into one vector per text, the average keeps what the words share (the README
measures both). **Model B** (right), all-MiniLM-L6-v2, is MiniLM (a small transformer distilled from a
masked-LM-pretrained one) fine-tuned *contrastively* on a billion sentence pairs: each text is paid to pick its own
pair out of the batch, so texts that belong together are pulled close and the others pushed away. Each text becomes a
unit vector, and the cosine of two vectors is how alike the model finds the two texts.

The two models differ in more than the objective: pooling, dimension, architecture and training data differ too, so
this comparison illustrates the lesson; it does not show that the objective alone decides the shape (that needs one
encoder trained with two objectives, a separate lab). Contrastive training *tends to* make the raw cosine usable
(it tends to spread vectors: Wang & Isola 2020; Gao et al. 2021), not always: CLIP's image and text vectors sit in two separate cones (the modality
gap, Liang et al. 2022). Commit to a prediction below, then run.

*Further reading:* Devlin et al. 2019 (BERT: masked LM + NSP); Pennington et al. 2014 (GloVe); Ethayarajh 2019 and
Li et al. 2020 (anisotropy of contextual embeddings); Henderson et al. 2017 (in-batch negatives for retrieval);
Reimers & Gurevych 2019 (Sentence-BERT, trained with NLI classification, regression and triplet objectives); Liang et
al. 2022 (the modality gap)."""

LOOK_FOR = """- **Heatmap** (every pair of texts, sorted by domain, one colour scale for both models). A model that tells the
  domains apart shows four bright squares on the diagonal over a darker background. A model whose vectors crowd into a
  narrow cone is bright almost everywhere: every text looks like every other.
- **Histograms** (same axes for both models): cosines of same-domain pairs (*intra*) against different-domain pairs
  (*inter*). Where do they sit, and how much do they overlap? The **separation AUC** is the chance that a random
  same-domain pair scores above a random cross-domain pair (0.5: a coin toss; 1: a clean gap).
- **Mean cosine** over all pairs measures *anisotropy*: near 1 the vectors all point one way. It is (almost exactly)
  the squared length of the mean vector, so near 0 says only that the vectors have no common direction: two opposite
  clusters or a flat sheet through the origin also score 0. Necessary for using the whole sphere, not sufficient.
- **Alignment** (lower: same-domain texts sit closer) and **uniformity** (lower: the vectors spread more evenly over
  the sphere) are the two properties Wang & Isola (2020) show a contrastive loss optimises together; the temperature
  sets how much weight each gets (Wang & Liu 2021). Wang & Isola take alignment over the loss's own positive pairs (for
  MiniLM, its training pairs); here same-domain pairs stand in for them. Read the two together: a model can look well
  aligned only because *everything* is close.
- **Projection**: PCA subtracts the mean vector first, so the direction every vector of a cone shares is removed
  and only what is left is drawn: the domains may well show up there. The information is in the vectors, but a raw
  cosine is dominated by the shared direction (the second question below measures how much). t-SNE and UMAP keep
  neighbourhoods; the distances between their clusters mean little.
- **Linear probe**: a logistic regression trained on a stratified 20% of the texts and scored on the other 80%. On
  clean vectors both models may do well: the domain is *in* the vectors somewhere. Then Gaussian noise goes on every
  vector. Domains separated by wide margins survive more noise than domains that differ only in small directions.
  **How much noise** is a choice, and only one choice is neutral. Noise N(0, s) on every coordinate puts s along every
  direction, the ones the probe uses included. *Matched dimension* (the default): the smaller model's vectors are
  embedded isometrically in the larger model's dimension (zero-padded, then one fixed random rotation: every cosine
  unchanged) and every model gets the same s on every coordinate: the same noise along every direction and in total.
  *Equal total noise*: the noise vector is as long for both models, each in its own dimension d, so every direction
  gets σ/√d: √(384/50) ≈ 2.8 times more for 50-d GloVe than for 384-d MiniLM, which favours the larger model. *Per
  coordinate*, in each model's own dimension: the same noise along each direction, but a 384-d vector carries it in
  334 more dimensions (at σ = 0.1 a noise vector of length about 1.96 against 0.71), noise a probe trained on a fifth
  of the texts must learn to ignore, which favours the smaller model. After the run, the text under the sweep says
  what each of the three gave.

**After the run, discuss:** why can a model with poor cosine separation still score well on the clean probe? What
does that say about using raw cosine similarity for search with such a model?"""

ISOTROPY_LESSON = """### Second question: is anisotropy just a shift?
If most of Model A's cone is one direction that every text shares, removing it should help. **Centering** subtracts
the corpus mean vector; **PCA whitening** also rescales every principal direction to unit variance (the
BERT-whitening recipe, Su et al. 2021). Both are fitted on these texts; then every figure is measured again, side by
side with the raw vectors. Commit to a prediction, then re-measure."""

NOISE_CHOICES = [
    ("after L2 normalisation (default: the noisy vectors leave the unit sphere)", NOISE_AFTER),
    ("before L2 normalisation (noisy vectors are put back on the unit sphere)", "before"),
]
NOISE_SCALE_CHOICES = [
    ("matched dimension (default: both models in the larger dimension, the same noise along every direction)",
     "matched"),
    ("equal total noise (σ is the noise vector's length in each model's own dimension: favours the larger model)",
     "total"),
    ("per coordinate (σ on every coordinate of each model's own dimension: favours the smaller model)", "coordinate"),
]
POSTPROCESS_CHOICES = [(isotropy.POSTPROCESS[k], k) for k in ("center", "whiten")]
PROJECTION_CHOICES = [(name, key) for key, name in PROJECTION_NAMES.items()]
UPLOAD_HELP = (
    f"Optional: your own texts as a UTF-8 CSV with a header row `text,label`, at most {MAX_ROWS} rows, "
    f"at least two labels with {MIN_PER_LABEL}+ texts each. Leave empty for the bundled corpus."
)


def _column(side: str) -> dict:
    with gr.Column(min_width=420):
        title = gr.Markdown(f"#### Model {side}")
        heat = gr.Plot(label=f"Model {side}: cosine matrix", show_label=False)
        hist = gr.Plot(label=f"Model {side}: intra vs inter similarities", show_label=False)
        proj = gr.Plot(label=f"Model {side}: 2-D projection", show_label=False)
    return {"title": title, "heat": heat, "hist": hist, "proj": proj}


def _model_title(result: AnisotropyResult, model_id: str, side: str) -> str:
    f = result.reports[model_id].figures
    return (
        f"#### Model {side}: `{model_id}`\nmean cosine **{f['mean_cosine']:.2f}** · separation AUC "
        f"**{f['separation_auc']:.2f}** · probe **{f['probe_accuracy']:.0%}** clean, "
        f"**{f['probe_accuracy_noisy']:.0%}** at σ = {result.sigma:g} "
        f"({SCALE_NAMES[result.noise_scale]})"
    )


def build(ctx: LabContext) -> None:
    registry = ctx.registry
    geometry.warm_up_umap()  # background, once per process; PLAYGROUND_UMAP_WARMUP=0 turns it off
    model_a_id, model_b_id, fallback_note = default_models(registry)

    gr.Markdown(LESSON, elem_classes=["lesson"])
    with gr.Accordion("What to look for", open=False):
        gr.Markdown(LOOK_FOR)
    with gr.Row():
        model_a = gr.Dropdown(choices=model_choices(registry, "text"), value=model_a_id,
                              label="Model A (left): not trained contrastively")
        model_b = gr.Dropdown(choices=model_choices(registry, "text"), value=model_b_id,
                              label="Model B (right): trained contrastively")
    gr.Markdown(fallback_note, visible=bool(fallback_note), elem_classes=["lesson"])
    with gr.Row():
        upload = gr.File(label="Your texts (CSV, optional)", file_types=[".csv"], type="filepath", scale=2,
                         height=140)
        with gr.Column(scale=3):
            gr.Markdown(UPLOAD_HELP)
            data_info = gr.Markdown(describe_texts(load_texts()))
    with gr.Accordion("Settings: projection, noise, seed", open=False):
        with gr.Row():
            projection = gr.Radio(PROJECTION_CHOICES, value="pca", label="2-D projection",
                                  info="PCA is instant; t-SNE and UMAP take a few seconds")
            seed = gr.Number(value=0, precision=0, label="Seed", info="the probe's split and the noise")
        with gr.Row():
            noise_scale = gr.Radio(NOISE_SCALE_CHOICES, value=DEFAULT_NOISE_SCALE, label="How much noise σ means")
            sigma = gr.Slider(0.0, 3.0, value=DEFAULT_SIGMAS[DEFAULT_NOISE_SCALE], step=0.005,
                              label="Noise σ for the stress test",
                              info="read on the scale chosen on the left; the sweep plot covers a range around it")
            noise = gr.Radio(NOISE_CHOICES, value=NOISE_AFTER, label="The noise is added…")
    guess = gr.Radio([(text, key) for key, text in PREDICT_CHOICES.items()], label=PREDICT_QUESTION)
    run = gr.Button("Run the experiment", variant="primary")
    revealed = gr.Markdown()
    run_votes = ClassVotes(ctx, "run", guess, revealed)
    table = gr.Dataframe(label="Figures (each row's meaning on the right)", interactive=False, wrap=True)
    with gr.Row(equal_height=False):
        left, right = _column("A"), _column("B")
    sweep = gr.Plot(label="Linear probe accuracy against noise σ", show_label=False)
    noise_read = gr.Markdown()
    gr.Markdown(ISOTROPY_LESSON, elem_classes=["lesson"])
    with gr.Row():
        methods = gr.CheckboxGroup(POSTPROCESS_CHOICES, value=["center", "whiten"], label="Post-processing")
        guess_shift = gr.Radio([(text, key) for key, text in isotropy.PREDICT_CHOICES.items()],
                               label=isotropy.PREDICT_QUESTION)
    remeasure = gr.Button("Re-measure after post-processing")
    shift_revealed = gr.Markdown()
    shift_votes = ClassVotes(ctx, "postprocess", guess_shift, shift_revealed)
    shift_table = gr.Dataframe(label="Raw and post-processed figures, side by side", interactive=False, wrap=True)
    with gr.Row():
        prepare = gr.Button("Prepare downloads: figures as JSON and CSV, plots as PNG")
        files = gr.File(label="Downloads", file_count="multiple", interactive=False, height=140)
    state = gr.State(None)

    @friendly_errors
    def describe_upload(path: Optional[str]):
        if not path:
            return describe_texts(load_texts())
        return describe_texts(load_texts(path), source="your file")

    @friendly_errors
    def run_experiment(a, b, path, seed_value, sigma_value, noise_mode, method, prediction,
                       scale=DEFAULT_NOISE_SCALE, request: gr.Request = None, progress=gr.Progress()):
        if not a or not b:
            raise ValueError("Pick a model for each side (A and B) first.")
        ids = parse_model_ids([a, b])
        if noise_mode not in NOISE_MODES:
            raise ValueError(f"Choose where the noise goes: {', '.join(NOISE_MODES)}.")
        if scale not in NOISE_SCALES:
            raise ValueError(f"Choose how much noise σ means: {', '.join(NOISE_SCALES)}.")
        frame = load_texts(path or None)
        settings = dict(sigma=float(sigma_value if sigma_value is not None else DEFAULT_SIGMAS[scale]),
                        noise=noise_mode, noise_scale=scale, seed=int(seed_value or 0), projection=method or "pca")
        session = session_id(request)

        def compute_and_draw():
            result = analyse(registry, ids, frame, session=session, progress=lambda f, m: progress(f, desc=m),
                             **settings)
            progress(0.98, desc="drawing the plots")
            views = [result.table()]
            for model_id, side in zip(ids, "AB"):
                views += [_model_title(result, model_id, side), *map(serialised_plot, (
                    heatmap_figure(result, model_id), histogram_figure(result, model_id),
                    projection_figure(result, model_id)))]
            return result, [*views, serialised_plot(sweep_figure(result)), result.noise_reading()]

        result, views = ctx.shared_run(compute_and_draw, ids, session, data_hash(frame), settings)
        # each student gets their own copy of the result: re-projecting it must not change another's
        return [reveal(result, prediction), *views, copy.deepcopy(result), None]

    @friendly_errors
    def remeasure_shifted(chosen, prediction, result: Optional[AnisotropyResult], progress=gr.Progress()):
        if result is None:
            raise ValueError("Run the experiment first; then its vectors can be centred or whitened.")
        if not chosen:
            raise ValueError("Tick centering, whitening or both first.")
        progress(0.1, desc="re-measuring every figure after post-processing")
        figures = isotropy.postprocess_figures(result, ["none", *chosen])
        rows = isotropy.comparison_table(figures)
        return isotropy.reveal(result, figures, prediction), {"headers": rows[0], "data": rows[1:]}

    def scale_changed(scale):
        return gr.update(value=DEFAULT_SIGMAS.get(scale, DEFAULT_SIGMAS[DEFAULT_NOISE_SCALE]))

    @friendly_errors
    def reproject(method, result: Optional[AnisotropyResult], progress=gr.Progress()):
        if result is None:
            return gr.skip(), gr.skip(), None
        project(result, method or "pca", progress=lambda f, m: progress(f, desc=m))
        return (*(projection_figure(result, model_id) for model_id in result.reports), result)

    @friendly_errors
    def downloads(result: Optional[AnisotropyResult], progress=gr.Progress()):
        if result is None:
            raise ValueError("Run the experiment first; then its figures and plots can be downloaded.")
        progress(0.1, desc="writing JSON, CSV and PNG files")
        return write_downloads("anisotropy", figures=result.to_json(), table=result.long_table(),
                               plots=all_figures(result))

    def refresh_models(a, b, request: gr.Request):
        choices = model_choices(registry, "text", session_id(request))
        return gr.update(choices=choices, value=a), gr.update(choices=choices, value=b)

    column_outputs = [c for col in (left, right) for c in (col["title"], col["heat"], col["hist"], col["proj"])]
    run_event = run.click(
        run_experiment, [model_a, model_b, upload, seed, sigma, noise, projection, guess, noise_scale],
        [revealed, table, *column_outputs, sweep, noise_read, state, files], api_name="anisotropy_run",
    )
    run_votes.after(run_event)
    shift_votes.after(remeasure.click(remeasure_shifted, [methods, guess_shift, state], [shift_revealed, shift_table],
                    api_name="anisotropy_postprocess"))
    noise_scale.change(scale_changed, noise_scale, sigma, api_name="anisotropy_noise_scale")
    projection.change(reproject, [projection, state], [left["proj"], right["proj"], state],
                      api_name="anisotropy_project")
    upload.change(describe_upload, upload, data_info, api_name="anisotropy_data")
    prepare.click(downloads, state, files, api_name="anisotropy_downloads")
    if ctx.tab is not None:
        ctx.tab.select(refresh_models, [model_a, model_b], [model_a, model_b], api_name="anisotropy_models")
