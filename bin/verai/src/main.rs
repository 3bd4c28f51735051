//! `verai`: the Verai node and its command-line client.

mod cli;

use clap::Parser;

fn main() -> std::process::ExitCode {
    let args = cli::Cli::parse();
    match cli::run(args) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", report(&e));
            std::process::ExitCode::FAILURE
        }
    }
}

/// An error for people: each cause once, in words; a backtrace only when `RUST_BACKTRACE`
/// asks for one.
fn report(e: &eyre::Report) -> String {
    let mut parts: Vec<String> = Vec::new();
    for cause in e.chain() {
        let text = cause.to_string();
        // Wrapping errors often repeat their source's words: say each thing once.
        if parts.last().is_none_or(|p| !p.contains(&text)) {
            parts.push(text);
        }
    }
    let mut out = parts.join(": ");
    if std::env::var_os("RUST_BACKTRACE").is_some_and(|v| v != "0") {
        out += &format!("\n\n{:?}", e);
    }
    out
}
