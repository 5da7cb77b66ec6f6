"""View models, pure: figures and rows in, what a screen shows out."""
