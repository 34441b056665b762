//! Passes over the points in fixed-size chunks whose results are combined in chunk order, so a
//! fit gives the same floating-point sums whether it runs on one thread or many.

/// Points per chunk.
pub const CHUNK: usize = 4096;

/// Calls `pass(first_point, items_of_chunk)` for every chunk of `labels` (one item per point,
/// such as its label) on up to `threads` threads, returning the results in chunk order.
pub fn map_chunks<I: Send, T: Send>(
    labels: &mut [I],
    threads: usize,
    pass: impl Fn(usize, &mut [I]) -> T + Sync,
) -> Vec<T> {
    let chunks = labels.len().div_ceil(CHUNK);
    let threads = threads.clamp(1, chunks.max(1));
    if threads == 1 {
        return labels
            .chunks_mut(CHUNK)
            .enumerate()
            .map(|(c, chunk)| pass(c * CHUNK, chunk))
            .collect();
    }
    let mut jobs: Vec<Vec<(usize, &mut [I])>> = (0..threads).map(|_| Vec::new()).collect();
    for (c, chunk) in labels.chunks_mut(CHUNK).enumerate() {
        jobs[c % threads].push((c, chunk));
    }
    let mut results: Vec<(usize, T)> = std::thread::scope(|scope| {
        let handles: Vec<_> = jobs
            .into_iter()
            .map(|job| {
                let pass = &pass;
                scope.spawn(move || {
                    job.into_iter()
                        .map(|(c, chunk)| (c, pass(c * CHUNK, chunk)))
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            // A chunk cannot panic short of a bug in this module; re-raise it if one does.
            .flat_map(|h| h.join().unwrap_or_else(|e| std::panic::resume_unwind(e)))
            .collect()
    });
    results.sort_unstable_by_key(|(c, _)| *c);
    results.into_iter().map(|(_, t)| t).collect()
}

/// The number of threads to use: the machine's cores.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_come_back_in_chunk_order_on_any_thread_count() {
        for threads in [1, 2, 3] {
            let mut labels = vec![0u32; CHUNK * 5 + 7];
            let firsts = map_chunks(&mut labels, threads, |first, chunk| {
                chunk.fill(first as u32);
                first
            });
            assert_eq!(
                firsts,
                vec![0, CHUNK, 2 * CHUNK, 3 * CHUNK, 4 * CHUNK, 5 * CHUNK]
            );
            assert_eq!(labels[CHUNK * 5 + 6], (CHUNK * 5) as u32);
        }
    }
}
