#![allow(clippy::unwrap_used, clippy::expect_used)]
use super::*;

fn parse_chunks(chunks: &[&[u8]]) -> Vec<Frame> {
    let mut parser = SseParser::new();
    let mut out = Vec::new();
    for chunk in chunks {
        parser.push(chunk, &mut out);
    }
    parser.finish(&mut out);
    out
}

fn events(chunks: &[&[u8]]) -> Vec<SseEvent> {
    parse_chunks(chunks)
        .into_iter()
        .filter_map(|f| match f {
            Frame::Event(e) => Some(e),
            Frame::Stray(_) => None,
        })
        .collect()
}

fn data(chunks: &[&[u8]]) -> Vec<String> {
    events(chunks).into_iter().map(|e| e.data).collect()
}

#[test]
fn all_three_line_endings() {
    assert_eq!(
        data(&[b"data: a\n\ndata: b\r\n\r\ndata: c\r\rdata: d\n\n"]),
        ["a", "b", "c", "d"]
    );
}

#[test]
fn crlf_split_across_chunks_is_one_line_ending() {
    // `\r` ends one chunk, `\n` opens the next: still one line break, then a blank line.
    assert_eq!(
        data(&[b"data: a\r", b"\n\r", b"\ndata: b\r\n", b"\r\n"]),
        ["a", "b"]
    );
}

#[test]
fn one_leading_space_is_stripped_and_no_space_is_the_same() {
    assert_eq!(
        data(&[b"data:x\n\ndata: x\n\ndata:  x\n\n"]),
        ["x", "x", " x"]
    );
}

#[test]
fn multi_data_lines_join_with_newline() {
    assert_eq!(data(&[b"data: one\ndata: two\ndata:\n\n"]), ["one\ntwo\n"]);
}

#[test]
fn event_id_and_comment_are_recorded() {
    let evs = events(&[b"id:1\nevent:result\n:HTTP_STATUS/200\ndata:{}\n\nid:2\ndata:x\n\n"]);
    assert_eq!(evs[0].event.as_deref(), Some("result"));
    assert_eq!(evs[0].id.as_deref(), Some("1"));
    assert_eq!(evs[0].comment.as_deref(), Some("HTTP_STATUS/200"));
    // The event type does not carry over; the id does until replaced.
    assert_eq!(evs[1].event, None);
    assert_eq!(evs[1].id.as_deref(), Some("2"));
    assert_eq!(evs[1].comment, None);
}

#[test]
fn comments_alone_and_events_without_data_dispatch_nothing() {
    assert!(events(&[b": keep-alive\n\nevent: ping\n\nretry: 10\n\n"]).is_empty());
}

#[test]
fn utf8_character_split_across_chunks_survives() {
    let body = "data: 你好！\n\n".as_bytes();
    // Split inside the first (3-byte) character, byte by byte.
    for cut in 1..body.len() {
        assert_eq!(
            data(&[&body[..cut], &body[cut..]]),
            ["你好！"],
            "cut at {cut}"
        );
    }
    let singles: Vec<&[u8]> = body.chunks(1).collect();
    assert_eq!(data(&singles), ["你好！"]);
}

#[test]
fn unterminated_event_at_eof_is_dropped() {
    // A cut after a complete line but before the blank line must not look complete.
    assert_eq!(data(&[b"data: a\n\ndata: {\"partial\":1}\n"]), ["a"]);
    assert_eq!(data(&[b"data: a\n\ndata: {\"part"]), ["a"]);
}

#[test]
fn stray_lines_are_surfaced_even_unterminated() {
    let frames = parse_chunks(&[b"{\"error_code\":110,\"error_msg\":\"x\"}"]);
    assert_eq!(
        frames,
        [Frame::Stray(
            "{\"error_code\":110,\"error_msg\":\"x\"}".to_owned()
        )]
    );
    let frames = parse_chunks(&[b"data: a\n\n{\"error_code\":18}\n"]);
    assert!(matches!(&frames[1], Frame::Stray(s) if s == "{\"error_code\":18}"));
}

#[test]
fn leading_bom_is_stripped_even_when_split() {
    assert_eq!(data(&[b"\xEF\xBB", b"\xBFdata: a\n\n"]), ["a"]);
    assert_eq!(data(&[b"\xEF\xBB\xBFdata: a\n\n"]), ["a"]);
}

#[test]
fn done_sentinel_is_plain_data() {
    assert_eq!(data(&[b"data: [DONE]\n\n"]), ["[DONE]"]);
}
