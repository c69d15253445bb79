//! A small closed-loop HTTP/1.1 load generator for the benchmark (`bench/run.sh`).
//!
//! `--concurrency N` connections (keep-alive, one request in flight on each) POST the same
//! JSON body for `--duration` seconds. Every response is read to its end (an SSE stream
//! until the server closes it) and must have status 200 and contain `--expect`; anything
//! else counts as an error. A request in flight when time is up is still finished and
//! counted, so `requests` is exactly how many calls the server answered.
//!
//! ```sh
//! cargo run --release --example loadgen -- --url http://127.0.0.1:8080/api/llm/call \
//!     --token TOKEN --body '{"config_id":1,"messages":[{"role":"user","content":"hi"}]}' \
//!     --concurrency 10 --duration 10 --expect '"success":true'
//! ```
//!
//! Prints one JSON line: `requests`, `errors`, `seconds`, `rps`, latency `p50_us`, `p90_us`,
//! `p99_us`, `max_us`, `mean_us`, and its own CPU time (`cpu_ms`, `cpu_us_per_req`) so a
//! benchmark can show the generator is not its own bottleneck. Single-threaded on purpose:
//! it is pinned to one core with the fake upstream.
//!
//! `--rate R` switches to an open loop: a request is started every 1/R s whatever the
//! answers (on an idle connection, or a new one while fewer than `--concurrency` are open,
//! else as soon as one is free), and its latency runs from the moment it was due, not from
//! when it could be sent, so a server that falls behind is charged for the queue it causes
//! (no coordinated omission). `--requests N` stops a closed loop after N calls instead of
//! at `--duration`.
//!
//! `--save FILE` also writes that line and every latency (µs, one per line) to FILE;
//! `loadgen --merge FILE…` prints the same report for several saved runs taken together
//! (a benchmark alternates short direct and proxied runs and merges each side).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::{
    cell::{Cell, RefCell},
    rc::Rc,
    time::{Duration, Instant},
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::{Request, StatusCode, client::conn::http1};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

struct Args {
    url: String,
    token: Option<String>,
    body: String,
    concurrency: usize,
    duration: Duration,
    expect: Option<String>,
    save: Option<String>,
    /// Open loop: requests per second.
    rate: Option<f64>,
    requests: Option<u64>,
}

fn usage() -> ! {
    eprintln!(
        "usage: loadgen --url URL --body JSON [--token BEARER] [--concurrency N] \
         [--duration SECS] [--requests N] [--rate PER_SEC] [--expect SUBSTRING] [--save FILE]\n       \
         loadgen --merge FILE..."
    );
    std::process::exit(2)
}

fn parse_args() -> Args {
    let mut args = Args {
        url: String::new(),
        token: None,
        body: String::new(),
        concurrency: 1,
        duration: Duration::from_secs(10),
        expect: None,
        save: None,
        rate: None,
        requests: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--url" => args.url = value(),
            "--token" => args.token = Some(value()),
            "--body" => args.body = value(),
            "--concurrency" | "-c" => {
                args.concurrency = value().parse().unwrap_or_else(|_| usage());
            }
            "--duration" | "-d" => {
                let secs: f64 = value().parse().unwrap_or_else(|_| usage());
                args.duration = Duration::from_secs_f64(secs);
            }
            "--expect" => args.expect = Some(value()),
            "--save" => args.save = Some(value()),
            "--rate" => args.rate = Some(value().parse().unwrap_or_else(|_| usage())),
            "--requests" => args.requests = Some(value().parse().unwrap_or_else(|_| usage())),
            _ => usage(),
        }
    }
    if args.url.is_empty()
        || args.body.is_empty()
        || args.concurrency == 0
        || args.rate.is_some_and(|r| r <= 0.0)
    {
        usage();
    }
    args
}

/// utime + stime of this process, in milliseconds (from /proc; 0 elsewhere).
fn cpu_ms() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name, which is in parentheses and may contain spaces.
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // rest[0] is field 3 (state); utime and stime are fields 14 and 15.
    let ticks: f64 = fields
        .get(11..13)
        .map(|f| f.iter().filter_map(|v| v.parse::<f64>().ok()).sum())
        .unwrap_or(0.0);
    // USER_HZ is 100 on every Linux this runs on.
    ticks * 10.0
}

struct Worker {
    latencies_us: Vec<u32>,
    errors: u64,
    first_error: Option<String>,
}

struct Target {
    authority: String,
    path: String,
    token: Option<String>,
    body: Bytes,
    expect: Option<Vec<u8>>,
}

async fn connect(authority: &str) -> Result<http1::SendRequest<Full<Bytes>>, String> {
    let stream = TcpStream::connect(authority)
        .await
        .map_err(|e| format!("connect {authority}: {e}"))?;
    stream.set_nodelay(true).map_err(|e| e.to_string())?;
    let (sender, connection) = http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    tokio::task::spawn_local(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

async fn one_call(
    sender: &mut http1::SendRequest<Full<Bytes>>,
    target: &Target,
) -> Result<(), String> {
    let mut request = Request::post(target.path.as_str())
        .header("host", target.authority.as_str())
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    if let Some(token) = &target.token {
        request = request.header("authorization", format!("Bearer {token}"));
    }
    let request = request
        .body(Full::new(target.body.clone()))
        .map_err(|e| e.to_string())?;
    sender.ready().await.map_err(|e| e.to_string())?;
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| e.to_string())?;
    let status = response.status();
    // To the end: for an SSE answer this waits for the last event and the stream's close.
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    if status != StatusCode::OK {
        return Err(format!(
            "status {status}: {}",
            String::from_utf8_lossy(&body[..body.len().min(300)])
        ));
    }
    if let Some(needle) = &target.expect
        && !body.windows(needle.len()).any(|w| w == needle.as_slice())
    {
        return Err(format!(
            "answer without {:?}: {}",
            String::from_utf8_lossy(needle),
            String::from_utf8_lossy(&body[..body.len().min(300)])
        ));
    }
    Ok(())
}

/// How many more calls a closed loop may start (`--requests`; unlimited without it).
struct Budget(Option<Cell<u64>>);

impl Budget {
    fn take(&self) -> bool {
        match &self.0 {
            None => true,
            Some(left) if left.get() > 0 => {
                left.set(left.get() - 1);
                true
            }
            Some(_) => false,
        }
    }
}

impl Worker {
    fn new() -> Self {
        Self {
            latencies_us: Vec::with_capacity(16 * 1024),
            errors: 0,
            first_error: None,
        }
    }

    fn record(&mut self, took: Duration, result: Result<(), String>) {
        match result {
            Ok(()) => self
                .latencies_us
                .push(u32::try_from(took.as_micros()).unwrap_or(u32::MAX)),
            Err(err) => {
                self.errors += 1;
                self.first_error.get_or_insert(err);
            }
        }
    }
}

async fn worker(
    target: Rc<Target>,
    mut sender: http1::SendRequest<Full<Bytes>>,
    deadline: Instant,
    budget: Rc<Budget>,
) -> Worker {
    let mut out = Worker::new();
    while Instant::now() < deadline && budget.take() {
        let began = Instant::now();
        let result = one_call(&mut sender, &target).await;
        out.record(began.elapsed(), result);
        // After a failure the connection may be gone: open a new one.
        if sender.is_closed() {
            match connect(&target.authority).await {
                Ok(fresh) => sender = fresh,
                Err(err) => {
                    out.first_error.get_or_insert(err);
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    }
    out
}

/// Open loop: one request due every `1 / rate` s until `deadline`, each on a free connection
/// of `pool` (waiting for one when all are busy); latency counts from the due time.
async fn open_loop(
    target: Rc<Target>,
    pool: Vec<http1::SendRequest<Full<Bytes>>>,
    rate: f64,
    start: Instant,
    deadline: Instant,
) -> Worker {
    let free = Rc::new(tokio::sync::Semaphore::new(pool.len()));
    let idle = Rc::new(RefCell::new(pool));
    let out = Rc::new(RefCell::new(Worker::new()));
    let mut calls = Vec::new();
    for i in 0u64.. {
        let due = start + Duration::from_secs_f64(i as f64 / rate);
        if due >= deadline {
            break;
        }
        tokio::time::sleep_until(due.into()).await;
        let (target, free, idle, out) = (target.clone(), free.clone(), idle.clone(), out.clone());
        calls.push(tokio::task::spawn_local(async move {
            let Ok(_permit) = free.acquire().await else {
                return;
            };
            let pooled = idle.borrow_mut().pop();
            let mut sender = match pooled {
                Some(sender) => sender,
                None => match connect(&target.authority).await {
                    Ok(sender) => sender,
                    Err(err) => {
                        out.borrow_mut().record(due.elapsed(), Err(err));
                        return;
                    }
                },
            };
            let result = one_call(&mut sender, &target).await;
            out.borrow_mut().record(due.elapsed(), result);
            if !sender.is_closed() {
                idle.borrow_mut().push(sender);
            }
        }));
    }
    for call in calls {
        call.await.expect("call");
    }
    out.replace(Worker::new())
}

fn percentile(sorted: &[u32], p: f64) -> u32 {
    if sorted.is_empty() {
        return 0;
    }
    // Nearest rank.
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some("--merge") {
        merge(&argv[2..]);
        return;
    }
    let args = parse_args();
    let url = url::Url::parse(&args.url).unwrap_or_else(|_| usage());
    if url.scheme() != "http" {
        eprintln!("only http:// URLs");
        std::process::exit(2);
    }
    let host = url.host_str().unwrap_or("127.0.0.1");
    let port = url.port_or_known_default().unwrap_or(80);
    let mut path = url.path().to_owned();
    if let Some(query) = url.query() {
        path.push('?');
        path.push_str(query);
    }
    let target = Rc::new(Target {
        authority: format!("{host}:{port}"),
        path,
        token: args.token.clone(),
        body: Bytes::from(args.body.clone()),
        expect: args.expect.as_ref().map(|e| e.as_bytes().to_vec()),
    });

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    let local = tokio::task::LocalSet::new();
    let (workers, seconds, cpu) = local.block_on(&runtime, async {
        // Every connection is open before the clock starts.
        let mut senders = Vec::with_capacity(args.concurrency);
        for _ in 0..args.concurrency {
            match connect(&target.authority).await {
                Ok(sender) => senders.push(sender),
                Err(err) => {
                    eprintln!("{err}");
                    std::process::exit(1);
                }
            }
        }
        let cpu_before = cpu_ms();
        let start = Instant::now();
        let mut workers = Vec::with_capacity(senders.len());
        if let Some(rate) = args.rate {
            let deadline = start + args.duration;
            workers.push(open_loop(target.clone(), senders, rate, start, deadline).await);
        } else {
            // With a request budget the budget ends the run, not the clock.
            let deadline = start
                + args
                    .requests
                    .map_or(args.duration, |_| Duration::from_secs(86_400));
            let budget = Rc::new(Budget(args.requests.map(Cell::new)));
            let handles: Vec<_> = senders
                .into_iter()
                .map(|sender| {
                    tokio::task::spawn_local(worker(
                        target.clone(),
                        sender,
                        deadline,
                        budget.clone(),
                    ))
                })
                .collect();
            for handle in handles {
                workers.push(handle.await.expect("worker"));
            }
        }
        let seconds = start.elapsed().as_secs_f64();
        (workers, seconds, cpu_ms() - cpu_before)
    });

    let errors: u64 = workers.iter().map(|w| w.errors).sum();
    let first_error = workers.iter().find_map(|w| w.first_error.clone());
    let latencies: Vec<u32> = workers
        .into_iter()
        .flat_map(|w| w.latencies_us.into_iter())
        .collect();
    let run = Run {
        errors,
        first_error,
        concurrency: args.concurrency,
        seconds,
        cpu_ms: cpu,
    };
    let line = report(&run, latencies.clone()).to_string();
    println!("{line}");
    if let Some(path) = &args.save {
        let mut text = String::with_capacity(line.len() + latencies.len() * 7);
        text.push_str(&line);
        text.push('\n');
        for v in &latencies {
            text.push_str(&v.to_string());
            text.push('\n');
        }
        std::fs::write(path, text).expect("write --save file");
    }
    if errors > 0 {
        eprintln!(
            "loadgen: {errors} of {} requests failed; first: {}",
            latencies.len() as u64 + errors,
            run.first_error.unwrap_or_default()
        );
    }
}

/// What one run measured besides its latencies.
struct Run {
    errors: u64,
    first_error: Option<String>,
    concurrency: usize,
    seconds: f64,
    cpu_ms: f64,
}

fn report(run: &Run, mut all: Vec<u32>) -> serde_json::Value {
    all.sort_unstable();
    let ok = all.len() as u64;
    let requests = ok + run.errors;
    let mean = if all.is_empty() {
        0.0
    } else {
        all.iter().map(|&v| f64::from(v)).sum::<f64>() / all.len() as f64
    };
    let (seconds, cpu) = (run.seconds, run.cpu_ms);
    serde_json::json!({
        "requests": requests,
        "ok": ok,
        "errors": run.errors,
        "first_error": run.first_error,
        "concurrency": run.concurrency,
        "seconds": (seconds * 1000.0).round() / 1000.0,
        "rps": if seconds > 0.0 { (requests as f64 / seconds).round() } else { 0.0 },
        "p50_us": percentile(&all, 50.0),
        "p90_us": percentile(&all, 90.0),
        "p99_us": percentile(&all, 99.0),
        "max_us": all.last().copied().unwrap_or(0),
        "mean_us": mean.round(),
        "cpu_ms": cpu.round(),
        "cpu_us_per_req": if requests == 0 { 0.0 } else { (cpu * 1000.0 / requests as f64).round() },
    })
}

/// `--merge FILE…`: the report of saved runs taken together.
fn merge(paths: &[String]) {
    let mut run = Run {
        errors: 0,
        first_error: None,
        concurrency: 0,
        seconds: 0.0,
        cpu_ms: 0.0,
    };
    let mut all = Vec::new();
    for path in paths {
        let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
        let mut lines = text.lines();
        let head: serde_json::Value = lines
            .next()
            .and_then(|l| serde_json::from_str(l).ok())
            .unwrap_or_else(|| panic!("{path}: not a --save file"));
        let num = |key: &str| head[key].as_f64().unwrap_or(0.0);
        run.errors += head["errors"].as_u64().unwrap_or(0);
        if run.first_error.is_none() {
            run.first_error = head["first_error"].as_str().map(str::to_owned);
        }
        run.concurrency = head["concurrency"].as_u64().unwrap_or(0) as usize;
        run.seconds += num("seconds");
        run.cpu_ms += num("cpu_ms");
        all.extend(lines.filter_map(|l| l.parse::<u32>().ok()));
    }
    println!("{}", report(&run, all));
}
