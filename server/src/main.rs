use std::process::ExitCode;

use clap::Parser;

#[tokio::main]
async fn main() -> ExitCode {
    llm_proxy::cli::run(llm_proxy::cli::Cli::parse()).await
}
