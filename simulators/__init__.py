"""Simulators: a synthetic district and the feeds its patrols, citizens and cameras would send."""
