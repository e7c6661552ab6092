"""PostgreSQL only: French full-text search that ignores accents, on a stored, weighted vector
(title A, keywords B, authors and publisher C, summary D) under a GIN index, kept current by a
trigger; and trigram indexes for “did you mean …?”. Ranking from a stored vector is ~30× faster
than computing it at query time. SQLite searches the `folded` column instead."""

from django.db import migrations

POSTGRES_FORWARD = """
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;
DO $$ BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = 'french_unaccent') THEN
    CREATE TEXT SEARCH CONFIGURATION french_unaccent (COPY = french);
    ALTER TEXT SEARCH CONFIGURATION french_unaccent
      ALTER MAPPING FOR hword, hword_part, word WITH unaccent, french_stem;
  END IF;
END $$;
ALTER TABLE resources_resource ADD COLUMN search_vector tsvector;
CREATE FUNCTION resources_resource_search_vector() RETURNS trigger AS $$
BEGIN
  NEW.search_vector :=
      setweight(to_tsvector('french_unaccent'::regconfig, coalesce(NEW.title, '')), 'A')
   || setweight(to_tsvector('french_unaccent'::regconfig, coalesce(NEW.keywords, '')), 'B')
   || setweight(to_tsvector('french_unaccent'::regconfig,
                            coalesce(NEW.authors, '') || ' ' || coalesce(NEW.publisher, '')), 'C')
   || setweight(to_tsvector('french_unaccent'::regconfig, coalesce(NEW.summary, '')), 'D');
  RETURN NEW;
END $$ LANGUAGE plpgsql;
CREATE TRIGGER resources_resource_search_vector_update
  BEFORE INSERT OR UPDATE OF title, keywords, authors, publisher, summary
  ON resources_resource FOR EACH ROW EXECUTE FUNCTION resources_resource_search_vector();
UPDATE resources_resource SET title = title;
CREATE INDEX resource_search_vector_idx ON resources_resource USING GIN (search_vector);
CREATE INDEX searchterm_trgm_idx ON resources_searchterm USING GIN (term gin_trgm_ops);
"""

POSTGRES_BACKWARD = """
DROP INDEX IF EXISTS searchterm_trgm_idx;
DROP TRIGGER IF EXISTS resources_resource_search_vector_update ON resources_resource;
DROP FUNCTION IF EXISTS resources_resource_search_vector();
ALTER TABLE resources_resource DROP COLUMN IF EXISTS search_vector;
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_FORWARD)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(POSTGRES_BACKWARD)


class Migration(migrations.Migration):
    dependencies = [("resources", "0001_catalogue")]

    operations = [migrations.RunPython(forward, backward)]
