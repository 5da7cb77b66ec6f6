"""Drills (应急演练): the trainer's control messages, a drill read from the database, its score."""
