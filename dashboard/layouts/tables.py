"""What every big table of the app shares: one AG Grid fed with rows (never a tree of Dash components per
cell), in the app's dark navy look."""
from __future__ import annotations

GRID_THEME = {"function": (
    "themeQuartz.withParams({backgroundColor: '#0d2347', foregroundColor: '#e6eefc', headerTextColor: '#8fa6c8',"
    " headerBackgroundColor: '#0d2347', borderColor: 'rgba(143, 166, 200, 0.18)', accentColor: '#38bdf8',"
    " rowHoverColor: 'rgba(56, 189, 248, 0.15)', oddRowBackgroundColor: 'rgba(4, 13, 31, 0.25)',"
    " fontFamily: 'inherit', wrapperBorder: false, wrapperBorderRadius: 0, headerFontWeight: 400,"
    " columnBorder: false})")}
