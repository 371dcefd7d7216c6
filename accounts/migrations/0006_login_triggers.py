"""Two rules on logins that a CHECK cannot hold, as triggers on PostgreSQL and SQLite (issue 11).

- user_scope_units: a commune officer's commune lies in their province; a team leader's team lies in
  their commune (and so in their province).
- user_token_version: changing a login's password, role, scope, phone, active or staff flags bumps its
  token_version, which every access and refresh token must match (accounts.tokens). Whatever path
  changes the row (a service, the admin, a command, a bulk UPDATE) thereby ends its sessions.

SQLite rebuilds a table for many ALTERs and loses its triggers: a later migration that alters
accounts_user must run this one's SQL again. tests/security/test_logins.py fails if the rules are gone.
"""

from django.db import migrations

WATCHED = ["password", "role", "province_id", "commune_id", "team_id", "is_active", "phone", "is_staff", "is_superuser"]
SCOPE = ["role", "province_id", "commune_id", "team_id"]

UNITS_WRONG = """
    (NEW.role IN ('commune_officer', 'team_leader') AND NOT EXISTS (
        SELECT 1 FROM areas_commune c WHERE c.id = NEW.commune_id AND c.province_id = NEW.province_id))
    OR (NEW.role = 'team_leader' AND NOT EXISTS (
        SELECT 1 FROM teams_team t WHERE t.id = NEW.team_id AND t.commune_id = NEW.commune_id))
"""

POSTGRES = f"""
CREATE FUNCTION accounts_user_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF (TG_OP = 'INSERT' OR {" OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in SCOPE)}) AND ({UNITS_WRONG}) THEN
        RAISE EXCEPTION 'user_scope_units: the login''s commune, province and team do not agree'
            USING ERRCODE = 'check_violation', CONSTRAINT = 'user_scope_units';
    END IF;
    IF TG_OP = 'UPDATE' AND ({" OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in WATCHED)}) THEN
        NEW.token_version := OLD.token_version + 1;
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER user_guard BEFORE INSERT OR UPDATE ON accounts_user
    FOR EACH ROW EXECUTE FUNCTION accounts_user_guard();
"""
POSTGRES_REVERSE = "DROP TRIGGER user_guard ON accounts_user; DROP FUNCTION accounts_user_guard();"

SQLITE = [
    f"""CREATE TRIGGER user_scope_units_insert BEFORE INSERT ON accounts_user
    WHEN {UNITS_WRONG}
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: user_scope_units'); END""",
    f"""CREATE TRIGGER user_scope_units_update BEFORE UPDATE OF {", ".join(SCOPE)} ON accounts_user
    WHEN {UNITS_WRONG}
    BEGIN SELECT RAISE(ABORT, 'CHECK constraint failed: user_scope_units'); END""",
    f"""CREATE TRIGGER user_token_version AFTER UPDATE OF {", ".join(WATCHED)} ON accounts_user
    WHEN {" OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in WATCHED)}
    BEGIN UPDATE accounts_user SET token_version = OLD.token_version + 1 WHERE id = NEW.id; END""",
]
SQLITE_REVERSE = [
    "DROP TRIGGER user_scope_units_insert",
    "DROP TRIGGER user_scope_units_update",
    "DROP TRIGGER user_token_version",
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES)
    elif schema_editor.connection.vendor == "sqlite":
        for statement in SQLITE:
            schema_editor.execute(statement)
    else:
        raise NotImplementedError(schema_editor.connection.vendor)


def drop(apps, schema_editor):
    statements = [POSTGRES_REVERSE] if schema_editor.connection.vendor == "postgresql" else SQLITE_REVERSE
    for statement in statements:
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0005_login_consistency"),
        ("teams", "0003_team_list_index"),
    ]

    operations = [migrations.RunPython(create, drop)]
