//! The properties the fuzz targets assert, shared by them. Each target is a thin
//! `fuzz_target!` around [`check`] with its name. The e2e tests include this file too
//! (`server/tests/e2e/fuzz_corpus.rs`), to replay the committed corpora.
//!
//! Chunking: an upstream body arrives in pieces of any size, so every streamed input is
//! decoded whole, byte by byte and in pieces derived from its own bytes, and all three must
//! agree. The pieces come from the input (not a random source) so a crash replays exactly.

use std::collections::HashMap;

use llm_proxy::error::AppError;
use llm_proxy::providers::fuzzing::{Frame, SseParser, decode_answer, decode_error, decode_stream};
use llm_proxy::providers::{Assembly, ProviderKind, StreamEvent, UpstreamError};
use llm_proxy::relay::template;

/// `UpstreamError::detail` is cut at 512 bytes and gets a `…` (3 bytes).
const MAX_DETAIL: usize = 512 + '…'.len_utf8();

/// FNV-1a: a cheap, stable hash of the input to derive choices from.
fn hash(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// `data` cut into pieces of 1–16 bytes, sizes drawn from the input's hash.
pub fn pieces(data: &[u8]) -> Vec<&[u8]> {
    let mut state = hash(data) | 1;
    let mut rest = data;
    let mut out = Vec::new();
    while !rest.is_empty() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let size = (state % 16 + 1) as usize;
        let (head, tail) = rest.split_at(size.min(rest.len()));
        out.push(head);
        rest = tail;
    }
    out
}

/// The three ways one body may arrive: whole, byte by byte, in uneven pieces.
fn chunkings(data: &[u8]) -> [Vec<&[u8]>; 3] {
    [vec![data], data.chunks(1).collect(), pieces(data)]
}

fn parse_sse(chunks: &[&[u8]]) -> (Vec<Frame>, bool) {
    let mut parser = SseParser::new();
    let mut frames = Vec::new();
    for chunk in chunks {
        parser.push(chunk, &mut frames);
    }
    let overflowed = parser.overflowed();
    parser.finish(&mut frames);
    (frames, overflowed)
}

/// The SSE parser: the same frames however the body is cut; it never hands out more than
/// it got (each output character stands for at least one input byte: invalid UTF-8 becomes
/// one U+FFFD per bad sequence); field values hold no line breaks.
pub fn check_sse(data: &[u8]) {
    let [whole, bytes, uneven] = chunkings(data);
    let (frames, overflowed) = parse_sse(&whole);
    assert_eq!(
        parse_sse(&bytes),
        (frames.clone(), overflowed),
        "byte by byte"
    );
    assert_eq!(
        parse_sse(&uneven),
        (frames.clone(), overflowed),
        "in pieces"
    );
    let no_breaks = |s: &str| !s.contains(['\r', '\n']);
    let mut out_chars = 0;
    for frame in &frames {
        match frame {
            Frame::Event(ev) => {
                // `id` is not counted: the spec repeats the last one on every event.
                out_chars += ev.data.chars().count();
                out_chars += ev.event.as_deref().map_or(0, |e| e.chars().count());
                out_chars += ev.comment.as_deref().map_or(0, |c| c.chars().count());
                // Only `data` may hold a newline (several data lines are joined with one).
                assert!(!ev.data.contains('\r'), "CR in data {:?}", ev.data);
                for field in [&ev.event, &ev.id, &ev.comment].into_iter().flatten() {
                    assert!(no_breaks(field), "line break in a field: {field:?}");
                }
            }
            Frame::Stray(line) => {
                out_chars += line.chars().count();
                assert!(no_breaks(line), "line break in a stray line: {line:?}");
            }
        }
    }
    assert!(
        out_chars <= data.len(),
        "{out_chars} characters out of {} bytes",
        data.len()
    );
}

/// An upstream error is typed by construction ([`UpstreamError::kind`]); its text is bounded.
fn check_error(err: &UpstreamError) {
    assert!(
        err.detail.len() <= MAX_DETAIL,
        "detail of {} bytes",
        err.detail.len()
    );
    if let Some(wait) = err.retry_after {
        assert!(wait.as_secs() < u64::MAX, "retry-after {wait:?}");
    }
}

/// A decoded stream as the relay consumes it: an error is the last item; no empty
/// events; one id at most; and the events put back together the way the relay records a
/// stream ([`Assembly`]).
fn check_events(events: &[Result<StreamEvent, UpstreamError>]) {
    let mut assembly = Assembly::default();
    let mut outputs = 0u32;
    let mut ids = 0;
    for (i, item) in events.iter().enumerate() {
        match item {
            Err(err) => {
                assert_eq!(i + 1, events.len(), "an error is the stream's last item");
                check_error(err);
            }
            Ok(event) => {
                match event {
                    StreamEvent::Delta(text) | StreamEvent::Reasoning(text) => {
                        assert!(!text.is_empty(), "empty text event");
                        outputs += 1;
                    }
                    StreamEvent::ToolCall(delta) => {
                        assert!(
                            delta.id.is_some()
                                || delta.name.is_some()
                                || !delta.arguments.is_empty(),
                            "empty tool call piece"
                        );
                        outputs += 1;
                    }
                    StreamEvent::Id(id) => {
                        assert!(!id.is_empty(), "empty id");
                        ids += 1;
                    }
                    StreamEvent::Usage(_) | StreamEvent::Finish(_) => {}
                }
                assembly.apply(event);
            }
        }
    }
    assert!(ids <= 1, "{ids} id events");
    assert_eq!(assembly.chunks, outputs);
    let _ = assembly.record();
    let _ = assembly.into_completion();
}

/// What a target asserts about one input (it panics when the input breaks it).
pub type Property = fn(&[u8]);

/// Every fuzz target: its name (its file in `fuzz/fuzz_targets/`, its seeds in `fuzz/corpus/`)
/// and the property it checks. The e2e test `fuzz_corpus` replays every committed input
/// through these, so the properties hold on the corpora in every test run, fuzzed or not.
pub const TARGETS: [(&str, Property); 8] = [
    ("sse", check_sse),
    ("template", check_template),
    ("decode_openai", |data| {
        check_providers(&[ProviderKind::Openai, ProviderKind::Custom], data)
    }),
    ("decode_anthropic", |data| {
        check_providers(&[ProviderKind::Anthropic], data)
    }),
    ("decode_dashscope", |data| {
        check_providers(&[ProviderKind::Aliyun], data)
    }),
    ("decode_spark", |data| {
        check_providers(&[ProviderKind::Xunfei], data)
    }),
    ("decode_ernie", |data| {
        check_providers(&[ProviderKind::Baidu], data)
    }),
    ("decode_zhipu", |data| {
        check_providers(&[ProviderKind::Zhipu], data)
    }),
];

/// The property of the target called `name` (one of [`TARGETS`]) on one input.
pub fn check(name: &str, data: &[u8]) {
    match TARGETS.iter().find(|(target, _)| *target == name) {
        Some((_, property)) => property(data),
        None => panic!("no fuzz target named {name}"),
    }
}

fn check_providers(kinds: &[ProviderKind], data: &[u8]) {
    for &kind in kinds {
        check_provider(kind, data);
    }
}

const STATUSES: [u16; 8] = [400, 401, 402, 403, 404, 429, 500, 529];

/// One provider's decoders on one input: as a stream (in every chunking, which must agree),
/// as a whole JSON answer, and as the body of a non-2xx answer.
pub fn check_provider(kind: ProviderKind, data: &[u8]) {
    let [whole, bytes, uneven] = chunkings(data);
    let events = decode_stream(kind, &whole);
    check_events(&events);
    assert_eq!(decode_stream(kind, &bytes), events, "byte by byte");
    assert_eq!(decode_stream(kind, &uneven), events, "in pieces");

    match decode_answer(kind, data) {
        // An answer is decoded from a JSON object; anything else is an error.
        Ok(answer) => assert!(answer.raw.is_object(), "answer from {}", answer.raw),
        Err(err) => check_error(&err),
    }

    let status = STATUSES[(hash(data) % STATUSES.len() as u64) as usize];
    let err = decode_error(kind, status, data);
    check_error(&err);
    assert_eq!(err.status, Some(status));
}

/// The template renderer on a template and the value sets derived from its variables:
/// - each variable rendered as its own placeholder text gives the template back unchanged
///   (values are inserted verbatim, never scanned again);
/// - values that can neither be part of a name nor a brace leave no placeholder at all in
///   the output (no known variable is left unreplaced);
/// - with some variables left out the error names exactly those, in order.
pub fn check_template(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let names = template::variables(text);
    for (i, name) in names.iter().enumerate() {
        assert!(!name.is_empty(), "empty name");
        assert!(
            text.contains(&format!("{{{name}}}")),
            "{name} not in the text"
        );
        assert!(!names[..i].contains(name), "{name} listed twice");
    }

    let itself: HashMap<String, String> = names
        .iter()
        .map(|n| (n.clone(), format!("{{{n}}}")))
        .collect();
    let out = template::render(text, &itself).unwrap_or_else(|err| panic!("render: {err}"));
    assert_eq!(out, text, "placeholders rendered as themselves");

    let dash: HashMap<String, String> = names.iter().map(|n| (n.clone(), "-".to_owned())).collect();
    let out = template::render(text, &dash).unwrap_or_else(|err| panic!("render: {err}"));
    assert!(
        template::variables(&out).is_empty(),
        "unreplaced variables in {out:?}"
    );
    if names.is_empty() {
        return;
    }
    let h = hash(data);
    let missing: Vec<String> = names
        .iter()
        .enumerate()
        .filter(|(i, _)| h >> (i % 64) & 1 == 1)
        .map(|(_, n)| n.clone())
        .collect();
    let partial: HashMap<String, String> = dash
        .into_iter()
        .filter(|(n, _)| !missing.contains(n))
        .collect();
    match template::render(text, &partial) {
        Ok(_) => assert!(missing.is_empty(), "rendered with {missing:?} missing"),
        Err(AppError::MissingVariables(named)) => assert_eq!(named, missing),
        Err(other) => panic!("unexpected error {other}"),
    }
}
