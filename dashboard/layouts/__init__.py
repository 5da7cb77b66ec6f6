"""Pages and panels as pure functions of data. No callbacks are registered here."""
