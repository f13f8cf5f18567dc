"""The web app (gradio): a chat tab and a corpus tab over ``Assistant``."""
