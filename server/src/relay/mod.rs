//! The relay: from a client's request to an upstream call and back, with templates,
//! retries, timeouts, streaming and the call record.

pub mod template;
