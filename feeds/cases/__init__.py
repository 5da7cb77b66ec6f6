"""The case loop (闭环): the pure machine, its writes and reads in the database, escalation of overdue
cases (`python -m feeds.cases.escalator`), and who could take a case."""
