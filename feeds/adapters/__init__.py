"""Producers that speak an outside system's published protocol on one side and publish our own messages
(feeds/schemas.py) on the other, like the simulator: nothing downstream knows where a message came from.

- osmand: patrollers' phones running Traccar Client or any OsmAnd-protocol tracker (HTTP), and Traccar's
  JSON position forwarding (so a site running Traccar for its 200 device protocols plugs in too).
- devices: which phone is which patrol unit (the registry the OsmAnd adapter looks devices up in).
"""
