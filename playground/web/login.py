"""The optional Hugging Face login, shown on a ZeroGPU Space only.

ZeroGPU counts GPU time per visitor: a visitor logged in to Hugging Face spends their own
quota, one who is not shares the quota of their IP address with everyone behind it (a class
behind one school network shares one). So on a ZeroGPU Space the header offers a login
button (Spaces OAuth: ``hf_oauth: true`` in the README's front matter) with one sentence
saying why; anywhere else (a laptop, a CPU or GPU Space) there is no quota and no button.
"""
from __future__ import annotations

import os

import gradio as gr

from playground.models.gpu import on_zero_gpu

LOGIN_NOTE = (
    "This Space borrows a GPU for the runs that gain from one, on **your** Hugging Face GPU quota. "
    "Without logging in, everyone on your network shares one small quota; log in to use your own. "
    "When a quota runs out, runs go on, on the CPU."
)


def login_offered() -> bool:
    """True on a ZeroGPU Hugging Face Space with OAuth on: the Space sets ``SYSTEM=spaces``, and
    ``OAUTH_CLIENT_ID`` where the front matter says ``hf_oauth: true``."""
    on_a_space = os.environ.get("SYSTEM") == "spaces" and bool(os.environ.get("SPACE_ID"))
    return on_a_space and bool(os.environ.get("OAUTH_CLIENT_ID")) and on_zero_gpu()


def build_login_row() -> None:
    """The login button and why it matters, where ``login_offered()``; nothing elsewhere."""
    if not login_offered():
        return
    with gr.Row(equal_height=True):
        gr.LoginButton(size="sm", scale=0, min_width=220)
        gr.Markdown(LOGIN_NOTE, container=False)
