"""The HTTP edge of the screens: the socket glue, the wall's and replay's endpoints, the drill report,
the territory for the map, and the case command desk."""
