//! Full-text search over what a call record says, not over its JSON.
//!
//! `llm_call_log_texts` holds one row per record: the text of its messages and its reply,
//! one per line (`log_text::search_text` in the server writes it with the record, in the
//! same transaction; this migration renders the same text for the records already there).
//!
//! - SQLite: an FTS5 index with the `trigram` tokenizer over that table (external content,
//!   so the text is stored once). Trigrams match any substring of 3+ characters in any
//!   script, Chinese included, case-insensitively. Triggers keep the index in step: a text
//!   row inserted is indexed, and a record deleted (retention) takes its text and index
//!   entries with it.
//! - PostgreSQL: `pg_trgm` (shipped with Debian's postgresql package; a trusted extension,
//!   so the database owner may create it) and a GIN trigram index that `ILIKE '%…%'` uses;
//!   the text row goes with its record through `ON DELETE CASCADE`.

use sea_orm_migration::{prelude::*, sea_orm::DatabaseBackend};

#[derive(DeriveMigrationName)]
pub struct Migration;

const SQLITE_UP: &str = "
CREATE TABLE llm_call_log_texts (
    log_id INTEGER PRIMARY KEY,
    body TEXT NOT NULL
);
INSERT INTO llm_call_log_texts (log_id, body)
SELECT log_id, body FROM (
    SELECT l.id AS log_id, concat_ws(char(10),
        (SELECT group_concat(t, char(10)) FROM (
            SELECT CASE json_type(m.value, '$.content')
                WHEN 'text' THEN json_extract(m.value, '$.content')
                WHEN 'array' THEN (
                    SELECT group_concat(json_extract(p.value, '$.text'), char(10))
                    FROM json_each(m.value, '$.content') AS p
                    WHERE p.type = 'object' AND json_type(p.value, '$.text') = 'text')
            END AS t
            FROM json_each(CASE WHEN json_valid(l.request_messages)
                                 AND json_type(l.request_messages) = 'array'
                            THEN l.request_messages ELSE '[]' END) AS m
            WHERE m.type = 'object'
            ORDER BY m.key)
         WHERE t <> ''),
        NULLIF(l.response_content, '')) AS body
    FROM llm_call_logs AS l)
WHERE body <> '';
CREATE VIRTUAL TABLE llm_call_log_search USING fts5(
    body, content = 'llm_call_log_texts', content_rowid = 'log_id', tokenize = 'trigram');
INSERT INTO llm_call_log_search (llm_call_log_search) VALUES ('rebuild');
CREATE TRIGGER llm_call_log_texts_index AFTER INSERT ON llm_call_log_texts BEGIN
    INSERT INTO llm_call_log_search (rowid, body) VALUES (new.log_id, new.body);
END;
CREATE TRIGGER llm_call_logs_unindex AFTER DELETE ON llm_call_logs BEGIN
    INSERT INTO llm_call_log_search (llm_call_log_search, rowid, body)
        SELECT 'delete', log_id, body FROM llm_call_log_texts WHERE log_id = old.id;
    DELETE FROM llm_call_log_texts WHERE log_id = old.id;
END;
";

const SQLITE_DOWN: &str = "
DROP TRIGGER IF EXISTS llm_call_logs_unindex;
DROP TRIGGER IF EXISTS llm_call_log_texts_index;
DROP TABLE IF EXISTS llm_call_log_search;
DROP TABLE IF EXISTS llm_call_log_texts;
";

const POSTGRES_UP: &str = "
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE TABLE llm_call_log_texts (
    log_id BIGINT PRIMARY KEY REFERENCES llm_call_logs (id) ON DELETE CASCADE,
    body TEXT NOT NULL
);
INSERT INTO llm_call_log_texts (log_id, body)
SELECT log_id, body FROM (
    SELECT l.id AS log_id, concat_ws(E'\\n',
        (SELECT string_agg(t, E'\\n' ORDER BY i) FROM (
            SELECT e.i, CASE jsonb_typeof(e.m -> 'content')
                WHEN 'string' THEN e.m ->> 'content'
                WHEN 'array' THEN (
                    SELECT string_agg(p.part ->> 'text', E'\\n' ORDER BY p.j)
                    FROM jsonb_array_elements(e.m -> 'content') WITH ORDINALITY AS p (part, j)
                    WHERE jsonb_typeof(p.part -> 'text') = 'string')
            END AS t
            FROM jsonb_array_elements(CASE WHEN jsonb_typeof(l.request_messages) = 'array'
                                      THEN l.request_messages ELSE '[]'::jsonb END)
                 WITH ORDINALITY AS e (m, i)) AS texts
         WHERE t <> ''),
        NULLIF(l.response_content, '')) AS body
    FROM llm_call_logs AS l) AS rendered
WHERE body <> '';
CREATE INDEX idx_llm_call_log_texts_trgm ON llm_call_log_texts USING gin (body gin_trgm_ops);
";

const POSTGRES_DOWN: &str = "DROP TABLE IF EXISTS llm_call_log_texts;";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = match manager.get_database_backend() {
            DatabaseBackend::Sqlite => SQLITE_UP,
            _ => POSTGRES_UP,
        };
        manager.get_connection().execute_unprepared(sql).await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        let sql = match manager.get_database_backend() {
            DatabaseBackend::Sqlite => SQLITE_DOWN,
            _ => POSTGRES_DOWN,
        };
        manager.get_connection().execute_unprepared(sql).await?;
        Ok(())
    }
}
