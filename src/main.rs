use std::process::ExitCode;

fn main() -> ExitCode {
    seglake::cli::main()
}
