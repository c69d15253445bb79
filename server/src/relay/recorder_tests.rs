//! The writer keeps SQLite's WAL bounded while it writes, even while readers come and go and
//! one long read transaction holds an old snapshot for a while.

#![allow(clippy::unwrap_used)]

use std::sync::{
    Arc,
    atomic::{AtomicBool, Ordering},
};

use chrono::Utc;
use sea_orm::{ConnectionTrait, TransactionTrait};
use serde_json::json;

use super::Recorder;
use crate::{
    clock::Period,
    db::{
        Db, RESTART_RETRY, WAL_SIZE_LIMIT,
        call_logs::{CallStatus, NewCallLog},
    },
    metrics::Metrics,
};

/// A record that fills ~64 WAL pages: the answer is large and not searchable text.
fn large_record() -> NewCallLog {
    NewCallLog {
        config_id: None,
        template_id: None,
        group_id: None,
        activation_code: None,
        user_id: None,
        api_key_id: None,
        config_name: "c".into(),
        provider: "openai".into(),
        model: "m".into(),
        request_messages: json!([{"role": "user", "content": "hi"}]),
        request_params: None,
        response_content: Some("ok".into()),
        response_data: Some(json!({ "padding": "x".repeat(256 * 1024) })),
        status: CallStatus::Success,
        finish_reason: None,
        upstream_id: None,
        fallback_attempts: None,
        error_code: None,
        error_message: None,
        prompt_tokens: Some(1),
        completion_tokens: Some(1),
        tokens_estimated: false,
        cost: 0.0,
        charged: None,
        exchange_rate: None,
        currency: "CNY".into(),
        retry_count: 0,
        is_stream: false,
        call_time: Utc::now(),
        duration_ms: 1,
        period: Period {
            day: "2026-11-30".into(),
            month: "2026-11".into(),
            hour: "2026-11-30 12".into(),
            hour_of_day: 12,
        },
        reservation: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_stays_bounded_under_readers_and_a_long_read() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("wal.db");
    let db = Db::connect(&format!("sqlite://{}?mode=rwc", file.display()))
        .await
        .unwrap();
    db.migrate().await.unwrap();
    let (recorder, task) = Recorder::start(db.clone(), Arc::new(Metrics::new(false)));
    // The server's own background checkpoint runs beside the writer, as in `serve`.
    let checkpoints = tokio::spawn(db.clone().checkpoint_every_second());

    // Short reads all the time, as the admission path and the admin pages make them.
    let stop = Arc::new(AtomicBool::new(false));
    let readers = {
        let (db, stop) = (db.clone(), stop.clone());
        tokio::spawn(async move {
            while !stop.load(Ordering::Relaxed) {
                db.read
                    .execute_unprepared("SELECT count(*) FROM llm_call_logs")
                    .await
                    .unwrap();
                tokio::task::yield_now().await;
            }
        })
    };

    // A long read transaction: while its snapshot is open the log cannot start over.
    let long_read = db.read.begin().await.unwrap();
    long_read
        .execute_unprepared("SELECT count(*) FROM llm_call_logs")
        .await
        .unwrap();
    for _ in 0..100 {
        recorder.record(large_record()).await.unwrap();
    }
    let held = db.wal_size();
    assert!(
        held > 16 << 20,
        "the open snapshot held the log: {held} bytes"
    );
    long_read.commit().await.unwrap();
    // The writer's last restart, refused while the read was open, is tried again after this.
    tokio::time::sleep(RESTART_RETRY).await;

    // Well over the limit in all, one commit per record.
    let mut largest = 0;
    for _ in 0..400 {
        recorder.record(large_record()).await.unwrap();
        largest = largest.max(db.wal_size());
    }
    stop.store(true, Ordering::Relaxed);
    readers.await.unwrap();
    checkpoints.abort();
    drop(recorder);
    task.finish(std::time::Duration::from_secs(30)).await;

    assert!(
        largest <= WAL_SIZE_LIMIT,
        "the WAL grew to {largest} bytes (limit {WAL_SIZE_LIMIT})"
    );
    let count = db
        .read
        .query_one_raw(sea_orm::Statement::from_string(
            db.backend(),
            "SELECT count(*) FROM llm_call_logs",
        ))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index::<i64>(0)
        .unwrap();
    assert_eq!(count, 500);
}
