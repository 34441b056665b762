//! Per-group sets of day numbers, for counting distinct purchase days or periods.
//!
//! Each group keeps a small [`DaySlot`] inside its own accumulator state (so one row touches
//! one place of group state), and one [`DayArena`] holds the days of every group, so adding a
//! day never allocates per group (a `Vec` per customer would, millions of times). A slot
//! counts its distinct days directly while they arrive in order, the common case for
//! time-ordered exports; the days themselves are only needed for partial-aggregation state and
//! for groups whose days arrived out of order.
//!
//! The arena is laid out for lakes written customer by customer, where a group's rows arrive
//! together and groups are numbered in arrival order: days are appended to one vector in runs
//! of one group each, so the state's list of days is that vector itself, handed over without a
//! copy. Days that arrive after a later group's run has begun (interleaved input, or a
//! customer's rows split between files) are kept aside as (group, day) pairs and sorted into
//! place by a counting sort when gathered.

/// One group's summary of its days.
#[derive(Debug, Clone, Copy)]
pub struct DaySlot {
    /// The largest day seen.
    last: i32,
    /// Distinct days, exact while `ordered`.
    count: u32,
    /// Days stored in the arena for this group.
    stored: u32,
    /// Every day so far arrived in non-decreasing order, so the stored days are sorted and
    /// distinct.
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

/// The days of all groups of an accumulator.
#[derive(Debug, Clone, Default)]
pub struct DayArena {
    /// The days of the runs, run after run.
    days: Vec<i32>,
    /// (group, number of days) of each run, in strictly increasing group order.
    runs: Vec<(u32, u32)>,
    /// (group, day) for days that arrived after a later group's run had begun: most days,
    /// when customers' rows are interleaved in time order.
    strays: Strays,
}

/// Pairs per block of [`Strays`]: blocks never move once allocated, so the pairs grow without
/// copying (one growing vector would copy hundreds of megabytes into freshly faulted pages).
const BLOCK: usize = 1 << 16;

/// (group, day) pairs in arrival order, in blocks.
#[derive(Debug, Clone, Default)]
struct Strays {
    /// Full blocks.
    full: Vec<Vec<(u32, i32)>>,
    /// The block being filled.
    current: Vec<(u32, i32)>,
}

impl Strays {
    #[inline]
    fn push(&mut self, pair: (u32, i32)) {
        if self.current.len() == self.current.capacity() {
            self.next_block();
        }
        self.current.push(pair);
    }

    #[cold]
    fn next_block(&mut self) {
        // Small accumulators stay small: blocks double from 1,024 pairs up to BLOCK.
        let capacity = (2 * self.current.capacity()).clamp(1024, BLOCK);
        let full = std::mem::replace(&mut self.current, Vec::with_capacity(capacity));
        if !full.is_empty() {
            self.full.push(full);
        }
    }

    fn is_empty(&self) -> bool {
        self.current.is_empty() && self.full.is_empty()
    }

    fn iter(&self) -> impl Iterator<Item = &(u32, i32)> {
        self.full.iter().flatten().chain(&self.current)
    }

    fn capacity(&self) -> usize {
        self.full.iter().map(Vec::capacity).sum::<usize>() + self.current.capacity()
    }
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
        self.push(group as u32, day);
    }

    /// Adds the days of `days`, which are sorted and distinct (a partial state's list), to the
    /// set of `group`: in bulk when they all come after the group's days so far.
    pub fn insert_sorted(&mut self, slot: &mut DaySlot, group: usize, days: &[i32]) {
        debug_assert!(days.windows(2).all(|w| w[0] < w[1]), "sorted and distinct");
        let (Some(&first), Some(&last)) = (days.first(), days.last()) else {
            return;
        };
        if slot.stored == 0 || first > slot.last {
            let len = days.len() as u32;
            if slot.stored == 0 {
                slot.count = 0;
            }
            slot.count += len;
            slot.stored += len;
            slot.last = last;
            self.extend(group as u32, days);
        } else {
            for &day in days {
                self.insert(slot, group, day);
            }
        }
    }

    /// The distinct days of groups `0..slots.len()`, sorted. Without stray days and with
    /// every group in order, this is the arena's own vector of days, not a copy.
    pub fn gather(self, slots: &[DaySlot]) -> Gathered {
        let mut starts = Vec::with_capacity(slots.len() + 1);
        let mut total = 0usize;
        for slot in slots {
            starts.push(total);
            total += slot.stored as usize;
        }
        starts.push(total);
        let mut days = self.into_group_order(&starts, total);
        if slots.iter().all(|s| s.ordered) {
            return Gathered {
                offsets: starts,
                days,
            };
        }
        // Sort and dedupe the out-of-order groups, compacting in place (writes never pass reads).
        let mut offsets = Vec::with_capacity(slots.len() + 1);
        let mut write = 0;
        for (group, slot) in slots.iter().enumerate() {
            offsets.push(write);
            let (from, to) = (starts[group], starts[group + 1]);
            if slot.ordered {
                days.copy_within(from..to, write);
                write += to - from;
            } else {
                days[from..to].sort_unstable();
                for read in from..to {
                    let day = days[read];
                    if read == from || days[write - 1] != day {
                        days[write] = day;
                        write += 1;
                    }
                }
            }
        }
        offsets.push(write);
        days.truncate(write);
        Gathered { offsets, days }
    }

    /// The days of groups `0..starts.len() - 1` in group order, each group's in arrival order,
    /// where group `g`'s begin at `starts[g]` and `total` days belong to those groups.
    fn into_group_order(self, starts: &[usize], total: usize) -> Vec<i32> {
        let n = starts.len() - 1;
        if self.strays.is_empty() {
            // One run per group in group order: the groups below n own the first days.
            let mut days = self.days;
            days.truncate(total);
            return days;
        }
        let mut days = vec![0i32; total];
        let mut cursor = starts[..n].to_vec();
        let mut from = 0;
        for &(group, len) in &self.runs {
            let (group, len) = (group as usize, len as usize);
            if group >= n {
                break;
            }
            let to = cursor[group];
            days[to..to + len].copy_from_slice(&self.days[from..from + len]);
            cursor[group] += len;
            from += len;
        }
        for &(group, day) in self.strays.iter() {
            if let Some(at) = cursor.get_mut(group as usize) {
                days[*at] = day;
                *at += 1;
            }
        }
        days
    }

    /// The number of distinct days of each of groups `0..slots.len()`. In-order groups know
    /// theirs; only the days of the others are gathered.
    pub fn distinct_counts(&self, slots: &[DaySlot]) -> Vec<usize> {
        let mut counts: Vec<usize> = slots.iter().map(|s| s.count as usize).collect();
        let unordered: Vec<usize> = (0..slots.len()).filter(|&g| !slots[g].ordered).collect();
        if unordered.is_empty() {
            return counts;
        }
        // Where each out-of-order group's days go in one buffer.
        let mut place = vec![usize::MAX; slots.len()];
        let mut total = 0;
        for &group in &unordered {
            place[group] = total;
            total += slots[group].stored as usize;
        }
        let ends: Vec<usize> = unordered
            .iter()
            .map(|&g| place[g] + slots[g].stored as usize)
            .collect();
        let mut days = vec![0i32; total];
        let mut from = 0;
        for &(group, len) in &self.runs {
            let len = len as usize;
            if let Some(at) = place
                .get_mut(group as usize)
                .filter(|at| **at != usize::MAX)
            {
                days[*at..*at + len].copy_from_slice(&self.days[from..from + len]);
                *at += len;
            }
            from += len;
        }
        for &(group, day) in self.strays.iter() {
            if let Some(at) = place
                .get_mut(group as usize)
                .filter(|at| **at != usize::MAX)
            {
                days[*at] = day;
                *at += 1;
            }
        }
        let mut from = 0;
        for (&group, &to) in unordered.iter().zip(&ends) {
            let own = &mut days[from..to];
            own.sort_unstable();
            counts[group] = 1 + own.windows(2).filter(|w| w[0] != w[1]).count();
            from = to;
        }
        counts
    }

    /// Moves the days of groups `0..n` into a new arena and renumbers the rest from 0.
    pub fn split_first(&mut self, n: usize) -> DayArena {
        let below = |group: u32| (group as usize) < n;
        let runs = self.runs.partition_point(|&(group, _)| below(group));
        let days: usize = self.runs[..runs].iter().map(|&(_, len)| len as usize).sum();
        let rest_days = self.days.split_off(days);
        let rest_runs = self
            .runs
            .split_off(runs)
            .into_iter()
            .map(|(group, len)| (group - n as u32, len))
            .collect();
        let mut first_strays = Strays::default();
        let mut rest_strays = Strays::default();
        for &(group, day) in self.strays.iter() {
            if below(group) {
                first_strays.push((group, day));
            } else {
                rest_strays.push((group - n as u32, day));
            }
        }
        self.strays = rest_strays;
        DayArena {
            days: std::mem::replace(&mut self.days, rest_days),
            runs: std::mem::replace(&mut self.runs, rest_runs),
            strays: first_strays,
        }
    }

    /// Bytes held.
    pub fn size(&self) -> usize {
        self.days.capacity() * size_of::<i32>()
            + (self.runs.capacity() + self.strays.capacity()) * size_of::<(u32, i32)>()
    }

    #[inline]
    fn push(&mut self, group: u32, day: i32) {
        match self.runs.last_mut() {
            Some((run, len)) if *run == group => {
                *len += 1;
                self.days.push(day);
            }
            Some((run, _)) if *run > group => self.strays.push((group, day)),
            _ => {
                self.runs.push((group, 1));
                self.days.push(day);
            }
        }
    }

    /// Appends `days` of one group.
    fn extend(&mut self, group: u32, days: &[i32]) {
        match self.runs.last_mut() {
            Some((run, len)) if *run == group => {
                *len += days.len() as u32;
                self.days.extend_from_slice(days);
            }
            Some((run, _)) if *run > group => {
                for &day in days {
                    self.strays.push((group, day));
                }
            }
            _ => {
                self.runs.push((group, days.len() as u32));
                self.days.extend_from_slice(days);
            }
        }
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
        let gathered = arena.clone().gather(&slots);
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
        assert_eq!(arena.clone().gather(&slots).days_of(1), &[-4, 2, 5, 9]);
        assert!(arena.clone().gather(&slots).days_of(0).is_empty());
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
        assert_eq!(first.clone().gather(&slots[..2]).days_of(1), &[2, 4]);
        assert_eq!(arena.clone().gather(&slots[2..]).days_of(0), &[9]);
    }

    #[test]
    fn sorted_lists_are_added_in_bulk_or_merged() {
        let mut arena = DayArena::default();
        let mut slots = [DaySlot::default(); 3];
        arena.insert_sorted(&mut slots[0], 0, &[1, 4, 9]);
        arena.insert_sorted(&mut slots[0], 0, &[10, 12]);
        arena.insert_sorted(&mut slots[1], 1, &[]);
        arena.insert_sorted(&mut slots[2], 2, &[5, 7]);
        assert!(arena.strays.is_empty() && slots[0].ordered);
        // Overlapping another list of the same group: counted by gathering.
        arena.insert_sorted(&mut slots[2], 2, &[3, 5, 8]);
        assert!(!slots[2].ordered);
        assert_eq!(arena.distinct_counts(&slots), vec![5, 0, 4]);
        let gathered = arena.clone().gather(&slots);
        assert_eq!(gathered.days_of(0), &[1, 4, 9, 10, 12]);
        assert_eq!(gathered.days_of(2), &[3, 5, 7, 8]);
    }

    #[test]
    fn bulk_lists_span_blocks() {
        let mut arena = DayArena::default();
        let mut slots = [DaySlot::default(); 2];
        let long: Vec<i32> = (0..5000).collect();
        arena.insert(&mut slots[0], 0, -1);
        arena.insert_sorted(&mut slots[0], 0, &long);
        arena.insert_sorted(&mut slots[1], 1, &long[..3]);
        assert_eq!(arena.distinct_counts(&slots), vec![5001, 3]);
        assert_eq!(arena.clone().gather(&slots).days_of(0).len(), 5001);
        assert_eq!(arena.clone().gather(&slots).days_of(1), &[0, 1, 2]);
    }

    #[test]
    fn interleaved_groups_are_sorted_by_group() {
        let mut arena = DayArena::default();
        let mut slots = [DaySlot::default(); 3];
        arena.insert(&mut slots[1], 1, 2);
        arena.insert(&mut slots[0], 0, 8);
        arena.insert(&mut slots[2], 2, 1);
        arena.insert(&mut slots[1], 1, 6);
        assert!(!arena.strays.is_empty());
        let gathered = arena.clone().gather(&slots[..2]);
        assert_eq!(gathered.days_of(0), &[8]);
        assert_eq!(gathered.days_of(1), &[2, 6]);
        assert_eq!(gathered.days.len(), 3);
    }

    #[test]
    fn split_first_keeps_stray_days_with_their_groups() {
        let mut arena = DayArena::default();
        let mut slots = [DaySlot::default(); 4];
        arena.insert(&mut slots[0], 0, 3);
        arena.insert(&mut slots[2], 2, 7);
        arena.insert(&mut slots[1], 1, 5); // stray: group 2's run has begun
        arena.insert(&mut slots[3], 3, 1);
        arena.insert(&mut slots[2], 2, 2); // stray, out of order
        let first = arena.split_first(2);
        assert_eq!(first.clone().gather(&slots[..2]).days_of(1), &[5]);
        assert_eq!(first.distinct_counts(&slots[..2]), vec![1, 1]);
        let rest = arena.clone().gather(&slots[2..]);
        assert_eq!(rest.days_of(0), &[2, 7]);
        assert_eq!(rest.days_of(1), &[1]);
        assert_eq!(arena.distinct_counts(&slots[2..]), vec![2, 1]);
    }

    /// Mostly grouped input with some groups coming back later, by single days and by lists.
    #[test]
    fn matches_a_set_on_mostly_grouped_input() {
        let mut arena = DayArena::default();
        let mut slots = [DaySlot::default(); 40];
        let mut reference = vec![std::collections::BTreeSet::new(); 40];
        let mut x: u64 = 777;
        let mut next = || {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            (x >> 33) as usize
        };
        for group in 0..40 {
            for _ in 0..next() % 6 {
                let day = (next() % 30) as i32;
                arena.insert(&mut slots[group], group, day);
                reference[group].insert(day);
            }
            if group > 0 && next() % 3 == 0 {
                let back = next() % group;
                let list: Vec<i32> = (0..(next() % 4) as i32).map(|d| 3 * d + 1).collect();
                arena.insert_sorted(&mut slots[back], back, &list);
                reference[back].extend(list);
            }
        }
        let counts = arena.distinct_counts(&slots);
        let gathered = arena.gather(&slots);
        for (group, expected) in reference.iter().enumerate() {
            assert_eq!(counts[group], expected.len(), "group {group}");
            assert_eq!(
                gathered.days_of(group),
                expected.iter().copied().collect::<Vec<_>>()
            );
        }
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
        let gathered = arena.clone().gather(&slots);
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
