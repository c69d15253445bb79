//! Tools, images, reasoning and the other SDK parameters, translated to and from each
//! protocol's wire format.
#![allow(clippy::unwrap_used, clippy::expect_used)]
use serde_json::{Value, json};

use super::anthropic::Anthropic;
use super::anthropic_request;
use super::dashscope::DashScope;
use super::openai_dialect::{Dialect, OpenAi};
use super::protocol::Protocol;
use super::stream::decode_all;
use super::*;

fn user_with_image(url: &str) -> ChatMessage {
    ChatMessage {
        content: Content::Parts(vec![
            Part::Text {
                text: "图里是什么？".into(),
            },
            Part::ImageUrl {
                image_url: ImageUrl {
                    url: url.into(),
                    detail: Some("low".into()),
                },
            },
        ]),
        ..ChatMessage::text(Role::User, "")
    }
}

fn weather_tool() -> Tool {
    Tool {
        name: "get_weather".into(),
        description: Some("查询天气".into()),
        parameters: Some(json!({"type":"object","properties":{"city":{"type":"string"}}})),
    }
}

/// A tool loop: the user asks, the assistant calls two tools, both answer, the user adds.
fn tool_loop() -> ChatRequest {
    let call = |id: &str, city: &str| ToolCall {
        id: id.into(),
        name: "get_weather".into(),
        arguments: format!("{{\"city\":\"{city}\"}}"),
    };
    let result = |id: &str, text: &str| ChatMessage {
        tool_call_id: Some(id.into()),
        ..ChatMessage::text(Role::Tool, text)
    };
    ChatRequest {
        model: "m".into(),
        messages: vec![
            ChatMessage::text(Role::Developer, "简洁回答"),
            ChatMessage::text(Role::User, "杭州和北京天气？"),
            ChatMessage {
                tool_calls: vec![call("call_1", "杭州"), call("call_2", "北京")],
                ..ChatMessage::text(Role::Assistant, "")
            },
            result("call_1", "晴"),
            result("call_2", "雨"),
            ChatMessage::text(Role::User, "谢谢"),
        ],
        max_tokens: 512,
        tools: vec![weather_tool()],
        tool_choice: Some(ToolChoice::Required),
        parallel_tool_calls: Some(false),
        stop: vec!["END".into()],
        seed: Some(7),
        user: Some("u-42".into()),
        ..ChatRequest::default()
    }
}

fn openai_body(dialect: Dialect, req: &ChatRequest) -> Value {
    serde_json::to_value(OpenAi(dialect).body(req, false)).unwrap()
}

fn events(decoder: Box<dyn stream::Decoder>, body: &str) -> Vec<StreamEvent> {
    decode_all(decoder, &[body.as_bytes()])
        .into_iter()
        .map(Result::unwrap)
        .collect()
}

fn assembled(events: &[StreamEvent]) -> Assembly {
    let mut assembly = Assembly::default();
    events.iter().for_each(|e| assembly.apply(e));
    assembly
}

#[test]
fn openai_sends_tools_calls_results_and_parameters_as_given() {
    let b = openai_body(Dialect::OpenAi, &tool_loop());
    assert_eq!(b["messages"][0]["role"], "developer");
    assert_eq!(b["messages"][2]["content"], Value::Null);
    assert_eq!(
        b["messages"][2]["tool_calls"][1],
        json!({"id":"call_2","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"北京\"}"}})
    );
    assert_eq!(
        b["messages"][3],
        json!({"role":"tool","content":"晴","tool_call_id":"call_1"})
    );
    assert_eq!(b["tools"][0]["function"]["name"], "get_weather");
    assert_eq!(b["tool_choice"], "required");
    assert_eq!(b["parallel_tool_calls"], false);
    assert_eq!(
        (b["stop"][0].clone(), b["seed"].clone()),
        (json!("END"), json!(7))
    );
    assert_eq!(b["user"], "u-42");
    // Sampling parameters the request leaves unset are not sent at all.
    assert!(b.get("temperature").is_none() && b.get("top_p").is_none());
}

#[test]
fn openai_passes_images_reasoning_effort_and_json_schema() {
    let req = ChatRequest {
        messages: vec![user_with_image("https://img.example/cat.png")],
        reasoning_effort: Some("low".into()),
        response_format: Some(ResponseFormat::JsonSchema {
            name: "answer".into(),
            schema: json!({"type":"object"}),
            strict: Some(true),
        }),
        ..ChatRequest::default()
    };
    let b = openai_body(Dialect::OpenAi, &req);
    assert_eq!(
        b["messages"][0]["content"][1],
        json!({"type":"image_url","image_url":{"url":"https://img.example/cat.png","detail":"low"}})
    );
    assert_eq!(b["reasoning_effort"], "low");
    assert_eq!(b["response_format"]["json_schema"]["name"], "answer");
}

#[test]
fn zhipu_takes_auto_only_raw_base64_and_thinking_switch() {
    let b = openai_body(Dialect::Zhipu, &tool_loop());
    assert_eq!(b["messages"][0]["role"], "system");
    assert_eq!(b["tool_choice"], "auto");
    assert!(b.get("seed").is_none() && b.get("user").is_none());
    assert!(b.get("parallel_tool_calls").is_none());
    let mut req = tool_loop();
    req.tool_choice = Some(ToolChoice::None);
    req.messages = vec![user_with_image("data:image/png;base64,iVBORw0")];
    req.reasoning_effort = Some("high".into());
    let b = openai_body(Dialect::Zhipu, &req);
    assert!(b.get("tools").is_none() && b.get("tool_choice").is_none());
    assert_eq!(
        b["messages"][0]["content"][1]["image_url"]["url"],
        "iVBORw0"
    );
    assert_eq!(b["thinking"], json!({"type":"enabled"}));
    assert!(b.get("reasoning_effort").is_none());
}

#[test]
fn xunfei_drops_what_spark_does_not_take() {
    let b = openai_body(Dialect::Xunfei, &tool_loop());
    assert!(b.get("seed").is_none() && b.get("user").is_none());
    assert_eq!(b["messages"][0]["role"], "system");
}

#[test]
fn openai_answer_with_tool_calls_and_id() {
    let body = json!({"id":"chatcmpl-9","object":"chat.completion","choices":[{"index":0,
        "finish_reason":"tool_calls","message":{"role":"assistant","content":null,
        "tool_calls":[{"id":"call_4X","type":"function","function":{"name":"get_weather","arguments":"{\"city\":\"杭州\"}"}}]}}],
        "usage":{"prompt_tokens":44,"completion_tokens":16,"total_tokens":60}});
    let c = OpenAi(Dialect::OpenAi).completion(body).unwrap();
    assert_eq!(c.id.as_deref(), Some("chatcmpl-9"));
    assert_eq!(c.finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(
        c.tool_calls,
        [ToolCall {
            id: "call_4X".into(),
            name: "get_weather".into(),
            arguments: "{\"city\":\"杭州\"}".into()
        }]
    );
}

/// OpenAI's captured tool-call stream (protocols §1.5), with DashScope-compatible's habit of
/// repeating `"id":""` and a closing empty `function` added.
const OPENAI_TOOL_STREAM: &str = concat!(
    "data: {\"id\":\"chatcmpl-A\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"index\":0,\"id\":\"call_4X\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]},\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"chatcmpl-A\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"\",\"type\":\"function\",\"function\":{\"arguments\":\"{\\\"\"}}]},\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"chatcmpl-A\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"city\\\":\\\"杭州\\\"}\"}}]},\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"chatcmpl-A\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{}}]},\"finish_reason\":null}]}\n\n",
    "data: {\"id\":\"chatcmpl-A\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n",
    "data: {\"id\":\"chatcmpl-A\",\"object\":\"chat.completion.chunk\",\"choices\":[],\"usage\":{\"prompt_tokens\":44,\"completion_tokens\":16,\"total_tokens\":60}}\n\n",
    "data: [DONE]\n\n",
);

#[test]
fn openai_tool_call_stream_pieces_come_once_each() {
    let events = events(OpenAi(Dialect::OpenAi).decoder(), OPENAI_TOOL_STREAM);
    let pieces: Vec<&ToolCallDelta> = events
        .iter()
        .filter_map(|e| match e {
            StreamEvent::ToolCall(delta) => Some(delta),
            _ => None,
        })
        .collect();
    assert_eq!(pieces.len(), 3, "the empty closing piece is no event");
    assert_eq!(pieces[0].id.as_deref(), Some("call_4X"));
    assert!(pieces[1].id.is_none(), "an empty repeated id is dropped");
    let answer = assembled(&events);
    assert_eq!(answer.tool_calls[0].arguments, "{\"city\":\"杭州\"}");
    assert_eq!(answer.finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(answer.id.as_deref(), Some("chatcmpl-A"));
}

#[test]
fn zhipu_whole_arguments_in_one_chunk_without_index() {
    let body = concat!(
        "data: {\"id\":\"z1\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"tool_calls\":[{\"id\":\"call_z\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":{\"city\":\"杭州\"}}}]}}]}\n\n",
        "data: {\"id\":\"z1\",\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"},\"finish_reason\":\"tool_calls\"}],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":3,\"total_tokens\":8}}\n\n",
        "data: [DONE]\n\n",
    );
    let answer = assembled(&events(OpenAi(Dialect::Zhipu).decoder(), body));
    assert_eq!(
        answer.tool_calls,
        [ToolCall {
            id: "call_z".into(),
            name: "get_weather".into(),
            arguments: "{\"city\":\"杭州\"}".into()
        }]
    );
}

#[test]
fn anthropic_maps_tools_results_images_and_choice() {
    let mut req = tool_loop();
    req.messages
        .push(user_with_image("data:image/jpeg;base64,/9j/4AAQ"));
    req.messages
        .push(user_with_image("https://img.example/cat.png"));
    let b = serde_json::to_value(anthropic_request::body(&req, false)).unwrap();
    assert_eq!(b["system"], "简洁回答");
    assert_eq!(
        b["tools"][0],
        json!({"name":"get_weather","description":"查询天气","input_schema":{"type":"object","properties":{"city":{"type":"string"}}}})
    );
    assert_eq!(
        b["tool_choice"],
        json!({"type":"any","disable_parallel_tool_use":true})
    );
    assert_eq!(b["stop_sequences"], json!(["END"]));
    assert_eq!(b["metadata"], json!({"user_id":"u-42"}));
    let turns = b["messages"].as_array().unwrap();
    assert_eq!(
        turns.len(),
        3,
        "user, assistant, one user turn with both results"
    );
    assert_eq!(
        turns[1]["content"][0],
        json!({"type":"tool_use","id":"call_1","name":"get_weather","input":{"city":"杭州"}})
    );
    let results = turns[2]["content"].as_array().unwrap();
    assert_eq!(
        results[0],
        json!({"type":"tool_result","tool_use_id":"call_1","content":"晴"})
    );
    assert_eq!(results[1]["tool_use_id"], "call_2");
    assert_eq!(
        results[2],
        json!({"type":"text","text":"谢谢\n\n图里是什么？"})
    );
    assert_eq!(
        results[3],
        json!({"type":"image","source":{"type":"base64","media_type":"image/jpeg","data":"/9j/4AAQ"}})
    );
    assert_eq!(
        results[5],
        json!({"type":"image","source":{"type":"url","url":"https://img.example/cat.png"}})
    );
}

#[test]
fn anthropic_thinking_takes_a_budget_and_drops_sampling_and_forced_choice() {
    let mut req = tool_loop();
    req.reasoning_effort = Some("medium".into());
    req.temperature = Some(0.3);
    req.max_tokens = 1000;
    let b = serde_json::to_value(anthropic_request::body(&req, false)).unwrap();
    assert_eq!(
        b["thinking"],
        json!({"type":"enabled","budget_tokens":2048})
    );
    assert_eq!(b["max_tokens"], 2048 + 1024);
    assert!(b.get("temperature").is_none());
    assert_eq!(b["tool_choice"]["type"], "auto");
}

#[test]
fn anthropic_answer_and_stream_with_tool_use() {
    let body = json!({"id":"msg_1","type":"message","role":"assistant","content":[
        {"type":"text","text":"我来查一下。"},
        {"type":"tool_use","id":"toolu_1","name":"get_weather","input":{"city":"杭州"}}],
        "stop_reason":"tool_use","usage":{"input_tokens":10,"output_tokens":5}});
    let c = Anthropic.completion(body).unwrap();
    assert_eq!(c.finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(c.tool_calls[0].arguments, "{\"city\":\"杭州\"}");
    assert_eq!(c.id.as_deref(), Some("msg_1"));

    let stream = concat!(
        "event: message_start\ndata: {\"type\":\"message_start\",\"message\":{\"id\":\"msg_2\",\"usage\":{\"input_tokens\":10,\"output_tokens\":1}}}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":0,\"content_block\":{\"type\":\"thinking\",\"thinking\":\"\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":0,\"delta\":{\"type\":\"thinking_delta\",\"thinking\":\"查天气\"}}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":1,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_a\",\"name\":\"get_weather\",\"input\":{}}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{\\\"city\\\": \"}}\n\n",
        "event: content_block_start\ndata: {\"type\":\"content_block_start\",\"index\":2,\"content_block\":{\"type\":\"tool_use\",\"id\":\"toolu_b\",\"name\":\"get_weather\",\"input\":{}}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":1,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"\\\"杭州\\\"}\"}}\n\n",
        "event: content_block_delta\ndata: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"input_json_delta\",\"partial_json\":\"{}\"}}\n\n",
        "event: message_delta\ndata: {\"type\":\"message_delta\",\"delta\":{\"stop_reason\":\"tool_use\"},\"usage\":{\"output_tokens\":20}}\n\n",
        "event: message_stop\ndata: {\"type\":\"message_stop\"}\n\n",
    );
    let answer = assembled(&events(Anthropic.decoder(), stream));
    assert_eq!(answer.reasoning, "查天气");
    assert_eq!(answer.id.as_deref(), Some("msg_2"));
    assert_eq!(
        answer.tool_calls,
        [
            ToolCall {
                id: "toolu_a".into(),
                name: "get_weather".into(),
                arguments: "{\"city\": \"杭州\"}".into()
            },
            ToolCall {
                id: "toolu_b".into(),
                name: "get_weather".into(),
                arguments: "{}".into()
            }
        ],
        "tool calls are numbered among tool_use blocks only"
    );
    assert_eq!(answer.finish_reason.as_deref(), Some("tool_calls"));
}

#[test]
fn dashscope_tools_in_parameters_and_images_to_the_multimodal_service() {
    let b = serde_json::to_value(DashScope.body(&tool_loop(), false)).unwrap();
    assert_eq!(
        b["parameters"]["tools"][0]["function"]["name"],
        "get_weather"
    );
    assert_eq!(
        b["parameters"]["tool_choice"], "auto",
        "required is refused"
    );
    assert_eq!(b["parameters"]["seed"], 7);
    assert_eq!(b["input"]["messages"][0]["role"], "system");
    assert_eq!(b["input"]["messages"][2]["tool_calls"][0]["id"], "call_1");

    let req = ChatRequest {
        messages: vec![
            ChatMessage::text(Role::System, "sys"),
            user_with_image("https://img.example/cat.png"),
        ],
        reasoning_effort: Some("none".into()),
        ..ChatRequest::default()
    };
    let b = serde_json::to_value(DashScope.body(&req, false)).unwrap();
    assert_eq!(
        b["input"]["messages"][0]["content"],
        json!([{"text":"sys"}])
    );
    assert_eq!(
        b["input"]["messages"][1]["content"],
        json!([{"text":"图里是什么？"},{"image":"https://img.example/cat.png"}])
    );
    assert_eq!(b["parameters"]["enable_thinking"], false);
}

async fn dashscope_path(req: &ChatRequest) -> String {
    let target = Target {
        provider: ProviderKind::Aliyun,
        api_url: ProviderKind::Aliyun.default_api_url().into(),
        api_key: crate::secret::Secret::new("k"),
    };
    let providers = Providers::default();
    let builder = DashScope.prepare(&providers, &target, req, false);
    let request = builder.await.unwrap().build().unwrap();
    request.url().path().to_owned()
}

#[tokio::test]
async fn dashscope_images_go_to_the_multimodal_url() {
    let image = ChatRequest {
        messages: vec![user_with_image("https://img.example/cat.png")],
        ..ChatRequest::default()
    };
    let text = dashscope_path(&ChatRequest::default()).await;
    assert!(text.ends_with("/text-generation/generation"));
    let multimodal = dashscope_path(&image).await;
    assert!(multimodal.ends_with("/multimodal-generation/generation"));
}

#[test]
fn dashscope_answers_tool_calls_and_multimodal_content() {
    let c = DashScope
        .completion(json!({"request_id":"r1","output":{"choices":[{"finish_reason":"tool_calls",
            "message":{"role":"assistant","content":"","tool_calls":[{"index":0,"id":"call_d","type":"function",
            "function":{"name":"get_weather","arguments":"{\"city\":\"杭州\"}"}}]}}]},
            "usage":{"input_tokens":3,"output_tokens":4}}))
        .unwrap();
    assert_eq!(c.tool_calls[0].id, "call_d");
    assert_eq!(c.id.as_deref(), Some("r1"));
    let c = DashScope
        .completion(json!({"output":{"choices":[{"finish_reason":"stop",
            "message":{"role":"assistant","content":[{"text":"一只猫"}]}}]},
            "usage":{"input_tokens":3,"output_tokens":4}}))
        .unwrap();
    assert_eq!(c.text, "一只猫");

    let stream = concat!(
        "id:1\nevent:result\n:HTTP_STATUS/200\ndata:{\"output\":{\"choices\":[{\"message\":{\"content\":\"\",\"role\":\"assistant\",\"tool_calls\":[{\"index\":0,\"id\":\"call_s\",\"type\":\"function\",\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]},\"finish_reason\":\"null\"}]},\"request_id\":\"r2\"}\n\n",
        "id:2\nevent:result\n:HTTP_STATUS/200\ndata:{\"output\":{\"choices\":[{\"message\":{\"content\":\"\",\"role\":\"assistant\",\"tool_calls\":[{\"index\":0,\"id\":\"\",\"type\":\"function\",\"function\":{\"arguments\":\"{\\\"city\\\":\\\"杭州\\\"}\"}}]},\"finish_reason\":\"null\"}]},\"request_id\":\"r2\"}\n\n",
        "id:3\nevent:result\n:HTTP_STATUS/200\ndata:{\"output\":{\"choices\":[{\"message\":{\"content\":\"\",\"role\":\"assistant\",\"tool_calls\":[{\"index\":0,\"id\":\"\",\"type\":\"function\",\"function\":{}}]},\"finish_reason\":\"tool_calls\"}]},\"usage\":{\"input_tokens\":3,\"output_tokens\":9},\"request_id\":\"r2\"}\n\n",
    );
    let answer = assembled(&events(DashScope.decoder(), stream));
    assert_eq!(
        answer.tool_calls,
        [ToolCall {
            id: "call_s".into(),
            name: "get_weather".into(),
            arguments: "{\"city\":\"杭州\"}".into()
        }]
    );
    assert_eq!(answer.finish_reason.as_deref(), Some("tool_calls"));
}
