//! The per-group day sets behind `rfm`'s and `btyd_summary`'s distinct purchase days, driven
//! by any sequence of single days, partial-state lists and `EmitTo::First` splits, checked
//! against a `BTreeSet` per group.
#![no_main]

use std::collections::BTreeSet;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use seglake_udfs::common::day_sets::{DayArena, DaySlot};

#[derive(Debug, Arbitrary)]
enum Op {
    /// One row's day (update_batch).
    Insert { group: u8, day: i16 },
    /// A partial state's sorted, distinct days (merge_batch).
    InsertSorted { group: u8, days: Vec<i16> },
    /// Emit the first groups (EmitTo::First under memory pressure or sorted input).
    SplitFirst { n: u8 },
    /// A day far from the others, as dates before 1970 or in the far future give.
    InsertFar { group: u8, day: i32 },
}

fuzz_target!(|ops: Vec<Op>| {
    let mut arena = DayArena::default();
    let mut slots: Vec<DaySlot> = Vec::new();
    let mut reference: Vec<BTreeSet<i32>> = Vec::new();
    let grow = |slots: &mut Vec<DaySlot>, reference: &mut Vec<BTreeSet<i32>>, group: usize| {
        if slots.len() <= group {
            slots.resize(group + 1, DaySlot::default());
            reference.resize(group + 1, BTreeSet::new());
        }
    };
    for op in ops {
        match op {
            Op::Insert { group, day } => {
                let group = usize::from(group);
                grow(&mut slots, &mut reference, group);
                arena.insert(&mut slots[group], group, i32::from(day));
                reference[group].insert(i32::from(day));
            }
            Op::InsertFar { group, day } => {
                let group = usize::from(group);
                grow(&mut slots, &mut reference, group);
                arena.insert(&mut slots[group], group, day);
                reference[group].insert(day);
            }
            Op::InsertSorted { group, days } => {
                let group = usize::from(group);
                grow(&mut slots, &mut reference, group);
                let days: Vec<i32> = days
                    .into_iter()
                    .map(i32::from)
                    .collect::<BTreeSet<_>>()
                    .into_iter()
                    .collect();
                arena.insert_sorted(&mut slots[group], group, &days);
                reference[group].extend(days);
            }
            Op::SplitFirst { n } => {
                let n = usize::from(n).min(slots.len());
                let first = arena.split_first(n);
                let first_slots: Vec<DaySlot> = slots.drain(..n).collect();
                let first_reference: Vec<BTreeSet<i32>> = reference.drain(..n).collect();
                check(first, &first_slots, &first_reference);
            }
        }
        assert!(arena.size() < 1 << 30);
    }
    check(arena, &slots, &reference);
});

fn check(arena: DayArena, slots: &[DaySlot], reference: &[BTreeSet<i32>]) {
    let counts = arena.distinct_counts(slots);
    let expected: Vec<usize> = reference.iter().map(BTreeSet::len).collect();
    assert_eq!(counts, expected, "distinct counts");
    let gathered = arena.gather(slots);
    assert_eq!(gathered.offsets.len(), slots.len() + 1);
    for (group, days) in reference.iter().enumerate() {
        let own = &gathered.days[gathered.offsets[group]..gathered.offsets[group + 1]];
        let expected: Vec<i32> = days.iter().copied().collect();
        assert_eq!(own, expected.as_slice(), "days of group {group}");
    }
}
