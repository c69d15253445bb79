//! The call-log text search (`q`): what a person reads (messages and reply), not JSON; 3+
//! characters through the trigram index, 1–2 characters by a bounded scan; kept in step by
//! the record writer, the migration's backfill and retention.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use crate::common::{Options, TestServer, is_postgres};
use crate::fake_upstream::{FakeUpstream, Reply};
use llm_proxy::providers::ProviderKind;
use sea_orm::{ConnectionTrait, Database, Statement};
use serde_json::{Value, json};

const SYSTEM_PROMPT: &str = "你是一位耐心的客服助手";

async fn config(server: &TestServer, fake: &FakeUpstream, admin: &str) -> i64 {
    let created = server
        .post(
            "/api/admin/llm/configs",
            Some(admin),
            json!({
                "name": "客服",
                "provider": "openai",
                "api_url": fake.url(ProviderKind::Openai),
                "api_key": FakeUpstream::key(ProviderKind::Openai),
                "model": "gpt-4o-mini",
                "max_retries": 0,
                "system_prompt": SYSTEM_PROMPT,
            }),
        )
        .await;
    assert_eq!(created.status, 200, "{}", created.text);
    created.body["data"]["id"].as_i64().unwrap()
}

async fn call(
    server: &TestServer,
    fake: &FakeUpstream,
    client: &str,
    config: i64,
    ask: &str,
    reply: &str,
) {
    fake.push(Reply::new(reply).usage(10, 5));
    let answered = server
        .post(
            "/api/llm/call",
            Some(client),
            json!({"config_id": config, "messages": [{"role": "user", "content": ask}]}),
        )
        .await;
    assert_eq!(answered.status, 200, "{}", answered.text);
}

async fn found(server: &TestServer, admin: &str, query: &str) -> Vec<i64> {
    let page = server
        .get(&format!("/api/admin/llm/logs?{query}"), Some(admin))
        .await;
    assert_eq!(page.status, 200, "{query}: {}", page.text);
    let ids: Vec<i64> = page.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["id"].as_i64().unwrap())
        .collect();
    assert_eq!(page.body["total"], json!(ids.len()), "{query}");
    ids
}

fn q(text: &str) -> String {
    format!("q={}", urlencoding(text))
}

/// Percent-encodes every byte outside unreserved ASCII.
fn urlencoding(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn rows(server: &TestServer, sql: &str) -> Vec<Vec<Value>> {
    let db = Database::connect(server.effective_database_url())
        .await
        .unwrap();
    let backend = db.get_database_backend();
    let result = db
        .query_all_raw(Statement::from_string(backend, sql))
        .await
        .unwrap();
    db.close().await.unwrap();
    result
        .into_iter()
        .map(|row| {
            let id: i64 = row.try_get_by_index(0).unwrap();
            let mut values = vec![json!(id)];
            if let Ok(text) = row.try_get_by_index::<String>(1) {
                values.push(json!(text));
            }
            values
        })
        .collect()
}

/// Every indexed text, by log id.
async fn texts(server: &TestServer) -> Vec<Vec<Value>> {
    rows(
        server,
        "SELECT log_id, body FROM llm_call_log_texts ORDER BY log_id",
    )
    .await
}

async fn run(server: &TestServer, sql: &str) {
    let db = Database::connect(server.effective_database_url())
        .await
        .unwrap();
    db.execute_unprepared(sql).await.unwrap();
    db.close().await.unwrap();
}

#[tokio::test]
async fn log_search_finds_message_and_reply_text_but_not_json() {
    let fake = FakeUpstream::start().await;
    let mut server = TestServer::start().await;
    let admin = server.admin_token().await;
    let config = config(&server, &fake, &admin).await;
    let (client, _, _) = server.client_token(&admin).await;
    call(
        &server,
        &fake,
        &client,
        config,
        "请问退款多久到账？",
        "退款将在三个工作日内到账",
    )
    .await;
    call(
        &server,
        &fake,
        &client,
        config,
        "How do I reset my Password?",
        "Open settings, then choose Reset (100% free_of charge).",
    )
    .await;
    let ids = found(&server, &admin, "").await;
    let (refund, reset) = (ids[1], ids[0]);

    for (text, expected, why) in [
        (
            "多久到账",
            vec![refund],
            "Chinese, 3+ characters, in the question",
        ),
        ("三个工作日", vec![refund], "the reply"),
        ("退款", vec![refund], "Chinese, 2 characters"),
        ("账", vec![refund], "1 character"),
        ("耐心的客服", vec![reset, refund], "the system prompt"),
        ("PASSWORD", vec![reset], "ASCII ignores case"),
        ("then choose", vec![reset], "words with a space"),
        ("e", vec![reset], "1 ASCII character"),
        ("role", vec![], "a JSON key, not text"),
        ("\"role\"", vec![], "JSON syntax"),
        ("content", vec![], "a JSON key"),
        ("\"user\"", vec![], "a JSON value's quotes"),
        ("user", vec![], "the role is not text either"),
        ("%", vec![reset], "% is literal"),
        ("_", vec![reset], "_ is literal"),
        ("到账%", vec![], "% is literal with 3+ characters"),
        ("100% free_of", vec![reset], "% and _ found as themselves"),
        ("10% free", vec![], "% is literal beside 3+ characters"),
        ("(100_", vec![], "_ is literal beside 3+ characters"),
    ] {
        assert_eq!(
            found(&server, &admin, &q(text)).await,
            expected,
            "{text}: {why}"
        );
    }
    // Combined with the other filters, and the same filter for the export and the cards.
    assert_eq!(
        found(
            &server,
            &admin,
            &format!("{}&status=success&config_id={config}", q("耐心的客服"))
        )
        .await,
        vec![reset, refund]
    );
    assert!(
        found(
            &server,
            &admin,
            &format!("{}&status=error", q("耐心的客服"))
        )
        .await
        .is_empty()
    );
    let cards = server
        .get(
            &format!("/api/admin/llm/logs?summary=true&{}", q("三个工作日")),
            Some(&admin),
        )
        .await;
    assert_eq!(cards.body["summary"]["total_calls"], 1, "{}", cards.text);
    let csv = server
        .get(
            &format!("/api/admin/llm/logs/export?{}", q("三个工作日")),
            Some(&admin),
        )
        .await;
    let lines: Vec<&str> = csv.text.split("\r\n").filter(|l| !l.is_empty()).collect();
    assert_eq!(lines.len(), 2, "header + 1 record: {}", csv.text);
    assert!(lines[1].starts_with(&format!("{refund},")), "{}", csv.text);

    // What the writer indexed is what a person reads.
    let written = texts(&server).await;
    assert_eq!(
        written,
        vec![
            vec![
                json!(refund),
                json!(format!(
                    "{SYSTEM_PROMPT}\n请问退款多久到账？\n退款将在三个工作日内到账"
                ))
            ],
            vec![
                json!(reset),
                json!(format!(
                    "{SYSTEM_PROMPT}\nHow do I reset my Password?\nOpen settings, then choose Reset (100% free_of charge)."
                ))
            ],
        ]
    );

    // The migration renders the same text for records that existed before it.
    server.stop();
    let undo = if is_postgres() {
        "DROP TABLE llm_call_log_texts"
    } else {
        "DROP TRIGGER llm_call_logs_unindex; DROP TABLE llm_call_log_search_progress; \
         DROP TABLE llm_call_log_search; DROP TABLE llm_call_log_texts"
    };
    run(&server, undo).await;
    run(
        &server,
        "DELETE FROM seaql_migrations WHERE version IN ('m20261130_000045_call_log_search', \
         'm20261130_000049_call_log_search_without_sizes', \
         'm20261130_000051_call_log_search_in_batches')",
    )
    .await;
    server.spawn().await;
    assert_eq!(
        texts(&server).await,
        written,
        "backfilled like the writer writes"
    );
    let admin = server.admin_token().await;
    assert_eq!(found(&server, &admin, &q("多久到账")).await, vec![refund]);
    assert!(found(&server, &admin, &q("role")).await.is_empty());
}

#[tokio::test]
async fn retention_takes_purged_records_out_of_the_search_index() {
    let fake = FakeUpstream::start().await;
    let mut server = TestServer::start_with(Options::default().env(
        "LLM_PROXY_CLOCK_OFFSET_SECONDS",
        &(-100 * 86_400).to_string(),
    ))
    .await;
    let admin = server.admin_token().await;
    let config = config(&server, &fake, &admin).await;
    let (client, _, _) = server.client_token(&admin).await;
    for _ in 0..3 {
        call(&server, &fake, &client, config, "旧的退款问题", "旧的回答").await;
    }
    assert_eq!(found(&server, &admin, &q("退款问题")).await.len(), 3);
    server.stop();

    server.options = server
        .options
        .clone()
        .without_env("LLM_PROXY_CLOCK_OFFSET_SECONDS")
        .env("LLM_PROXY_LOG_RETENTION_DAYS", "90");
    server.spawn().await;
    let admin = server.admin_token().await;
    let (client, _, _) = server.client_token(&admin).await;
    call(&server, &fake, &client, config, "新的退款问题", "新的回答").await;
    let deadline = Instant::now() + Duration::from_secs(30);
    while server.call_logs().await.len() != 1 {
        assert!(Instant::now() < deadline, "old records were not purged");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let kept = server.call_logs().await[0].id;
    assert_eq!(found(&server, &admin, &q("退款问题")).await, vec![kept]);
    let remaining: Vec<Value> = texts(&server)
        .await
        .into_iter()
        .map(|row| row[0].clone())
        .collect();
    assert_eq!(
        remaining,
        vec![json!(kept)],
        "the purged records' text went with them"
    );
    if !is_postgres() {
        // The FTS index itself, not only its content table, forgot the purged records (one
        // trigram: a MATCH reads the index alone, where a LIKE would check the content)…
        let indexed = rows(
            &server,
            "SELECT rowid FROM llm_call_log_search WHERE llm_call_log_search MATCH '\"退款问\"'",
        )
        .await;
        assert_eq!(indexed, vec![vec![json!(kept)]]);
        // …and agrees with its content table entry by entry.
        run(
            &server,
            "INSERT INTO llm_call_log_search (llm_call_log_search, rank) VALUES ('integrity-check', 1)",
        )
        .await;
    }
}

/// Records seeded straight into the database: more than the count's limit (10,000), their
/// call times in another order than their ids (and in pairs of equal times), every one
/// containing `EVERYWHERE`, every thousandth also `RARE`, every third an error.
const SEEDED: i64 = 10_050;
const EVERYWHERE: &str = "订单什么时候发货";
const RARE: &str = "稀有的退货问题";

pub(crate) async fn seed_many(server: &TestServer) {
    let records = if is_postgres() {
        format!(
            "INSERT INTO llm_call_logs (config_name, provider, model, request_messages, status, \
             is_stream, call_time) \
             SELECT '客服', 'openai', 'gpt-4o-mini', '[]'::jsonb, \
             CASE WHEN i % 3 = 0 THEN 'error' ELSE 'success' END, false, \
             date_trunc('second', now()) - interval '1 day' + ((i * 7919) % 5025) * interval '1 second' \
             FROM generate_series(1, {SEEDED}) AS i"
        )
    } else {
        format!(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {SEEDED}) \
             INSERT INTO llm_call_logs (config_name, provider, model, request_messages, status, \
             is_stream, call_time) \
             SELECT '客服', 'openai', 'gpt-4o-mini', '[]', \
             CASE WHEN i % 3 = 0 THEN 'error' ELSE 'success' END, 0, \
             strftime('%Y-%m-%dT%H:%M:%S', 'now', '-1 days', '+' || ((i * 7919) % 5025) || ' seconds') \
             || '.000+00:00' FROM n"
        )
    };
    run(server, &records).await;
    run(
        server,
        &format!(
            "INSERT INTO llm_call_log_texts (log_id, body) \
             SELECT id, '请问{EVERYWHERE}？第' || id || '号' \
             || CASE WHEN id % 1000 = 0 THEN '\n{RARE}' ELSE '' END FROM llm_call_logs"
        ),
    )
    .await;
}

/// The ids `where` selects in the page's order (newest call first, then the higher id).
async fn in_page_order(server: &TestServer, condition: &str) -> Vec<i64> {
    rows(
        server,
        &format!("SELECT id FROM llm_call_logs WHERE {condition} ORDER BY call_time DESC, id DESC"),
    )
    .await
    .into_iter()
    .map(|row| row[0].as_i64().unwrap())
    .collect()
}

async fn list(server: &TestServer, admin: &str, query: &str) -> (Value, Vec<i64>) {
    let page = server
        .get(&format!("/api/admin/llm/logs?{query}"), Some(admin))
        .await;
    assert_eq!(page.status, 200, "{query}: {}", page.text);
    let ids = page.body["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["id"].as_i64().unwrap())
        .collect();
    (page.body, ids)
}

#[tokio::test]
async fn log_counts_stop_after_ten_thousand_and_say_so() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    seed_many(&server).await;

    let (all, _) = list(&server, &admin, "").await;
    assert_eq!(all["total"], 10_000, "{all}");
    assert_eq!(all["total_is_lower_bound"], true);
    for (query, total) in [
        ("status=error".to_string(), SEEDED / 3),
        // 2 characters (the newest records' texts) with another filter.
        (format!("{}&status=error", q("发货")), SEEDED / 3),
        (q(RARE), SEEDED / 1000),
        (format!("{}&status=success", q(RARE)), 7),
    ] {
        let (page, _) = list(&server, &admin, &query).await;
        assert_eq!(page["total"], total, "{query}: exact below the limit");
        assert_eq!(page["total_is_lower_bound"], false, "{query}");
    }
    let (text, _) = list(&server, &admin, &q(EVERYWHERE)).await;
    assert_eq!(text["total"], 10_000, "{text}");
    assert_eq!(text["total_is_lower_bound"], true);

    // Past the limit the count goes as far as the page: a next page is known to exist…
    let everything = in_page_order(&server, "1 = 1").await;
    let (before_last, ids) = list(&server, &admin, "page=502&page_size=20").await;
    assert_eq!(before_last["total"], 10_040);
    assert_eq!(before_last["total_is_lower_bound"], true);
    assert_eq!(ids, everything[10_020..10_040]);
    // …and the last page has an exact count.
    let (last, ids) = list(&server, &admin, "page=503&page_size=20").await;
    assert_eq!(last["total"], SEEDED, "{last}");
    assert_eq!(last["total_is_lower_bound"], false);
    assert_eq!(ids, everything[10_040..]);
}

#[tokio::test]
async fn a_text_in_most_records_pages_in_the_same_order_as_any_search() {
    let server = TestServer::start().await;
    let admin = server.admin_token().await;
    seed_many(&server).await;
    let everything = in_page_order(&server, "1 = 1").await;
    let errors = in_page_order(&server, "status = 'error'").await;
    let rare = in_page_order(&server, "id % 1000 = 0").await;

    for (query, expected, pages) in [
        // Broad: more than 10,000 records contain it (walked in page order).
        (q(EVERYWHERE), &everything, [1, 2, 137, 201]),
        // The same with another filter, and 2 characters (the bounded scan).
        (
            format!("{}&status=error", q(EVERYWHERE)),
            &errors,
            [1, 2, 50, 68],
        ),
        (q("发货"), &everything, [1, 3, 150, 201]),
        (
            format!("{}&status=error", q("发货")),
            &errors,
            [1, 2, 50, 67],
        ),
        // Few records: collected, then sorted.
        (q(RARE), &rare, [1, 2, 3, 4]),
    ] {
        for page in pages {
            let (_, ids) = list(
                &server,
                &admin,
                &format!("{query}&page={page}&page_size=50"),
            )
            .await;
            let start = Ord::min(expected.len(), (page - 1) * 50);
            let end = Ord::min(expected.len(), page * 50);
            assert_eq!(ids, expected[start..end], "{query}, page {page}");
        }
    }
}

/// Migration 000052: every index of the records holds the call time ascending (a new record
/// lands at its right edge), and the status indexes, like the config's failures (000050),
/// hold only the calls that did not succeed. A code's and an API key's index hold only the
/// records that have one (000047).
#[tokio::test]
async fn the_records_indexes_hold_the_call_time_ascending() {
    let server = TestServer::start().await;
    let sql = if is_postgres() {
        "SELECT 0::bigint, indexdef FROM pg_indexes WHERE tablename = 'llm_call_logs' \
         AND indexname LIKE 'idx_%' ORDER BY indexname"
    } else {
        "SELECT 0, sql FROM sqlite_master WHERE tbl_name = 'llm_call_logs' \
         AND name LIKE 'idx_%' ORDER BY name"
    };
    let definitions: Vec<String> = rows(&server, sql)
        .await
        .into_iter()
        .map(|row| {
            // From `… ON [public.]llm_call_logs [USING btree] `: the columns and predicate.
            let sql = row[1].as_str().unwrap().replace(['"', '(', ')'], "");
            let (_, rest) = sql.split_once("llm_call_logs ").unwrap();
            rest.trim_start_matches("USING btree ")
                .replace("::text", "")
                .to_string()
        })
        .collect();
    assert_eq!(
        definitions,
        [
            "activation_code, call_time WHERE activation_code IS NOT NULL",
            "api_key_id, call_time WHERE api_key_id IS NOT NULL",
            "config_id, call_time",
            "config_id, call_time WHERE status <> 'success'",
            "group_id, call_time",
            "group_id, status, call_time WHERE status <> 'success'",
            "status, call_time WHERE status <> 'success'",
            "call_time",
        ]
    );
}
