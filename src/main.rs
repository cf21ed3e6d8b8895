//! Thin binary: parse the command line and dispatch (see `scaletop::cli`).

fn main() -> std::process::ExitCode {
    scaletop::cli::main()
}
