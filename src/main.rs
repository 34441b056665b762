use std::process::ExitCode;

// Aggregations allocate and free large buffers per batch and per stage; mimalloc reuses them
// where the system allocator returns them to the OS and faults fresh pages in again.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    seglake::cli::main()
}
