"""Replay (回放): the frames of a past period (pure) and the rows read for them."""
