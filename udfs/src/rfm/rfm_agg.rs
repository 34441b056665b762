//! `rfm(order_ts, amount [, as_of])`: recency, frequency and monetary value per customer.

use std::sync::Arc;

use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Float64Array, Int32Array, Int64Array, ListArray,
    StructArray, TimestampMicrosecondArray,
};
use datafusion::arrow::buffer::OffsetBuffer;
use datafusion::arrow::datatypes::{
    DataType, Field, FieldRef, Fields, Float64Type, Int32Type, Int64Type, TimestampMicrosecondType,
};
use datafusion::common::exec_err;
use datafusion::error::Result;
use datafusion::functions::datetime::expr_fn::current_date;
use datafusion::logical_expr::expr::AggregateFunction;
use datafusion::logical_expr::function::{
    AccumulatorArgs, AggregateFunctionSimplification, StateFieldsArgs,
};
use datafusion::logical_expr::{
    Accumulator, AggregateUDFImpl, Documentation, EmitTo, Expr, GroupsAccumulator, Signature,
    TypeSignature, Volatility,
};
use datafusion_macros::user_doc;

use super::periods::{MICROS_PER_DAY, day_of_micros};
use crate::common::args;
use crate::common::day_sets::{DayArena, DaySlot};
use crate::common::exact_sum::ExactSum;
use crate::common::rows::{TimedAmountSink, for_each_timed_amount, prefetch, selected};
use crate::common::single_group::{GroupState, SingleGroup};

const SYNTAX: &str = "rfm(order_ts, amount [, as_of])";

#[user_doc(
    doc_section(label = "Customer segmentation functions"),
    description = "Recency, frequency and monetary value of each group's purchases, usually one \
    row per customer with `GROUP BY customer_id`. Returns a struct: `recency_days` (whole days \
    from the last purchase date to `as_of`), `frequency` (purchases), `purchase_days` (distinct \
    purchase dates), `monetary` (sum of all amounts, refunds included, exact up to one final \
    rounding, so it does not depend on how the rows are ordered or partitioned), `avg_order_value` \
    (monetary / frequency), `first_purchase`, `last_purchase` and `tenure_days` (days from the \
    first purchase date to `as_of`). A purchase is a row with an amount of 0 or more; a \
    negative amount is a refund, which lowers `monetary` but is not a purchase. Rows at or \
    after `as_of` are ignored, and so are rows whose `order_ts` or `amount` is NULL; a group \
    with no purchase left has frequency 0 and NULL dates, recency and average. A NaN amount is \
    an error. Dates of time-zone-aware timestamps are their UTC dates (the timestamps are cast \
    to timestamps without a time zone, which keeps the instant). Distinct purchase days cost about a third of the time; \
    they are only counted when the query reads `purchase_days` (or the whole struct).",
    syntax_example = "rfm(order_ts, amount [, as_of])",
    sql_example = r#"```sql
> SELECT customer_id, r['recency_days'] AS recency, r['frequency'] AS frequency,
         r['monetary'] AS monetary
  FROM (SELECT customer_id, rfm(order_ts, amount, DATE '2023-07-01') AS r
        FROM transactions GROUP BY customer_id)
  ORDER BY customer_id;
+-------------+---------+-----------+----------+
| customer_id | recency | frequency | monetary |
+-------------+---------+-----------+----------+
| 1           | 121     | 2         | 155.5    |
| 2           | 131     | 1         | 0.0      |
| 3           | 82      | 2         | 310.0    |
| 4           | NULL    | 0         | 0.0      |
+-------------+---------+-----------+----------+
```
Read fields with `r['recency_days']`."#,
    argument(
        name = "order_ts",
        description = "When the order was placed: a timestamp or date. NULL rows are skipped."
    ),
    argument(
        name = "amount",
        description = "The order's amount: a number, negative for a refund. NULL rows are \
        skipped; NaN is an error."
    ),
    argument(
        name = "as_of",
        description = "The date (or timestamp) recency is measured to: a constant. Rows at or \
        after it are ignored. Default: the current date."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Rfm {
    signature: Signature,
    /// False in the variant [`SkipUnreadPurchaseDays`](super::SkipUnreadPurchaseDays) plans
    /// where no one reads `purchase_days`: it keeps no day sets and reports 0.
    purchase_days: bool,
}

impl Default for Rfm {
    fn default() -> Self {
        Self::new()
    }
}

impl Rfm {
    pub fn new() -> Self {
        Self {
            signature: Signature {
                type_signature: TypeSignature::UserDefined,
                volatility: Volatility::Immutable,
                parameter_names: Some(vec!["order_ts".into(), "amount".into(), "as_of".into()]),
            },
            purchase_days: true,
        }
    }

    /// The same function without distinct purchase days (`purchase_days` is 0), for plans
    /// that never read them; not registered under a name of its own.
    pub fn without_purchase_days() -> Self {
        Self {
            purchase_days: false,
            ..Self::new()
        }
    }

    /// Whether `purchase_days` is counted.
    pub fn counts_purchase_days(&self) -> bool {
        self.purchase_days
    }
}

/// The fields of the result struct, in order.
fn result_fields() -> Fields {
    Fields::from(vec![
        Field::new("recency_days", DataType::Int64, true),
        Field::new("frequency", DataType::Int64, false),
        Field::new("purchase_days", DataType::Int64, false),
        Field::new("monetary", DataType::Float64, false),
        Field::new("avg_order_value", DataType::Float64, true),
        Field::new("first_purchase", args::TIMESTAMP, true),
        Field::new("last_purchase", args::TIMESTAMP, true),
        Field::new("tenure_days", DataType::Int64, true),
    ])
}

impl AggregateUDFImpl for Rfm {
    /// Physical plans (EXPLAIN, locally and on a cluster) show the variant without day sets.
    fn human_display(
        &self,
        params: &datafusion::logical_expr::expr::AggregateFunctionParams,
    ) -> Result<String> {
        let display = datafusion::logical_expr::udaf_default_human_display(self, params)?;
        Ok(if self.purchase_days {
            display
        } else {
            format!("{display} without purchase_days")
        })
    }

    fn name(&self) -> &str {
        "rfm"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        args::count(SYNTAX, arg_types.len(), 2, 3)?;
        let mut coerced = vec![
            args::timestamp(SYNTAX, "order_ts", &arg_types[0], false)?,
            args::number(SYNTAX, "amount", &arg_types[1])?,
        ];
        if let Some(as_of) = arg_types.get(2) {
            coerced.push(args::timestamp(SYNTAX, "as_of", as_of, true)?);
        }
        Ok(coerced)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Struct(result_fields()))
    }

    fn is_nullable(&self) -> bool {
        false
    }

    fn accumulator(&self, acc_args: AccumulatorArgs) -> Result<Box<dyn Accumulator>> {
        Ok(Box::new(SingleGroup::new(RfmGroups::try_new(
            &acc_args,
            self.purchase_days,
        )?)))
    }

    fn state_fields(&self, args: StateFieldsArgs) -> Result<Vec<FieldRef>> {
        let name = |field: &str| format!("{}[{field}]", args.name);
        Ok(vec![
            Arc::new(Field::new(name("purchases"), DataType::Int64, false)),
            Arc::new(Field::new(name("monetary"), DataType::Float64, false)),
            // The rounding error of the monetary sum, so the sum does not depend on the order.
            Arc::new(Field::new(name("monetary_error"), DataType::Float64, false)),
            Arc::new(Field::new(name("first"), args::TIMESTAMP, true)),
            Arc::new(Field::new(name("last"), args::TIMESTAMP, true)),
            Arc::new(Field::new(
                name("days"),
                DataType::List(Arc::new(Field::new_list_field(DataType::Int32, false))),
                false,
            )),
        ])
    }

    fn groups_accumulator_supported(&self, _args: AccumulatorArgs) -> bool {
        true
    }

    fn create_groups_accumulator(
        &self,
        args: AccumulatorArgs,
    ) -> Result<Box<dyn GroupsAccumulator>> {
        Ok(Box::new(RfmGroups::try_new(&args, self.purchase_days)?))
    }

    fn simplify(&self) -> Option<AggregateFunctionSimplification> {
        // Without as_of, measure to today's date, fixed once per query like CURRENT_DATE.
        Some(Box::new(|function: AggregateFunction, _info| {
            let mut function = function;
            if function.params.args.len() == 2 {
                function.params.args.push(current_date());
            }
            Ok(Expr::AggregateFunction(function))
        }))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}

/// One group's state, kept together so a row touches one place in memory.
#[derive(Debug, Clone, Copy)]
struct Slot {
    purchases: i64,
    monetary: ExactSum,
    first: i64,
    last: i64,
    days: DaySlot,
}

impl Default for Slot {
    fn default() -> Self {
        Self {
            purchases: 0,
            monetary: ExactSum::default(),
            first: i64::MAX,
            last: i64::MIN,
            days: DaySlot::default(),
        }
    }
}

/// The state of all groups.
#[derive(Debug, Clone)]
struct RfmGroups {
    /// Rows at or after this instant are ignored.
    as_of: i64,
    as_of_day: i64,
    /// The amount argument's name, for the NaN error.
    amount_name: String,
    /// Whether distinct purchase days are counted (see [`Rfm::without_purchase_days`]).
    count_days: bool,
    slots: Vec<Slot>,
    /// The distinct purchase days of every group.
    days: DayArena,
}

impl RfmGroups {
    fn try_new(acc_args: &AccumulatorArgs, count_days: bool) -> Result<Self> {
        let as_of = match args::constant_arg(SYNTAX, acc_args, 2, "as_of")? {
            Some(value) => match args::micros(SYNTAX, "as_of", &value)? {
                Some(micros) => micros,
                None => return datafusion::common::plan_err!("{SYNTAX}: as_of is NULL"),
            },
            // simplify() always adds as_of; without it the plan was built unusually.
            None => return datafusion::common::plan_err!("{SYNTAX}: as_of is missing"),
        };
        let amount_name = acc_args
            .expr_fields
            .get(1)
            .map_or_else(|| "amount".to_string(), |f| f.name().clone());
        Ok(Self::with_as_of(as_of, amount_name, count_days))
    }

    fn with_as_of(as_of: i64, amount_name: String, count_days: bool) -> Self {
        Self {
            as_of,
            as_of_day: day_of_micros(as_of),
            amount_name,
            count_days,
            slots: vec![],
            days: DayArena::default(),
        }
    }

    fn nan_error(&self) -> Result<()> {
        exec_err!(
            "{SYNTAX}: amount ({}) is NaN; every amount must be a number",
            self.amount_name
        )
    }

    /// Takes the groups `emit_to` names, with the arena holding their days.
    fn take(&mut self, emit_to: EmitTo) -> (Vec<Slot>, DayArena) {
        match emit_to {
            EmitTo::All => (
                std::mem::take(&mut self.slots),
                std::mem::take(&mut self.days),
            ),
            EmitTo::First(n) => (
                emit_to.take_needed(&mut self.slots),
                self.days.split_first(n),
            ),
        }
    }
}

impl TimedAmountSink for RfmGroups {
    #[inline]
    fn prefetch(&self, group: usize) {
        prefetch(&self.slots, group);
    }

    /// `false` when the amount is NaN.
    #[inline]
    fn add(&mut self, group: usize, ts: i64, amount: f64) -> bool {
        if ts >= self.as_of {
            return true;
        }
        if amount.is_nan() {
            return false;
        }
        let slot = &mut self.slots[group];
        slot.monetary.add(amount);
        if amount >= 0.0 {
            slot.purchases += 1;
            slot.first = slot.first.min(ts);
            slot.last = slot.last.max(ts);
            if self.count_days {
                self.days
                    .insert(&mut slot.days, group, ts.div_euclid(MICROS_PER_DAY) as i32);
            }
        }
        true
    }
}

impl GroupState for RfmGroups {
    fn resize(&mut self, total_num_groups: usize) {
        if self.slots.len() < total_num_groups {
            self.slots.resize(total_num_groups, Slot::default());
        }
    }
}

impl GroupsAccumulator for RfmGroups {
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
        let (slots, days) = self.take(emit_to);
        let bought = |s: &Slot| s.purchases > 0;
        let recency: Int64Array = slots
            .iter()
            .map(|s| bought(s).then(|| self.as_of_day - day_of_micros(s.last)))
            .collect();
        let tenure: Int64Array = slots
            .iter()
            .map(|s| bought(s).then(|| self.as_of_day - day_of_micros(s.first)))
            .collect();
        let day_slots: Vec<DaySlot> = slots.iter().map(|s| s.days).collect();
        let distinct_days = Int64Array::from_iter_values(
            days.distinct_counts(&day_slots)
                .into_iter()
                .map(|n| n as i64),
        );
        let average: Float64Array = slots
            .iter()
            .map(|s| bought(s).then(|| s.monetary.value() / s.purchases as f64))
            .collect();
        let first_ts: TimestampMicrosecondArray =
            slots.iter().map(|s| bought(s).then_some(s.first)).collect();
        let last_ts: TimestampMicrosecondArray =
            slots.iter().map(|s| bought(s).then_some(s.last)).collect();
        let columns: Vec<ArrayRef> = vec![
            Arc::new(recency),
            Arc::new(Int64Array::from_iter_values(
                slots.iter().map(|s| s.purchases),
            )),
            Arc::new(distinct_days),
            Arc::new(Float64Array::from_iter_values(
                slots.iter().map(|s| s.monetary.value()),
            )),
            Arc::new(average),
            Arc::new(first_ts),
            Arc::new(last_ts),
            Arc::new(tenure),
        ];
        Ok(Arc::new(StructArray::try_new(
            result_fields(),
            columns,
            None,
        )?))
    }

    fn state(&mut self, emit_to: EmitTo) -> Result<Vec<ArrayRef>> {
        let (slots, days) = self.take(emit_to);
        let first: TimestampMicrosecondArray = slots
            .iter()
            .map(|s| (s.purchases > 0).then_some(s.first))
            .collect();
        let last: TimestampMicrosecondArray = slots
            .iter()
            .map(|s| (s.purchases > 0).then_some(s.last))
            .collect();
        Ok(vec![
            Arc::new(Int64Array::from_iter_values(
                slots.iter().map(|s| s.purchases),
            )),
            Arc::new(Float64Array::from_iter_values(
                slots.iter().map(|s| s.monetary.hi),
            )),
            Arc::new(Float64Array::from_iter_values(
                slots.iter().map(|s| s.monetary.lo),
            )),
            Arc::new(first),
            Arc::new(last),
            Arc::new(days_list(
                days,
                &slots.iter().map(|s| s.days).collect::<Vec<_>>(),
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
        let purchases = values[0].as_primitive::<Int64Type>();
        let monetary = values[1].as_primitive::<Float64Type>();
        let monetary_error = values[2].as_primitive::<Float64Type>();
        let first = values[3].as_primitive::<TimestampMicrosecondType>();
        let last = values[4].as_primitive::<TimestampMicrosecondType>();
        let days = values[5].as_list::<i32>();
        let offsets = days.value_offsets();
        let day_values = days.values().as_primitive::<Int32Type>().values();
        for (i, &group) in group_indices.iter().enumerate() {
            let slot = &mut self.slots[group];
            slot.purchases += purchases.value(i);
            slot.monetary
                .add_sum(ExactSum::new(monetary.value(i), monetary_error.value(i)));
            if first.is_valid(i) {
                slot.first = slot.first.min(first.value(i));
                slot.last = slot.last.max(last.value(i));
            }
            if self.count_days {
                let days = &day_values[offsets[i] as usize..offsets[i + 1] as usize];
                self.days.insert_sorted(&mut slot.days, group, days);
            }
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
        let mut purchases = Vec::with_capacity(n);
        let mut monetary = Vec::with_capacity(n);
        let mut when: Vec<Option<i64>> = Vec::with_capacity(n);
        let mut day_lengths = Vec::with_capacity(n);
        let mut day_values = Vec::with_capacity(n);
        for i in 0..n {
            let counted = selected(opt_filter, i)
                && ts.is_valid(i)
                && amount.is_valid(i)
                && ts.value(i) < self.as_of;
            let a = if counted { amount.value(i) } else { 0.0 };
            if a.is_nan() {
                self.nan_error()?;
            }
            let purchase = counted && a >= 0.0;
            purchases.push(i64::from(purchase));
            monetary.push(a);
            when.push(purchase.then(|| ts.value(i)));
            let with_day = purchase && self.count_days;
            day_lengths.push(usize::from(with_day));
            if with_day {
                day_values.push(day_of_micros(ts.value(i)) as i32);
            }
        }
        let when = TimestampMicrosecondArray::from(when);
        let days = ListArray::new(
            Arc::new(Field::new_list_field(DataType::Int32, false)),
            OffsetBuffer::from_lengths(day_lengths),
            Arc::new(Int32Array::from(day_values)),
            None,
        );
        Ok(vec![
            Arc::new(Int64Array::from(purchases)),
            Arc::new(Float64Array::from(monetary)),
            Arc::new(Float64Array::from(vec![0.0; n])),
            Arc::new(when.clone()),
            Arc::new(when),
            Arc::new(days),
        ])
    }

    fn size(&self) -> usize {
        self.slots.capacity() * size_of::<Slot>() + self.days.size()
    }
}

/// A `List<Int32>` with each group's distinct days, sorted.
pub(crate) fn days_list(arena: DayArena, slots: &[DaySlot]) -> ListArray {
    let gathered = arena.gather(slots);
    let lengths = gathered.offsets.windows(2).map(|w| w[1] - w[0]);
    ListArray::new(
        Arc::new(Field::new_list_field(DataType::Int32, false)),
        OffsetBuffer::from_lengths(lengths),
        Arc::new(Int32Array::from(gathered.days)),
        None,
    )
}

/// The as_of a test passes: 2023-07-01.
#[cfg(test)]
const TEST_AS_OF: i64 = 19_539 * MICROS_PER_DAY;

#[cfg(test)]
mod tests {
    use datafusion::arrow::array::TimestampMicrosecondArray;

    use datafusion::common::ScalarValue;

    use super::*;

    fn groups() -> RfmGroups {
        RfmGroups::with_as_of(TEST_AS_OF, "amount".into(), true)
    }

    fn day(d: i64, hour: i64) -> i64 {
        TEST_AS_OF + d * MICROS_PER_DAY + hour * 3_600_000_000
    }

    fn input(rows: &[(Option<i64>, Option<f64>)]) -> Vec<ArrayRef> {
        let ts: TimestampMicrosecondArray = rows.iter().map(|r| r.0).collect();
        let amount: Float64Array = rows.iter().map(|r| r.1).collect();
        vec![Arc::new(ts), Arc::new(amount)]
    }

    fn field<'a>(result: &'a ArrayRef, name: &str) -> &'a ArrayRef {
        result.as_struct().column_by_name(name).unwrap()
    }

    #[test]
    fn one_customer() {
        let mut acc = groups();
        let rows = [
            (Some(day(-10, 9)), Some(20.0)),
            (Some(day(-10, 18)), Some(5.0)),
            (Some(day(-3, 12)), Some(-5.0)), // refund: money back, not a purchase
            (Some(day(-30, 8)), Some(40.0)),
            (None, Some(99.0)),
            (Some(day(-1, 1)), None),
            (Some(day(0, 0)), Some(1000.0)), // at as_of: ignored
        ];
        acc.update_batch(&input(&rows), &[0; 7], None, 1).unwrap();
        let result = acc.evaluate(EmitTo::All).unwrap();
        let int = |name| field(&result, name).as_primitive::<Int64Type>().value(0);
        let float = |name| field(&result, name).as_primitive::<Float64Type>().value(0);
        assert_eq!(int("recency_days"), 10);
        assert_eq!(int("frequency"), 3);
        assert_eq!(int("purchase_days"), 2);
        assert_eq!(float("monetary"), 60.0);
        assert_eq!(float("avg_order_value"), 20.0);
        assert_eq!(int("tenure_days"), 30);
        let first = field(&result, "first_purchase").as_primitive::<TimestampMicrosecondType>();
        assert_eq!(first.value(0), day(-30, 8));
    }

    #[test]
    fn a_group_without_purchases_has_null_dates() {
        let mut acc = groups();
        let rows = [
            (Some(day(-3, 0)), Some(-10.0)),
            (Some(day(2, 0)), Some(5.0)),
        ];
        acc.update_batch(&input(&rows), &[0, 0], None, 1).unwrap();
        let result = acc.evaluate(EmitTo::All).unwrap();
        assert_eq!(
            field(&result, "frequency")
                .as_primitive::<Int64Type>()
                .value(0),
            0
        );
        assert_eq!(
            field(&result, "monetary")
                .as_primitive::<Float64Type>()
                .value(0),
            -10.0
        );
        for name in [
            "recency_days",
            "avg_order_value",
            "first_purchase",
            "tenure_days",
        ] {
            assert!(field(&result, name).is_null(0), "{name}");
        }
    }

    #[test]
    fn nan_is_an_error_naming_the_argument() {
        let mut acc = groups();
        let err = acc
            .update_batch(&input(&[(Some(day(-1, 0)), Some(f64::NAN))]), &[0], None, 1)
            .unwrap_err();
        assert!(err.to_string().contains("amount (amount) is NaN"), "{err}");
    }

    #[test]
    fn filter_clause_skips_rows() {
        let mut acc = groups();
        let filter = BooleanArray::from(vec![Some(true), Some(false), None]);
        let rows = [
            (Some(day(-1, 0)), Some(1.0)),
            (Some(day(-2, 0)), Some(2.0)),
            (Some(day(-3, 0)), Some(4.0)),
        ];
        acc.update_batch(&input(&rows), &[0, 0, 0], Some(&filter), 1)
            .unwrap();
        let result = acc.evaluate(EmitTo::All).unwrap();
        assert_eq!(
            field(&result, "monetary")
                .as_primitive::<Float64Type>()
                .value(0),
            1.0
        );
    }

    #[test]
    fn partial_states_merge_to_the_same_result() {
        let rows = [
            (Some(day(-10, 9)), Some(20.0)),
            (Some(day(-3, 12)), Some(-5.0)),
            (Some(day(-30, 8)), Some(40.0)),
            (Some(day(-10, 1)), Some(7.0)),
            (Some(day(-5, 1)), Some(3.0)),
        ];
        let groups_of_rows = [0, 1, 0, 0, 1];
        let mut direct = groups();
        direct
            .update_batch(&input(&rows), &groups_of_rows, None, 2)
            .unwrap();
        let expected = direct.evaluate(EmitTo::All).unwrap();

        // Two partial accumulators over halves, and one row-level state, merged.
        let mut a = groups();
        a.update_batch(&input(&rows[..2]), &groups_of_rows[..2], None, 2)
            .unwrap();
        let converted = groups().convert_to_state(&input(&rows[2..]), None).unwrap();
        let mut merged = groups();
        merged
            .merge_batch(&a.state(EmitTo::All).unwrap(), &[0, 1], 2)
            .unwrap();
        merged
            .merge_batch(&converted, &groups_of_rows[2..], 2)
            .unwrap();
        assert_eq!(&merged.evaluate(EmitTo::All).unwrap(), &expected);
    }

    #[test]
    fn emit_first_groups_only() {
        let mut acc = groups();
        let rows = [(Some(day(-1, 0)), Some(1.0)), (Some(day(-2, 0)), Some(2.0))];
        acc.update_batch(&input(&rows), &[0, 1], None, 2).unwrap();
        let first = acc.evaluate(EmitTo::First(1)).unwrap();
        assert_eq!(first.len(), 1);
        let rest = acc.evaluate(EmitTo::All).unwrap();
        assert_eq!(
            field(&rest, "monetary")
                .as_primitive::<Float64Type>()
                .value(0),
            2.0
        );
    }

    #[test]
    fn single_group_adapter_evaluates_empty_input() {
        let mut acc = SingleGroup::new(groups());
        let value = acc.evaluate().unwrap();
        let ScalarValue::Struct(s) = value else {
            panic!("a struct")
        };
        assert_eq!(
            s.column_by_name("frequency")
                .unwrap()
                .as_primitive::<Int64Type>()
                .value(0),
            0
        );
    }
}
