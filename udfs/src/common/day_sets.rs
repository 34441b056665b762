//! Per-group sets of day numbers, for counting distinct purchase days or periods.
//!
//! Each group keeps a small [`DaySlot`] inside its own accumulator state (so one row touches
//! one place of group state), and one [`DayArena`] appends every (group, day) pair to a single
//! vector, so adding a day never allocates per group (a `Vec` per customer would, millions of
//! times). A slot counts its distinct days directly while they arrive in order, the common
//! case for time-ordered exports; the days themselves are only needed for partial-aggregation
//! state and for groups whose days arrived out of order, and are then gathered in one linear
//! pass (a counting sort by group), never by chasing pointers.

/// One group's summary of its days.
#[derive(Debug, Clone, Copy)]
pub struct DaySlot {
    /// The largest day seen.
    last: i32,
    /// Distinct days, exact while `ordered`.
    count: u32,
    /// Days stored in the arena for this group.
    stored: u32,
    /// Every day so far arrived in non-decreasing order.
    ordered: bool,
}

impl Default for DaySlot {
    fn default() -> Self {
        Self {
            last: i32::MIN,
            count: 0,
            stored: 0,
            ordered: true,
        }
    }
}

/// Pairs per block of the arena: blocks never move once allocated, so the arena grows without
/// copying (a single growing vector would copy hundreds of megabytes and fault in new pages).
const BLOCK: usize = 1 << 16;

/// The days of all groups of an accumulator, as (group, day) pairs in arrival order.
#[derive(Debug, Clone, Default)]
pub struct DayArena {
    blocks: Vec<Vec<(u32, i32)>>,
}

/// Every group's distinct days, sorted: group `g`'s are `days[offsets[g]..offsets[g + 1]]`.
#[derive(Debug, Default)]
pub struct Gathered {
    pub offsets: Vec<usize>,
    pub days: Vec<i32>,
}

#[cfg(test)]
impl Gathered {
    fn days_of(&self, group: usize) -> &[i32] {
        &self.days[self.offsets[group]..self.offsets[group + 1]]
    }
}

impl DayArena {
    /// Adds `day` to the set of `group`, whose slot is `slot`.
    #[inline]
    pub fn insert(&mut self, slot: &mut DaySlot, group: usize, day: i32) {
        if slot.stored > 0 {
            if day == slot.last {
                return;
            }
            if day < slot.last {
                slot.ordered = false;
            } else {
                slot.last = day;
                slot.count += 1;
            }
        } else {
            slot.last = day;
            slot.count = 1;
        }
        slot.stored += 1;
        self.push((group as u32, day));
    }

    /// The distinct days of groups `0..slots.len()`, sorted, in one pass over the arena.
    pub fn gather(&self, slots: &[DaySlot]) -> Gathered {
        let mut starts = Vec::with_capacity(slots.len() + 1);
        let mut total = 0usize;
        for slot in slots {
            starts.push(total);
            total += slot.stored as usize;
        }
        starts.push(total);
        // Counting sort by group: each group's days land in arrival order.
        let mut scattered = vec![0i32; total];
        let mut cursor = starts.clone();
        for &(group, day) in self.pairs() {
            let group = group as usize;
            if group < slots.len() {
                scattered[cursor[group]] = day;
                cursor[group] += 1;
            }
        }
        // In-order groups are already sorted and distinct; the others are sorted and deduped.
        let mut offsets = Vec::with_capacity(slots.len() + 1);
        let mut days = Vec::with_capacity(total);
        for (group, slot) in slots.iter().enumerate() {
            offsets.push(days.len());
            let own = &mut scattered[starts[group]..starts[group + 1]];
            if slot.ordered {
                days.extend_from_slice(own);
            } else {
                own.sort_unstable();
                let from = days.len();
                for &day in own.iter() {
                    if days.len() == from || days[days.len() - 1] != day {
                        days.push(day);
                    }
                }
            }
        }
        offsets.push(days.len());
        Gathered { offsets, days }
    }

    /// The number of distinct days of each of groups `0..slots.len()`.
    pub fn distinct_counts(&self, slots: &[DaySlot]) -> Vec<usize> {
        if slots.iter().all(|s| s.ordered) {
            return slots.iter().map(|s| s.count as usize).collect();
        }
        let gathered = self.gather(slots);
        (0..slots.len())
            .map(|g| gathered.offsets[g + 1] - gathered.offsets[g])
            .collect()
    }

    /// Moves the days of groups `0..n` into a new arena and renumbers the rest from 0.
    pub fn split_first(&mut self, n: usize) -> DayArena {
        let mut first = DayArena::default();
        let mut rest = DayArena::default();
        for &(group, day) in self.pairs() {
            if (group as usize) < n {
                first.push((group, day));
            } else {
                rest.push((group - n as u32, day));
            }
        }
        *self = rest;
        first
    }

    /// Bytes held.
    pub fn size(&self) -> usize {
        self.blocks.iter().map(Vec::capacity).sum::<usize>() * size_of::<(u32, i32)>()
    }

    #[inline]
    fn push(&mut self, pair: (u32, i32)) {
        match self.blocks.last_mut() {
            Some(block) if block.len() < block.capacity() => block.push(pair),
            last => {
                // Small accumulators stay small: blocks double from 1,024 pairs up to BLOCK.
                let capacity = last.map_or(1024, |b| (2 * b.capacity()).min(BLOCK));
                let mut block = Vec::with_capacity(capacity);
                block.push(pair);
                self.blocks.push(block);
            }
        }
    }

    fn pairs(&self) -> impl Iterator<Item = &(u32, i32)> {
        self.blocks.iter().flatten()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_order_days_are_counted_without_gathering() {
        let mut arena = DayArena::default();
        let mut slots = [DaySlot::default(); 2];
        for day in [1, 1, 3, 3, 3, 7] {
            arena.insert(&mut slots[0], 0, day);
        }
        arena.insert(&mut slots[1], 1, 5);
        assert!(slots[0].ordered && slots[0].count == 3);
        assert_eq!(arena.distinct_counts(&slots), vec![3, 1]);
        let gathered = arena.gather(&slots);
        assert_eq!(gathered.days_of(0), &[1, 3, 7]);
        assert_eq!(gathered.days_of(1), &[5]);
    }

    #[test]
    fn out_of_order_days_are_deduplicated() {
        let mut arena = DayArena::default();
        let mut slots = [DaySlot::default(); 2];
        for day in [5, 2, 5, 9, 2, 2, -4] {
            arena.insert(&mut slots[1], 1, day);
        }
        assert!(!slots[1].ordered);
        assert_eq!(arena.distinct_counts(&slots), vec![0, 4]);
        assert_eq!(arena.gather(&slots).days_of(1), &[-4, 2, 5, 9]);
        assert!(arena.gather(&slots).days_of(0).is_empty());
    }

    #[test]
    fn split_first_renumbers_the_rest() {
        let mut arena = DayArena::default();
        let mut slots = [DaySlot::default(); 3];
        arena.insert(&mut slots[0], 0, 1);
        arena.insert(&mut slots[1], 1, 4);
        arena.insert(&mut slots[2], 2, 9);
        arena.insert(&mut slots[1], 1, 2);
        let first = arena.split_first(2);
        assert_eq!(first.gather(&slots[..2]).days_of(1), &[2, 4]);
        assert_eq!(arena.gather(&slots[2..]).days_of(0), &[9]);
    }

    #[test]
    fn matches_a_set_on_random_input() {
        let mut arena = DayArena::default();
        let mut slots = [DaySlot::default(); 50];
        let mut reference = vec![std::collections::BTreeSet::new(); 50];
        let mut x: u64 = 12345;
        for _ in 0..5000 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let group = (x >> 33) as usize % 50;
            let day = ((x >> 13) % 40) as i32 - 20;
            arena.insert(&mut slots[group], group, day);
            reference[group].insert(day);
        }
        let gathered = arena.gather(&slots);
        let counts = arena.distinct_counts(&slots);
        for (group, expected) in reference.iter().enumerate() {
            assert_eq!(counts[group], expected.len());
            assert_eq!(
                gathered.days_of(group),
                expected.iter().copied().collect::<Vec<_>>()
            );
        }
    }
}
