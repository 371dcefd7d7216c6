"""The security suite: hostile input and attacks through HTTP, on PostgreSQL and on the embedded SQLite default."""
