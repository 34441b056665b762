//! `btyd_calibration_holdout(order_ts, amount, calibration_end, observation_end [, period [,
//! multiplier]])`: the calibration/holdout split the BTYD models are backtested with, exactly
//! as lifetimes' `calibration_and_holdout_data` computes it.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int64Array, StructArray,
};
use datafusion::arrow::buffer::NullBuffer;
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

use super::btyd_summary::{
    BtydGroups, period_args, periods_list, state_fields as btyd_state_fields,
};
use super::periods::{Period, civil_from_days, day_of_micros};
use super::rfm_agg::days_list;
use crate::common::args;
use crate::common::day_sets::{DayArena, DaySlot};
use crate::common::exact_sum::ExactSum;
use crate::common::rows::{TimedAmountSink, for_each_timed_amount, prefetch, selected};
use crate::common::single_group::{GroupState, SingleGroup};

const SYNTAX: &str = "btyd_calibration_holdout(order_ts, amount, calibration_end, \
                      observation_end [, period [, multiplier]])";

/// The state columns of the calibration part (btyd_summary's).
const CALIBRATION_STATE: usize = 7;

#[user_doc(
    doc_section(label = "Customer segmentation functions"),
    description = "The calibration/holdout split a BTYD model is backtested with, with the exact \
    semantics of lifetimes' `calibration_and_holdout_data`: purchases up to `calibration_end` \
    (a timestamp; a date means its midnight) make the calibration summary, as \
    `btyd_summary(order_ts, amount, calibration_end, period, multiplier)`; purchases after it \
    and up to `observation_end` are the holdout. Returns a struct: `frequency_cal`, \
    `recency_cal`, `T_cal`, `monetary_value_cal` (the calibration summary), \
    `frequency_holdout` (the holdout periods with a purchase), `monetary_value_holdout` (the \
    mean amount of the holdout purchases, 0 without any) and `duration_holdout` (the periods \
    from the calibration end's to the observation end's, divided by `multiplier`). NULL (the \
    struct and every field) for a customer without a purchase up to `calibration_end`, whom \
    lifetimes leaves out. Rows with a NULL `order_ts` or `amount` are skipped; a NaN amount is \
    an error. Fit a model on the `_cal` fields and compare its predictions over \
    `duration_holdout` with `frequency_holdout` (the `clv/backtest` saved query does).",
    syntax_example = "btyd_calibration_holdout(order_ts, amount, calibration_end, observation_end [, period [, multiplier]])",
    sql_example = r#"```sql
> SELECT customer_id, s['frequency_cal'] AS f_cal, s['T_cal'] AS t_cal,
         s['frequency_holdout'] AS f_holdout, s['monetary_value_holdout'] AS m_holdout
  FROM (SELECT customer_id, btyd_calibration_holdout(order_ts, amount, DATE '2023-07-01',
          DATE '2023-12-31', 'week') AS s FROM transactions GROUP BY customer_id)
  ORDER BY customer_id;
+-------------+-------+-------+-----------+-----------+
| customer_id | f_cal | t_cal | f_holdout | m_holdout |
+-------------+-------+-------+-----------+-----------+
| 1           | 1     | 24.0  | 1         | 80.0      |
| 2           | 0     | 18.0  | 0         | 0.0       |
| 3           | 1     | 17.0  | 1         | 95.0      |
| 4           | NULL  | NULL  | NULL      | NULL      |
+-------------+-------+-------+-----------+-----------+
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
        name = "calibration_end",
        description = "The end of the calibration period: a constant date or timestamp; \
        purchases at or before it are calibration, later ones holdout."
    ),
    argument(
        name = "observation_end",
        description = "The end of the holdout period: a constant date or timestamp after \
        calibration_end; later purchases are not used."
    ),
    argument(
        name = "period",
        description = "'day' (default), 'week' or 'month': a constant."
    ),
    argument(
        name = "multiplier",
        description = "Divides recency, T and duration_holdout: a positive constant, 1 by \
        default."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct BtydCalibrationHoldout {
    signature: Signature,
}

impl Default for BtydCalibrationHoldout {
    fn default() -> Self {
        Self::new()
    }
}

impl BtydCalibrationHoldout {
    pub fn new() -> Self {
        Self {
            signature: Signature {
                type_signature: TypeSignature::UserDefined,
                volatility: Volatility::Immutable,
                parameter_names: Some(
                    [
                        "order_ts",
                        "amount",
                        "calibration_end",
                        "observation_end",
                        "period",
                        "multiplier",
                    ]
                    .map(String::from)
                    .to_vec(),
                ),
            },
        }
    }
}

fn result_fields() -> Fields {
    Fields::from(vec![
        Field::new("frequency_cal", DataType::Int64, true),
        Field::new("recency_cal", DataType::Float64, true),
        Field::new("T_cal", DataType::Float64, true),
        Field::new("monetary_value_cal", DataType::Float64, true),
        Field::new("frequency_holdout", DataType::Int64, true),
        Field::new("monetary_value_holdout", DataType::Float64, true),
        Field::new("duration_holdout", DataType::Float64, true),
    ])
}

impl AggregateUDFImpl for BtydCalibrationHoldout {
    fn name(&self) -> &str {
        "btyd_calibration_holdout"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        args::count(SYNTAX, arg_types.len(), 4, 6)?;
        let mut coerced = vec![
            args::timestamp(SYNTAX, "order_ts", &arg_types[0], false)?,
            args::number(SYNTAX, "amount", &arg_types[1])?,
            args::timestamp(SYNTAX, "calibration_end", &arg_types[2], true)?,
            args::timestamp(SYNTAX, "observation_end", &arg_types[3], true)?,
        ];
        if let Some(period) = arg_types.get(4) {
            coerced.push(args::text(SYNTAX, "period", period)?);
        }
        if let Some(multiplier) = arg_types.get(5) {
            coerced.push(args::number(SYNTAX, "multiplier", multiplier)?);
        }
        Ok(coerced)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Struct(result_fields()))
    }

    fn accumulator(&self, acc_args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(SingleGroup::new(SplitGroups::try_new(&acc_args)?)))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let name = |field: &str| format!("{}[{field}]", args.name);
        let float = |field: &str| Arc::new(Field::new(name(field), DataType::Float64, false));
        let list = |field: &str| {
            Arc::new(Field::new(
                name(field),
                DataType::List(Arc::new(Field::new_list_field(DataType::Int32, false))),
                false,
            ))
        };
        // The calibration summary's state, as btyd_summary's, then the holdout's.
        let mut fields = btyd_state_fields(&args);
        fields.extend([
            list("holdout_periods"),
            float("holdout_amount"),
            float("holdout_amount_error"),
            Arc::new(Field::new(name("holdout_count"), DataType::Int64, false)),
        ]);
        Ok(fields)
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(SplitGroups::try_new(&args)?))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

/// One group's holdout: its distinct periods, and the sum and count of its amounts.
#[derive(Debug, Clone, Copy, Default)]
struct Holdout {
    periods: DaySlot,
    amount: ExactSum,
    count: u64,
}

/// The state of all groups: the calibration summary (btyd_summary's state, fed the
/// calibration purchases only) and the holdout.
#[derive(Debug, Clone)]
struct SplitGroups {
    calibration: BtydGroups,
    calibration_end: i64,
    observation_end: i64,
    period: Period,
    duration: f64,
    amount_name: String,
    holdout: Vec<Holdout>,
    holdout_periods: DayArena,
}

impl SplitGroups {
    fn try_new(acc_args: &AccumulatorArgs) -> Result<Self> {
        let constant = |index: usize, name: &str| args::constant_arg(SYNTAX, acc_args, index, name);
        let mut ends = [0; 2];
        for (end, (index, name)) in ends
            .iter_mut()
            .zip([(2, "calibration_end"), (3, "observation_end")])
        {
            let Some(value) = constant(index, name)? else {
                return plan_err!("{SYNTAX}: {name} is missing");
            };
            let Some(micros) = args::micros(SYNTAX, name, &value)? else {
                return plan_err!("{SYNTAX}: {name} is NULL");
            };
            *end = micros;
        }
        let [calibration_end, observation_end] = ends;
        if observation_end <= calibration_end {
            return plan_err!("{SYNTAX}: observation_end must be after calibration_end");
        }
        let (period, multiplier) = period_args(SYNTAX, acc_args, 4)?;
        let amount_name = acc_args
            .expr_fields
            .get(1)
            .map_or_else(|| "amount".to_string(), |f| f.name().clone());
        let calibration_day = day_of_micros(calibration_end);
        Ok(Self {
            calibration: BtydGroups::new(period, multiplier, calibration_day, amount_name.clone()),
            calibration_end,
            observation_end,
            period,
            duration: periods_between(period, calibration_day, day_of_micros(observation_end))
                / multiplier,
            amount_name,
            holdout: vec![],
            holdout_periods: DayArena::default(),
        })
    }

    fn nan_error<T>(&self) -> Result<T> {
        exec_err!(
            "{SYNTAX}: amount ({}) is NaN; every amount must be a number",
            self.amount_name
        )
    }

    /// Takes the holdouts of the groups `emit_to` names, with the arena of their periods.
    fn take_holdout(&mut self, emit_to: EmitTo) -> (Vec<Holdout>, DayArena) {
        match emit_to {
            EmitTo::All => (
                std::mem::take(&mut self.holdout),
                std::mem::take(&mut self.holdout_periods),
            ),
            EmitTo::First(n) => (
                emit_to.take_needed(&mut self.holdout),
                self.holdout_periods.split_first(n),
            ),
        }
    }
}

/// Whole periods from the one holding `from_day` to the one holding `to_day`, as pandas'
/// `Period` difference `.n` (calendar months for months).
fn periods_between(period: Period, from_day: i64, to_day: i64) -> f64 {
    let (from, to) = (period.start_day(from_day), period.start_day(to_day));
    match period {
        Period::Day => (to - from) as f64,
        Period::Week => ((to - from) / 7) as f64,
        Period::Month => {
            let months = |day: i64| {
                let (year, month, _) = civil_from_days(day);
                year * 12 + i64::from(month)
            };
            (months(to) - months(from)) as f64
        }
    }
}

impl TimedAmountSink for SplitGroups {
    #[inline]
    fn prefetch(&self, group: usize) {
        self.calibration.prefetch(group);
        prefetch(&self.holdout, group);
    }

    #[inline]
    fn add(&mut self, group: usize, ts: i64, amount: f64) -> bool {
        if amount.is_nan() {
            return false;
        }
        if ts <= self.calibration_end {
            return self.calibration.add(group, ts, amount);
        }
        if ts <= self.observation_end {
            let start = self.period.start_day(day_of_micros(ts));
            let holdout = &mut self.holdout[group];
            holdout.amount.add_sum(ExactSum::new(amount, 0.0));
            holdout.count += 1;
            self.holdout_periods
                .insert(&mut holdout.periods, group, start as i32);
        }
        true
    }
}

impl GroupState for SplitGroups {
    fn resize(&mut self, total_num_groups: usize) {
        self.calibration.resize(total_num_groups);
        if self.holdout.len() < total_num_groups {
            self.holdout.resize(total_num_groups, Holdout::default());
        }
    }
}

impl GroupsAccumulator for SplitGroups {
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
        let calibration = self.calibration.evaluate(emit_to)?;
        let calibration = calibration.as_struct();
        let (holdout, periods) = self.take_holdout(emit_to);
        let slots: Vec<DaySlot> = holdout.iter().map(|h| h.periods).collect();
        let distinct = periods.distinct_counts(&slots);
        // Customers first seen after the calibration end are NULL, as lifetimes leaves them out.
        let valid = calibration
            .nulls()
            .cloned()
            .unwrap_or_else(|| NullBuffer::new_valid(holdout.len()));
        let frequency: Vec<i64> = distinct.iter().map(|&d| d as i64).collect();
        let monetary: Vec<f64> = holdout
            .iter()
            .map(|h| {
                if h.count > 0 {
                    h.amount.value() / h.count as f64
                } else {
                    0.0
                }
            })
            .collect();
        let mut columns: Vec<ArrayRef> = calibration.columns().to_vec();
        columns.push(Arc::new(Int64Array::new(
            frequency.into(),
            Some(valid.clone()),
        )));
        columns.push(Arc::new(Float64Array::new(
            monetary.into(),
            Some(valid.clone()),
        )));
        columns.push(Arc::new(Float64Array::new(
            vec![self.duration; holdout.len()].into(),
            Some(valid.clone()),
        )));
        Ok(Arc::new(StructArray::try_new(
            result_fields(),
            columns,
            Some(valid),
        )?))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let mut state = self.calibration.state(emit_to)?;
        let (holdout, periods) = self.take_holdout(emit_to);
        let slots: Vec<DaySlot> = holdout.iter().map(|h| h.periods).collect();
        state.push(Arc::new(days_list(periods, &slots)));
        state.push(Arc::new(Float64Array::from_iter_values(
            holdout.iter().map(|h| h.amount.hi),
        )));
        state.push(Arc::new(Float64Array::from_iter_values(
            holdout.iter().map(|h| h.amount.lo),
        )));
        state.push(Arc::new(Int64Array::from_iter_values(
            holdout.iter().map(|h| h.count as i64),
        )));
        Ok(state)
    }

    fn merge_batch(
        &mut self,
        values: &[ArrayRef],
        group_indices: &[usize],
        total_num_groups: usize,
    ) -> Result<()> {
        self.resize(total_num_groups);
        self.calibration.merge_batch(
            &values[..CALIBRATION_STATE],
            group_indices,
            total_num_groups,
        )?;
        let holdout = &values[CALIBRATION_STATE..];
        let periods = holdout[0].as_list::<i32>();
        let amount = holdout[1].as_primitive::<Float64Type>();
        let error = holdout[2].as_primitive::<Float64Type>();
        let count = holdout[3].as_primitive::<Int64Type>();
        let offsets = periods.value_offsets();
        let period_values = periods.values().as_primitive::<Int32Type>().values();
        for (i, &group) in group_indices.iter().enumerate() {
            let slot = &mut self.holdout[group];
            slot.amount
                .add_sum(ExactSum::new(amount.value(i), error.value(i)));
            slot.count += count.value(i).max(0) as u64;
            let periods = &period_values[offsets[i] as usize..offsets[i + 1] as usize];
            self.holdout_periods
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
        let mut in_calibration = Vec::with_capacity(n);
        let mut lengths = Vec::with_capacity(n);
        let mut period_values = Vec::new();
        let mut amounts = Vec::with_capacity(n);
        let mut counts = Vec::with_capacity(n);
        for i in 0..n {
            let used = selected(opt_filter, i) && ts.is_valid(i) && amount.is_valid(i);
            if used && amount.value(i).is_nan() {
                return self.nan_error();
            }
            let at = ts.value(i);
            in_calibration.push(used && at <= self.calibration_end);
            let held = used && at > self.calibration_end && at <= self.observation_end;
            lengths.push(usize::from(held));
            amounts.push(if held { amount.value(i) } else { 0.0 });
            counts.push(i64::from(held));
            if held {
                period_values.push(self.period.start_day(day_of_micros(at)) as i32);
            }
        }
        let filter = BooleanArray::from(in_calibration);
        let mut state = self.calibration.convert_to_state(values, Some(&filter))?;
        state.push(Arc::new(periods_list(lengths, period_values)));
        state.push(Arc::new(Float64Array::from(amounts)));
        state.push(Arc::new(Float64Array::from(vec![0.0; n])));
        state.push(Arc::new(Int64Array::from(counts)));
        Ok(state)
    }

    fn size(&self) -> usize {
        self.calibration.size()
            + self.holdout.capacity() * size_of::<Holdout>()
            + self.holdout_periods.size()
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::TimestampMicrosecondArray;

    use super::*;
    use crate::rfm::periods::days_from_civil;

    const DAY: i64 = 86_400_000_000;

    fn at(y: i64, m: u32, d: u32, hour: i64) -> i64 {
        days_from_civil(y, m, d) * DAY + hour * 3_600_000_000
    }

    fn groups(period: Period) -> SplitGroups {
        let (cal, obs) = (at(2024, 3, 31, 0), at(2024, 6, 30, 0));
        SplitGroups {
            calibration: BtydGroups::new(period, 1.0, day_of_micros(cal), "amount".into()),
            calibration_end: cal,
            observation_end: obs,
            period,
            duration: periods_between(period, day_of_micros(cal), day_of_micros(obs)),
            amount_name: "amount".into(),
            holdout: vec![],
            holdout_periods: DayArena::default(),
        }
    }

    fn rows() -> (Vec<ArrayRef>, Vec<usize>) {
        // Group 0: two calibration days, then two holdout purchases on one day and one later.
        // Group 1: first seen in the holdout. A purchase on the calibration end's day after
        // midnight is holdout, as lifetimes compares timestamps.
        let rows = [
            (0, at(2024, 1, 2, 10), 10.0),
            (0, at(2024, 3, 1, 10), 20.0),
            (0, at(2024, 4, 2, 9), 5.0),
            (0, at(2024, 4, 2, 18), 7.0),
            (0, at(2024, 3, 31, 12), 30.0),
            (0, at(2024, 7, 1, 0), 99.0),
            (1, at(2024, 5, 5, 5), 8.0),
        ];
        let ts: TimestampMicrosecondArray = rows.iter().map(|r| Some(r.1)).collect();
        let amount: Float64Array = rows.iter().map(|r| Some(r.2)).collect();
        (
            vec![Arc::new(ts), Arc::new(amount)],
            rows.iter().map(|r| r.0).collect(),
        )
    }

    fn fields(result: &ArrayRef, row: usize) -> Option<(i64, f64, f64, f64, i64, f64, f64)> {
        let s = result.as_struct();
        if s.is_null(row) {
            return None;
        }
        let f = |i: usize| s.column(i).as_primitive::<Float64Type>().value(row);
        let n = |i: usize| s.column(i).as_primitive::<Int64Type>().value(row);
        Some((n(0), f(1), f(2), f(3), n(4), f(5), f(6)))
    }

    #[test]
    fn days_split_at_the_calibration_timestamp() {
        let (values, groups_of) = rows();
        let mut acc = groups(Period::Day);
        acc.update_batch(&values, &groups_of, None, 2).unwrap();
        let result = acc.evaluate(EmitTo::All).unwrap();
        // Calibration: Jan 2 and Mar 1 (frequency 1, recency 59 days, T 89 days, monetary 20);
        // holdout: Mar 31 noon, Apr 2 (twice): 2 days, mean amount (30 + 5 + 7) / 3 = 14;
        // 91 days from Mar 31 to Jun 30. The July purchase is after the observation end.
        assert_eq!(
            fields(&result, 0),
            Some((1, 59.0, 89.0, 20.0, 2, 14.0, 91.0))
        );
        assert_eq!(fields(&result, 1), None);
    }

    #[test]
    fn partial_states_and_converted_rows_give_the_same_split() {
        let (values, groups_of) = rows();
        let mut direct = groups(Period::Week);
        direct.update_batch(&values, &groups_of, None, 2).unwrap();
        let expected = direct.evaluate(EmitTo::All).unwrap();
        // Each row converted to a state on its own, then merged.
        let probe = groups(Period::Week);
        let state = probe.convert_to_state(&values, None).unwrap();
        let mut merged = groups(Period::Week);
        merged.merge_batch(&state, &groups_of, 2).unwrap();
        assert_eq!(
            merged.evaluate(EmitTo::All).unwrap().as_ref(),
            expected.as_ref()
        );
        // Half the rows in one accumulator, half in another, states merged.
        let mut a = groups(Period::Week);
        let mut b = groups(Period::Week);
        let split = |v: &ArrayRef, r: std::ops::Range<usize>| v.slice(r.start, r.len());
        let first: Vec<ArrayRef> = values.iter().map(|v| split(v, 0..3)).collect();
        let second: Vec<ArrayRef> = values.iter().map(|v| split(v, 3..7)).collect();
        a.update_batch(&first, &groups_of[..3], None, 2).unwrap();
        b.update_batch(&second, &groups_of[3..], None, 2).unwrap();
        let mut total = groups(Period::Week);
        total
            .merge_batch(&a.state(EmitTo::All).unwrap(), &[0, 1], 2)
            .unwrap();
        total
            .merge_batch(&b.state(EmitTo::All).unwrap(), &[0, 1], 2)
            .unwrap();
        assert_eq!(
            total.evaluate(EmitTo::All).unwrap().as_ref(),
            expected.as_ref()
        );
        // Weeks: Jan 1 and Feb 26 weeks (8 weeks apart); holdout weeks of Mar 25 and Apr 1.
        assert_eq!(
            fields(&expected, 0),
            Some((1, 8.0, 12.0, 20.0, 2, 14.0, 13.0))
        );
    }

    #[test]
    fn months_count_calendar_months() {
        let day = |y, m, d| days_from_civil(y, m, d);
        assert_eq!(
            periods_between(Period::Month, day(2024, 1, 31), day(2024, 2, 1)),
            1.0
        );
        assert_eq!(
            periods_between(Period::Month, day(2023, 11, 15), day(2024, 6, 30)),
            7.0
        );
        assert_eq!(
            periods_between(Period::Week, day(2024, 3, 31), day(2024, 6, 30)),
            13.0
        );
    }
}
