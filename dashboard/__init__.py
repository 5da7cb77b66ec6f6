"""The command-centre screens: a Dash app with Socket.IO push on its Flask server."""
