"""The Hugging Face Space's entry point (README front matter: sdk gradio, app_file app.py).

The Space sets GRADIO_SERVER_NAME/GRADIO_SERVER_PORT and SPACE_ID; with SPACE_ID set
the registry may download models from the Hub (see README, "Models").
"""
from playground.web.app import build_app, launch_kwargs

demo = build_app()

if __name__ == "__main__":
    demo.launch(**launch_kwargs())
