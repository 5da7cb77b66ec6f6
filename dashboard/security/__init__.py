"""Who may do what (access), signing in and the guard (auth), and the people who sign in (users)."""
