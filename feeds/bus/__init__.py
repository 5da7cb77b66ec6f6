"""The bus: channels (Redis pub/sub and streams, an in-memory twin), the push to the screens, the live
snapshot's store, and the verdicts on case commands."""
