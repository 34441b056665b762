//! The process's memory allocator: mimalloc, tuned for aggregations.

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc.h (the same position in its v2 and v3 headers).
const PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// How long freed memory stays with the process before it is returned to the OS.
const PURGE_DELAY_MS: std::ffi::c_long = 1000;

/// Keeps freed memory for a second instead of mimalloc's 10 ms, unless `MIMALLOC_PURGE_DELAY`
/// says otherwise.
///
/// An aggregation frees hundreds of megabytes between its stages (partial states, the day sets
/// of `rfm`) and allocates as much again at once: returned to the OS after 10 ms, every page
/// came back through a page fault and was zeroed again, a quarter of `rfm`'s time over 20
/// million rows. A second covers a query's stages and still gives the memory back while the
/// REPL waits for input. Call it first in `main`, before any other thread starts.
///
/// It also turns transparent huge pages off for the process (Linux's `PR_SET_THP_DISABLE`, what
/// mimalloc does itself with `MIMALLOC_ALLOW_THP=0`), unless `MIMALLOC_ALLOW_THP` is set: each
/// first touch of a huge page makes the kernel zero 2 MiB at once, and slow runs of `rfm` and
/// `kmeans_fit` spent a quarter to a half of their samples there (`benches/README.md`).
pub fn configure() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one of mimalloc's documented options to a value in its range, while the
        // process has one thread.
        unsafe { libmimalloc_sys::mi_option_set(PURGE_DELAY, PURGE_DELAY_MS) };
    }
    #[cfg(target_os = "linux")]
    if std::env::var_os("MIMALLOC_ALLOW_THP").is_none() {
        // SAFETY: PR_SET_THP_DISABLE takes one integer and touches no memory of the process;
        // an error (an old kernel) leaves huge pages as they were.
        unsafe { libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) };
    }
}
