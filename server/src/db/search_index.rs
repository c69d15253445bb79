//! SQLite's search index over the records' text takes new texts in batches, not in each
//! record's commit (migration 000051): FTS5 writes an index segment per transaction, which
//! made a record committed alone write about a third more pages. The text itself is written
//! with its record, and `llm_call_log_search_progress` says up to which record id the index
//! holds the texts. A background task catches up about once a second, and a text search
//! catches up first (`call_logs::catch_up_for`), so it sees every record committed before
//! it, as when the index was written with each record.
//!
//! Record ids only grow (`AUTOINCREMENT`, one writer at a time), so every text past the mark
//! is one the index does not hold yet. PostgreSQL's trigram index has no per-transaction
//! cost: its texts are indexed as they are written and nothing runs here.

use std::{sync::LazyLock, time::Duration};

use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement, TransactionTrait};

use super::Db;

/// Texts indexed per transaction: records wait for the one write connection meanwhile, so
/// each transaction stays short: about a millisecond (500 a transaction held it ~5 ms,
/// which every call finishing meanwhile waited out).
const BATCH: u64 = 100;

/// How often the index catches up in the background, so that a search seldom has more
/// than this long's worth of texts to index first.
const EVERY: Duration = Duration::from_secs(1);

/// Indexes the next texts past the mark and moves the mark behind them, in one transaction:
/// a search sees either both or neither. The write comes first, so the transaction holds
/// the write lock from its first statement (two servers sharing the file take turns).
///
/// `BATCH` is written into the texts, not bound: SQLite writes a bound `LIMIT`'s value into
/// the prepared statement, so every bind made it prepare the statement again, ~130k
/// instructions each time.
static INDEX_NEXT: LazyLock<String> = LazyLock::new(|| {
    format!(
        "INSERT INTO llm_call_log_search (rowid, body) \
         SELECT log_id, body FROM llm_call_log_texts \
         WHERE log_id > (SELECT indexed_up_to FROM llm_call_log_search_progress) \
         ORDER BY log_id LIMIT {BATCH}"
    )
});

static MOVE_MARK: LazyLock<String> = LazyLock::new(|| {
    format!(
        "UPDATE llm_call_log_search_progress SET indexed_up_to = (\
         SELECT MAX(log_id) FROM (SELECT log_id FROM llm_call_log_texts \
         WHERE log_id > indexed_up_to ORDER BY log_id LIMIT {BATCH}))"
    )
});

/// Whether some text waits for the index: a read, so that an idle server neither takes the
/// write connection nor opens the index (and pages in FTS5's code) every second.
const ANY_PENDING: &str = "SELECT EXISTS (SELECT 1 FROM llm_call_log_texts \
WHERE log_id > (SELECT indexed_up_to FROM llm_call_log_search_progress))";

/// Indexes every text the index does not hold yet, `BATCH` per transaction, and returns how
/// many. Nothing to do on PostgreSQL.
pub async fn catch_up(db: &Db) -> Result<u64, DbErr> {
    if !db.is_sqlite() || !any_pending(db).await? {
        return Ok(0);
    }
    let mut indexed = 0;
    loop {
        let txn = db.write.begin().await?;
        let batch = txn
            .execute_raw(statement(&INDEX_NEXT))
            .await?
            .rows_affected();
        if batch > 0 {
            txn.execute_raw(statement(&MOVE_MARK)).await?;
        }
        txn.commit().await?;
        db.wrote(batch);
        indexed += batch;
        if batch < BATCH {
            return Ok(indexed);
        }
    }
}

async fn any_pending(db: &Db) -> Result<bool, DbErr> {
    let row = db
        .read
        .query_one_raw(Statement::from_string(DatabaseBackend::Sqlite, ANY_PENDING))
        .await?;
    Ok(row
        .map(|row| row.try_get_by_index::<bool>(0))
        .transpose()?
        .unwrap_or(false))
}

fn statement(sql: &str) -> Statement {
    Statement::from_string(DatabaseBackend::Sqlite, sql)
}

/// `catch_up` once a second, until the task is aborted.
pub async fn catch_up_every_second(db: Db) {
    if !db.is_sqlite() {
        return;
    }
    let mut every = tokio::time::interval(EVERY);
    loop {
        every.tick().await;
        if let Err(err) = catch_up(&db).await {
            tracing::warn!(%err, "indexing call-log texts for the search failed");
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use sea_orm::ConnectionTrait;

    use super::{super::Db, catch_up};
    use crate::db::call_logs::{self, LogFilter};

    async fn write(db: &Db, records: &[(&str, &str)]) -> Vec<i64> {
        let rows: Vec<_> = records
            .iter()
            .map(|(question, answer)| call_logs::sample(question, answer))
            .collect();
        call_logs::insert_batch(db, &rows, &[]).await.unwrap()
    }

    async fn found(db: &Db, text: &str) -> Vec<i64> {
        let filter = LogFilter {
            text: Some(text.into()),
            ..LogFilter::default()
        };
        let (_, rows) = call_logs::page(db, &filter, 1, 50).await.unwrap();
        let mut ids: Vec<i64> = rows.into_iter().map(|row| row.id).collect();
        ids.sort_unstable();
        ids
    }

    /// What the FTS index itself finds, without the texts past the mark.
    async fn in_index(db: &Db, text: &str) -> Vec<i64> {
        let sql = format!(
            "SELECT rowid FROM llm_call_log_search WHERE body LIKE '%{text}%' ORDER BY rowid"
        );
        db.read
            .query_all_raw(sea_orm::Statement::from_string(db.backend(), sql))
            .await
            .unwrap()
            .iter()
            .map(|row| row.try_get_by_index(0).unwrap())
            .collect()
    }

    async fn delete(db: &Db, id: i64) {
        db.write
            .execute_unprepared(&format!("DELETE FROM llm_call_logs WHERE id = {id}"))
            .await
            .unwrap();
    }

    #[tokio::test]
    async fn a_search_finds_records_the_index_has_not_taken_yet() {
        let (db, _dir) = crate::db::temporary_sqlite().await;

        let first = write(
            &db,
            &[("退款多久到账", "三天内"), ("发票怎么开", "在订单页")],
        )
        .await;
        assert!(
            in_index(&db, "退款多久").await.is_empty(),
            "not in the commit"
        );
        assert_eq!(found(&db, "退款多久").await, vec![first[0]]);
        assert_eq!(
            in_index(&db, "发票怎么").await,
            vec![first[1]],
            "indexed first"
        );

        // One more than a batch; records deleted both after and before the index took
        // their text.
        let many: Vec<(String, String)> = (0..=super::BATCH)
            .map(|n| (format!("退款问题第{n}号"), "好的".to_string()))
            .collect();
        let many: Vec<(&str, &str)> = many.iter().map(|(q, a)| (q.as_str(), a.as_str())).collect();
        let later = write(&db, &many).await;
        delete(&db, first[0]).await;
        delete(&db, later[0]).await;
        assert_eq!(catch_up(&db).await.unwrap(), super::BATCH);
        assert_eq!(catch_up(&db).await.unwrap(), 0);
        assert!(in_index(&db, "退款多久").await.is_empty());
        let last = format!("退款问题第{}号", super::BATCH);
        assert_eq!(in_index(&db, &last).await, vec![*later.last().unwrap()]);
        assert!(found(&db, "退款问题第0号").await.is_empty());
        assert_eq!(found(&db, "退款问题第7号").await, vec![later[7]]);
        // The index agrees with the texts entry by entry: deleting a record whose text
        // the index never held took nothing out of it.
        db.write
            .execute_unprepared(
                "INSERT INTO llm_call_log_search (llm_call_log_search, rank) \
                 VALUES ('integrity-check', 1)",
            )
            .await
            .unwrap();
    }
}
