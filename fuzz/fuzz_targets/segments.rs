//! Segment maps, lifecycle rules and the calendar under any scores, days and thresholds:
//! every in-range code has a segment of the map's own list, out-of-range scores are errors
//! naming the score, every customer gets one of the six stages, and day numbers of any
//! timestamp or date round-trip through the civil calendar.
#![no_main]

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use seglake_udfs::lifecycle::rules::{STAGES, Thresholds, stage};
use seglake_udfs::rfm::periods::{Period, civil_from_days, day_of_micros, days_from_civil};
use seglake_udfs::rfm::segments::{MAP_NAMES, SegmentMap};

#[derive(Debug, Arbitrary)]
struct Input {
    map: String,
    scores: Vec<(i64, i64, i64)>,
    small_scores: Vec<(u8, u8, u8)>,
    customers: Vec<Customer>,
    thresholds: (i64, i64, i64, i64, f64),
    micros: Vec<i64>,
    dates: Vec<i32>,
}

#[derive(Debug, Arbitrary)]
struct Customer {
    first: Option<i64>,
    last: Option<i64>,
    as_of: i64,
    purchases: i64,
    spend: f64,
}

fuzz_target!(|input: Input| {
    maps(&input);
    lifecycle(&input);
    calendar(&input);
});

fn maps(input: &Input) {
    let named = input.map.parse::<SegmentMap>();
    if let Ok(map) = named {
        assert!(MAP_NAMES.contains(&map.to_string().as_str()));
    } else {
        assert!(!MAP_NAMES.contains(&input.map.trim().to_ascii_lowercase().as_str()));
    }
    for name in MAP_NAMES {
        let Ok(map) = name.parse::<SegmentMap>() else {
            panic!("built-in map {name} does not parse");
        };
        let bins = i64::from(map.bins());
        let small = input
            .small_scores
            .iter()
            .map(|&(r, f, m)| (i64::from(r % 7), i64::from(f % 7), i64::from(m % 7)));
        for (r, f, m) in input.scores.iter().copied().chain(small) {
            let in_range = [r, f, m].iter().all(|s| (1..=bins).contains(s));
            match map.segment(r, f, m) {
                Ok(segment) => {
                    assert!(in_range, "{name} gave {segment} to ({r}, {f}, {m})");
                    assert!(map.segment_names().contains(&segment), "{name}: {segment}");
                }
                Err(message) => {
                    assert!(!in_range, "{name} refused ({r}, {f}, {m}): {message}");
                    assert!(
                        !message.contains('\n') && message.contains(name),
                        "{message}"
                    );
                }
            }
        }
    }
}

fn lifecycle(input: &Input) {
    let (new_days, active_days, at_risk_days, loyal_purchases, loyal_spend) = input.thresholds;
    // lifecycle_stage refuses at_risk_days below active_days at plan time.
    if at_risk_days < active_days {
        return;
    }
    let t = Thresholds {
        new_days,
        active_days,
        at_risk_days,
        loyal_purchases,
        loyal_spend,
    };
    for c in &input.customers {
        // The UDF's day arithmetic: whole days of microsecond timestamps before as_of.
        let as_of_day = day_of_micros(c.as_of);
        let bought = c.first.filter(|&first| first < c.as_of);
        let since_first = bought.map(|first| as_of_day - day_of_micros(first));
        let last = c.last.or(c.first).unwrap_or(c.as_of);
        let since_last = as_of_day - day_of_micros(last);
        if bought.is_some() && since_last < 0 {
            continue; // an error in the UDF
        }
        let s = stage(since_first, since_last, c.purchases, c.spend, &t);
        assert!(STAGES.contains(&s), "{s}");
        assert_eq!(s == "prospect", since_first.is_none());
    }
}

fn calendar(input: &Input) {
    let days = input
        .micros
        .iter()
        .map(|&m| day_of_micros(m))
        .chain(input.dates.iter().map(|&d| i64::from(d)));
    for day in days {
        let (year, month, dom) = civil_from_days(day);
        assert!(
            (1..=12).contains(&month) && (1..=31).contains(&dom),
            "{day}"
        );
        assert_eq!(
            days_from_civil(year, month, dom),
            day,
            "{year}-{month}-{dom}"
        );
        for period in [Period::Day, Period::Week, Period::Month] {
            let start = period.start_day(day);
            assert!(
                start <= day && day - start < 31,
                "{period} of {day}: {start}"
            );
            assert_eq!(period.start_day(start), start, "{period} of {day}");
        }
    }
}
