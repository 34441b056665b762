use std::process::ExitCode;

mod allocator;

fn main() -> ExitCode {
    allocator::configure();
    seglake::cli::main()
}
