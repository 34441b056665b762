//! `btyd_summary(order_ts, amount, as_of [, period, multiplier])`: the frequency / recency / T /
//! monetary_value summary the buy-till-you-die models take, exactly as lifetimes'
//! `summary_data_from_transaction_data` computes it.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int32Array, Int64Array, ListArray,
    StructArray,
};
use datafusion::arrow::buffer::{NullBuffer, OffsetBuffer};
use datafusion::arrow::datatypes::{
    DataType, Field, FieldRef, Fields, Float64Type, Int32Type, Int64Type, TimestampMicrosecondType,
};
use datafusion::common::{exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::function::{AccumulatorArgs, StateFieldsArgs};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, EmitTo, GroupsAccumulator, Signature,
    TypeSignature, Volatility,
};
use datafusion_macros::user_doc;

use super::periods::{Period, day_of_micros};
use super::rfm_agg::days_list;
use crate::common::args;
use crate::common::day_sets::{DayArena, DaySlot};
use crate::common::exact_sum::ExactSum;
use crate::common::rows::{TimedAmountSink, for_each_timed_amount, prefetch, selected};
use crate::common::single_group::{GroupState, SingleGroup};

const SYNTAX: &str = "btyd_summary(order_ts, amount, as_of [, period [, multiplier]])";

/// Marks a group without purchases in `min_start`.
const NONE: i64 = i64::MAX;

#[user_doc(
    doc_section(label = "Customer segmentation functions"),
    description = "The buy-till-you-die summary of each group's purchases, the input of \
    `bgnbd_fit`, `paretonbd_fit` and `gammagamma_fit`, with the exact semantics of lifetimes' \
    `summary_data_from_transaction_data`. Purchase times are floored to periods (days, \
    Monday-to-Sunday weeks or calendar months); purchases in one period count once, with their \
    amounts summed; periods up to and including the one holding `as_of` are used. Returns a \
    struct: `frequency` (periods with purchases, minus the first), `recency` (from the first \
    to the last period) and `T` (from the first period to the `as_of` period), both in periods \
    divided by `multiplier` (months are the mean Gregorian month, 30.436875 days, as in pandas), \
    and `monetary_value` (the mean amount of the repeat periods, 0 when frequency is 0). NULL \
    when the group has no purchase up to `as_of`. Rows whose `order_ts` or `amount` is NULL are \
    skipped; a NaN amount is an error.",
    syntax_example = "btyd_summary(order_ts, amount, as_of [, period [, multiplier]])",
    sql_example = r#"```sql
> SELECT customer_id, btyd_summary(order_ts, amount, DATE '2023-12-31', 'week') AS s
  FROM transactions GROUP BY customer_id ORDER BY customer_id;
+-------------+---------------------------------------------------------------+
| customer_id | s                                                             |
+-------------+---------------------------------------------------------------+
| 1           | {frequency: 2, recency: 35.0, T: 50.0, monetary_value: 57.75} |
| 2           | {frequency: 0, recency: 0.0, T: 44.0, monetary_value: 0.0}    |
| 3           | {frequency: 2, recency: 42.0, T: 43.0, monetary_value: 77.5}  |
| 4           | {frequency: 0, recency: 0.0, T: 26.0, monetary_value: 0.0}    |
+-------------+---------------------------------------------------------------+
```"#,
    argument(
        name = "order_ts",
        description = "When the purchase was made: a timestamp or date. NULL rows are skipped."
    ),
    argument(
        name = "amount",
        description = "The purchase amount: a number. NULL rows are skipped; NaN is an error."
    ),
    argument(
        name = "as_of",
        description = "The end of the observation period: a constant date or timestamp. The \
        period holding it is included."
    ),
    argument(
        name = "period",
        description = "'day' (default), 'week' or 'month': a constant."
    ),
    argument(
        name = "multiplier",
        description = "Divides recency and T, e.g. 7 to count days in weeks: a positive \
        constant. Default 1. Give `period` too: `btyd_summary(ts, amount, d, 'day', 7)`."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct BtydSummary {
    signature: Signature,
}

impl Default for BtydSummary {
    fn default() -> Self {
        Self::new()
    }
}

impl BtydSummary {
    pub fn new() -> Self {
        Self {
            signature: Signature {
                type_signature: TypeSignature::UserDefined,
                volatility: Volatility::Immutable,
                parameter_names: Some(
                    ["order_ts", "amount", "as_of", "period", "multiplier"]
                        .map(String::from)
                        .to_vec(),
                ),
            },
        }
    }
}

/// The constant `period` (argument `index`, 'day' when not given) and `multiplier` (the next,
/// 1 when not given) of a BTYD summary.
///
/// # Errors
/// A plan error for an unknown or NULL period, or a multiplier that is not a positive number.
pub(super) fn period_args(
    syntax: &str,
    acc_args: &AccumulatorArgs,
    index: usize,
) -> Result<(Period, f64)> {
    let constant = |index: usize, name: &str| args::constant_arg(syntax, acc_args, index, name);
    let period = match constant(index, "period")? {
        None => Period::Day,
        Some(value) => match args::string(syntax, "period", &value)? {
            Some(text) => text
                .parse::<Period>()
                .or_else(|e| plan_err!("{syntax}: {e}"))?,
            None => return plan_err!("{syntax}: period is NULL"),
        },
    };
    let multiplier = match constant(index + 1, "multiplier")? {
        None => 1.0,
        Some(value) => match args::float(syntax, "multiplier", &value)? {
            Some(m) if m.is_finite() && m > 0.0 => m,
            other => {
                return plan_err!(
                    "{syntax}: multiplier must be a positive number, got {}",
                    other.map_or("NULL".to_string(), |m| m.to_string())
                );
            }
        },
    };
    Ok((period, multiplier))
}

/// The state fields of a BTYD summary (also the calibration part of
/// `btyd_calibration_holdout`'s).
pub(super) fn state_fields(args: &StateFieldsArgs) -> Vec<FieldRef> {
    let name = |field: &str| format!("{}[{field}]", args.name);
    vec![
        Arc::new(Field::new(name("first_period"), DataType::Int64, true)),
        Arc::new(Field::new(name("last_period"), DataType::Int64, true)),
        Arc::new(Field::new(name("first_amount"), DataType::Float64, false)),
        Arc::new(Field::new(name("repeat_amount"), DataType::Float64, false)),
        Arc::new(Field::new(
            name("periods"),
            DataType::List(Arc::new(Field::new_list_field(DataType::Int32, false))),
            false,
        )),
        // The rounding errors of the two sums, so that merged sums do not depend on order.
        Arc::new(Field::new(
            name("first_amount_error"),
            DataType::Float64,
            false,
        )),
        Arc::new(Field::new(
            name("repeat_amount_error"),
            DataType::Float64,
            false,
        )),
    ]
}

pub(super) fn result_fields() -> Fields {
    Fields::from(vec![
        Field::new("frequency", DataType::Int64, true),
        Field::new("recency", DataType::Float64, true),
        Field::new("T", DataType::Float64, true),
        Field::new("monetary_value", DataType::Float64, true),
    ])
}

impl AggregateUDFImpl for BtydSummary {
    fn name(&self) -> &str {
        "btyd_summary"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        args::count(SYNTAX, arg_types.len(), 3, 5)?;
        let mut coerced = vec![
            args::timestamp(SYNTAX, "order_ts", &arg_types[0], false)?,
            args::number(SYNTAX, "amount", &arg_types[1])?,
            args::timestamp(SYNTAX, "as_of", &arg_types[2], true)?,
        ];
        if let Some(period) = arg_types.get(3) {
            coerced.push(args::text(SYNTAX, "period", period)?);
        }
        if let Some(multiplier) = arg_types.get(4) {
            coerced.push(args::number(SYNTAX, "multiplier", multiplier)?);
        }
        Ok(coerced)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Struct(result_fields()))
    }

    fn accumulator(&self, acc_args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(SingleGroup::new(BtydGroups::try_new(&acc_args)?)))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        Ok(state_fields(&args))
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(BtydGroups::try_new(&args)?))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

/// One group's state. Periods are identified by the day they start on.
#[derive(Debug, Clone, Copy)]
struct Slot {
    /// The first period (NONE without purchases), and the sum of the amounts in it.
    min_start: i64,
    first_amount: ExactSum,
    /// The sum of the amounts in every later period.
    repeat_amount: ExactSum,
    max_start: i64,
    periods: DaySlot,
}

impl Default for Slot {
    fn default() -> Self {
        Self {
            min_start: NONE,
            first_amount: ExactSum::default(),
            repeat_amount: ExactSum::default(),
            max_start: i64::MIN,
            periods: DaySlot::default(),
        }
    }
}

impl Slot {
    /// Combines this group with a partial summary whose first period is `start` (holding
    /// `first` in amounts), with `repeat` in later periods and its last period at `last`.
    #[inline]
    fn combine(&mut self, start: i64, first: ExactSum, repeat: ExactSum, last: i64) {
        if self.min_start == NONE {
            self.min_start = start;
            self.first_amount = first;
            self.repeat_amount = repeat;
        } else if start < self.min_start {
            // The old first period becomes a repeat period.
            self.repeat_amount.add_sum(self.first_amount);
            self.repeat_amount.add_sum(repeat);
            self.first_amount = first;
            self.min_start = start;
        } else if start == self.min_start {
            self.first_amount.add_sum(first);
            self.repeat_amount.add_sum(repeat);
        } else {
            self.repeat_amount.add_sum(first);
            self.repeat_amount.add_sum(repeat);
        }
        self.max_start = self.max_start.max(last);
    }
}

/// The state of all groups.
#[derive(Debug, Clone)]
pub(super) struct BtydGroups {
    period: Period,
    multiplier: f64,
    /// The start day of the period holding as_of; later periods are ignored.
    end_start: i64,
    amount_name: String,
    slots: Vec<Slot>,
    /// The distinct periods of every group.
    periods: DayArena,
}

impl BtydGroups {
    fn try_new(acc_args: &AccumulatorArgs) -> Result<Self> {
        let constant = |index: usize, name: &str| args::constant_arg(SYNTAX, acc_args, index, name);
        let Some(as_of) = constant(2, "as_of")? else {
            return plan_err!("{SYNTAX}: as_of is missing");
        };
        let Some(as_of) = args::micros(SYNTAX, "as_of", &as_of)? else {
            return plan_err!("{SYNTAX}: as_of is NULL");
        };
        let (period, multiplier) = period_args(SYNTAX, acc_args, 3)?;
        let amount_name = acc_args
            .expr_fields
            .get(1)
            .map_or_else(|| "amount".to_string(), |f| f.name().clone());
        Ok(Self::new(
            period,
            multiplier,
            day_of_micros(as_of),
            amount_name,
        ))
    }

    pub(super) fn new(
        period: Period,
        multiplier: f64,
        as_of_day: i64,
        amount_name: String,
    ) -> Self {
        Self {
            period,
            multiplier,
            end_start: period.start_day(as_of_day),
            amount_name,
            slots: vec![],
            periods: DayArena::default(),
        }
    }

    fn nan_error(&self) -> Result<()> {
        exec_err!(
            "{SYNTAX}: amount ({}) is NaN; every amount must be a number",
            self.amount_name
        )
    }

    /// Takes the groups `emit_to` names, with the arena holding their periods.
    fn take(&mut self, emit_to: EmitTo) -> (Vec<Slot>, DayArena) {
        match emit_to {
            EmitTo::All => (
                std::mem::take(&mut self.slots),
                std::mem::take(&mut self.periods),
            ),
            EmitTo::First(n) => (
                emit_to.take_needed(&mut self.slots),
                self.periods.split_first(n),
            ),
        }
    }
}

impl TimedAmountSink for BtydGroups {
    #[inline]
    fn prefetch(&self, group: usize) {
        prefetch(&self.slots, group);
    }

    /// Adds one purchase; `false` when the amount is NaN.
    #[inline]
    fn add(&mut self, group: usize, ts: i64, amount: f64) -> bool {
        if amount.is_nan() {
            return false;
        }
        let start = self.period.start_day(day_of_micros(ts));
        if start > self.end_start {
            return true;
        }
        let slot = &mut self.slots[group];
        slot.combine(
            start,
            ExactSum::new(amount, 0.0),
            ExactSum::default(),
            start,
        );
        self.periods.insert(&mut slot.periods, group, start as i32);
        true
    }
}

impl GroupState for BtydGroups {
    fn resize(&mut self, total_num_groups: usize) {
        if self.slots.len() < total_num_groups {
            self.slots.resize(total_num_groups, Slot::default());
        }
    }
}

impl GroupsAccumulator for BtydGroups {
    fn update_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        opt_filter: Option<&BooleanArray>,
        total_num_groups: usize,
    ) -> Result<()> {
        self.resize(total_num_groups);
        let ok = for_each_timed_amount(values, group_indices, opt_filter, self);
        if ok { Ok(()) } else { self.nan_error() }
    }

    fn evaluate(&mut self, emit_to: EmitTo) -> Result<ArrayRef> {
        let (slots, periods) = self.take(emit_to);
        let n = slots.len();
        let day_slots: Vec<DaySlot> = slots.iter().map(|s| s.periods).collect();
        let distinct = periods.distinct_counts(&day_slots);
        let mut frequency = Vec::with_capacity(n);
        let mut recency = Vec::with_capacity(n);
        let mut t = Vec::with_capacity(n);
        let mut monetary = Vec::with_capacity(n);
        for (slot, distinct) in slots.iter().zip(distinct) {
            let repeats = distinct.saturating_sub(1) as i64;
            frequency.push(repeats);
            if slot.min_start == NONE {
                recency.push(0.0);
                t.push(0.0);
                monetary.push(0.0);
                continue;
            }
            recency.push(
                self.period
                    .between(slot.min_start, slot.max_start, self.multiplier),
            );
            t.push(
                self.period
                    .between(slot.min_start, self.end_start, self.multiplier),
            );
            monetary.push(if repeats > 0 {
                slot.repeat_amount.value() / repeats as f64
            } else {
                0.0
            });
        }
        // The fields are NULL too, so `s['frequency']` of a customer without purchases is NULL.
        let valid = NullBuffer::from_iter(slots.iter().map(|s| s.min_start != NONE));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::new(frequency.into(), Some(valid.clone()))),
            Arc::new(Float64Array::new(recency.into(), Some(valid.clone()))),
            Arc::new(Float64Array::new(t.into(), Some(valid.clone()))),
            Arc::new(Float64Array::new(monetary.into(), Some(valid.clone()))),
        ];
        Ok(Arc::new(StructArray::try_new(
            result_fields(),
            columns,
            Some(valid),
        )?))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let (slots, periods) = self.take(emit_to);
        let present = |value: fn(&Slot) -> i64| -> Int64Array {
            slots
                .iter()
                .map(|s| (s.min_start != NONE).then(|| value(s)))
                .collect()
        };
        Ok(vec![
            Arc::new(present(|s| s.min_start)),
            Arc::new(present(|s| s.max_start)),
            Arc::new(Float64Array::from_iter_values(
                slots.iter().map(|s| s.first_amount.hi),
            )),
            Arc::new(Float64Array::from_iter_values(
                slots.iter().map(|s| s.repeat_amount.hi),
            )),
            Arc::new(days_list(
                periods,
                &slots.iter().map(|s| s.periods).collect::<Vec<_>>(),
            )),
            Arc::new(Float64Array::from_iter_values(
                slots.iter().map(|s| s.first_amount.lo),
            )),
            Arc::new(Float64Array::from_iter_values(
                slots.iter().map(|s| s.repeat_amount.lo),
            )),
        ])
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.resize(total_num_groups);
        let min = values[0].as_primitive::<Int64Type>();
        let max = values[1].as_primitive::<Int64Type>();
        let first = values[2].as_primitive::<Float64Type>();
        let repeat = values[3].as_primitive::<Float64Type>();
        let periods = values[4].as_list::<i32>();
        let first_error = values[5].as_primitive::<Float64Type>();
        let repeat_error = values[6].as_primitive::<Float64Type>();
        let offsets = periods.value_offsets();
        let period_values = periods.values().as_primitive::<Int32Type>().values();
        for (i, &group) in group_indices.iter().enumerate() {
            if min.is_null(i) {
                continue;
            }
            let slot = &mut self.slots[group];
            slot.combine(
                min.value(i),
                ExactSum::new(first.value(i), first_error.value(i)),
                ExactSum::new(repeat.value(i), repeat_error.value(i)),
                max.value(i),
            );
            let periods = &period_values[offsets[i] as usize..offsets[i + 1] as usize];
            self.periods
                .insert_sorted(&mut slot.periods, group, periods);
        }
        Ok(())
    }

    fn convert_to_state(
        &self,
        values: &[ArrayRef],
        opt_filter: Option<&BooleanArray>,
    ) -> Result<Vec<ArrayRef>> {
        let ts = values[0].as_primitive::<TimestampMicrosecondType>();
        let amount = values[1].as_primitive::<Float64Type>();
        let n = ts.len();
        let mut starts: Vec<Option<i64>> = Vec::with_capacity(n);
        let mut amounts = Vec::with_capacity(n);
        let mut lengths = Vec::with_capacity(n);
        let mut period_values = Vec::with_capacity(n);
        for i in 0..n {
            let mut start = None;
            let mut a = 0.0;
            if selected(opt_filter, i) && ts.is_valid(i) && amount.is_valid(i) {
                a = amount.value(i);
                if a.is_nan() {
                    self.nan_error()?;
                }
                let s = self.period.start_day(day_of_micros(ts.value(i)));
                if s <= self.end_start {
                    start = Some(s);
                } else {
                    a = 0.0;
                }
            }
            starts.push(start);
            amounts.push(a);
            lengths.push(usize::from(start.is_some()));
            if let Some(s) = start {
                period_values.push(s as i32);
            }
        }
        let starts = Int64Array::from(starts);
        Ok(vec![
            Arc::new(starts.clone()),
            Arc::new(starts),
            Arc::new(Float64Array::from(amounts)),
            Arc::new(Float64Array::from(vec![0.0; n])),
            Arc::new(periods_list(lengths, period_values)),
            Arc::new(Float64Array::from(vec![0.0; n])),
            Arc::new(Float64Array::from(vec![0.0; n])),
        ])
    }

    fn size(&self) -> usize {
        self.slots.capacity() * size_of::<Slot>() + self.periods.size()
    }
}

pub(super) fn periods_list(lengths: Vec<usize>, values: Vec<i32>) -> ListArray {
    ListArray::new(
        Arc::new(Field::new_list_field(DataType::Int32, false)),
        OffsetBuffer::from_lengths(lengths),
        Arc::new(Int32Array::from(values)),
        None,
    )
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::TimestampMicrosecondArray;

    use super::*;
    use crate::rfm::periods::{MICROS_PER_DAY, days_from_civil};

    fn groups(period: Period, end: (i64, u32, u32), multiplier: f64) -> BtydGroups {
        let end_day = days_from_civil(end.0, end.1, end.2);
        BtydGroups::new(period, multiplier, end_day, "amount".into())
    }

    fn ts(y: i64, m: u32, d: u32) -> Option<i64> {
        Some(days_from_civil(y, m, d) * MICROS_PER_DAY + 3_600_000_000)
    }

    /// lifetimes' example: customer 1 buys 10 on 2024-01-15, 20 on 2024-03-02 and 5 on
    /// 2024-03-20; customer 2 buys 7 on 2024-02-29; the end is 2024-06-10.
    fn run(mut acc: BtydGroups) -> Vec<(i64, f64, f64, f64)> {
        let ts: TimestampMicrosecondArray = vec![
            ts(2024, 1, 15),
            ts(2024, 3, 2),
            ts(2024, 3, 20),
            ts(2024, 2, 29),
        ]
        .into_iter()
        .collect();
        let amount = Float64Array::from(vec![10.0, 20.0, 5.0, 7.0]);
        acc.update_batch(&[Arc::new(ts), Arc::new(amount)], &[0, 0, 0, 1], None, 2)
            .unwrap();
        let result = acc.evaluate(EmitTo::All).unwrap();
        let s = result.as_struct();
        (0..2)
            .map(|i| {
                (
                    s.column(0).as_primitive::<Int64Type>().value(i),
                    s.column(1).as_primitive::<Float64Type>().value(i),
                    s.column(2).as_primitive::<Float64Type>().value(i),
                    s.column(3).as_primitive::<Float64Type>().value(i),
                )
            })
            .collect()
    }

    #[test]
    fn matches_lifetimes_by_week() {
        // lifetimes 0.11.3, freq='W': (2, 9, 21, 12.5) and (0, 0, 15, 0).
        let rows = run(groups(Period::Week, (2024, 6, 10), 1.0));
        assert_eq!(rows, vec![(2, 9.0, 21.0, 12.5), (0, 0.0, 15.0, 0.0)]);
    }

    #[test]
    fn matches_lifetimes_by_month() {
        // freq='M': (1, 1.971293, 4.993942, 25.0) and (0, 0, 3.975441, 0).
        let rows = run(groups(Period::Month, (2024, 6, 10), 1.0));
        assert_eq!(rows[0].0, 1);
        assert!((rows[0].1 - 1.971_293_045_031_725_4).abs() < 1e-15);
        assert!((rows[0].2 - 4.993_942).abs() < 1e-6);
        assert_eq!(rows[0].3, 25.0);
        assert!((rows[1].2 - 3.975_441).abs() < 1e-6);
    }

    #[test]
    fn matches_lifetimes_by_day_with_multiplier() {
        // freq='D', freq_multiplier=7: (2, 9.285714, 21.0, 12.5) and (0, 0, 14.571429, 0).
        let rows = run(groups(Period::Day, (2024, 6, 10), 7.0));
        assert_eq!(rows[0], (2, 65.0 / 7.0, 147.0 / 7.0, 12.5));
        assert_eq!(rows[1], (0, 0.0, 102.0 / 7.0, 0.0));
    }

    #[test]
    fn same_period_purchases_merge_and_states_combine() {
        let rows: Vec<(Option<i64>, f64)> = vec![
            (ts(2024, 3, 4), 3.0),   // Monday
            (ts(2024, 3, 10), 4.0),  // Sunday of the same week
            (ts(2024, 2, 26), 10.0), // the week before: the first period
            (ts(2024, 3, 20), 6.0),
            (ts(2024, 6, 11), 99.0), // after the end week: ignored
        ];
        let input = |range: std::ops::Range<usize>| -> Vec<ArrayRef> {
            let ts: TimestampMicrosecondArray = rows[range.clone()].iter().map(|r| r.0).collect();
            let amount: Float64Array = rows[range].iter().map(|r| Some(r.1)).collect();
            vec![Arc::new(ts), Arc::new(amount)]
        };
        let new = || groups(Period::Week, (2024, 6, 9), 1.0);
        let mut direct = new();
        direct.update_batch(&input(0..5), &[0; 5], None, 1).unwrap();
        let expected = direct.evaluate(EmitTo::All).unwrap();
        let s = expected.as_struct();
        assert_eq!(s.column(0).as_primitive::<Int64Type>().value(0), 2);
        assert_eq!(s.column(3).as_primitive::<Float64Type>().value(0), 6.5);

        let mut partial = new();
        partial
            .update_batch(&input(0..2), &[0; 2], None, 1)
            .unwrap();
        let mut merged = new();
        merged
            .merge_batch(&partial.state(EmitTo::All).unwrap(), &[0], 1)
            .unwrap();
        let converted = new().convert_to_state(&input(2..5), None).unwrap();
        merged.merge_batch(&converted, &[0; 3], 1).unwrap();
        assert_eq!(&merged.evaluate(EmitTo::All).unwrap(), &expected);
    }

    #[test]
    fn a_group_without_purchases_is_null() {
        let mut acc = groups(Period::Day, (2020, 1, 1), 1.0);
        let ts: TimestampMicrosecondArray = vec![ts(2024, 1, 1)].into_iter().collect();
        let amount = Float64Array::from(vec![1.0]);
        acc.update_batch(&[Arc::new(ts), Arc::new(amount)], &[0], None, 1)
            .unwrap();
        assert!(acc.evaluate(EmitTo::All).unwrap().is_null(0));
    }
}
