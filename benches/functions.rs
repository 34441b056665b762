//! Criterion benches for the core of each function family, below SQL: the rfm and
//! btyd_summary group accumulators, a k-means Lloyd iteration, the BG/NBD and Pareto/NBD
//! log-likelihoods and per-customer CLV.
//!
//! `cargo bench --bench functions` measures; `cargo test` runs each once (so CI compiles and
//! exercises them). Inputs are generated with fixed seeds.

use std::hint::black_box;
use std::sync::Arc;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use datafusion::arrow::array::{ArrayRef, Float64Array, TimestampMicrosecondArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Schema, TimeUnit};
use datafusion::common::ScalarValue;
use datafusion::logical_expr::function::AccumulatorArgs;
use datafusion::logical_expr::{AggregateUDFImpl, EmitTo};
use datafusion::physical_expr::PhysicalExpr;
use datafusion::physical_expr::expressions::{Column, Literal};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use seglake_udfs::math::bgnbd::BgNbd;
use seglake_udfs::math::customers::Customers;
use seglake_udfs::math::kmeans::chunks::cores;
use seglake_udfs::math::kmeans::lloyd::lloyd;
use seglake_udfs::math::kmeans::seeding::kmeans_plus_plus;
use seglake_udfs::math::kmeans::{Points, Scaling};
use seglake_udfs::math::lifetime_value::{discounted_value_of, horizons};
use seglake_udfs::math::paretonbd::ParetoNbd;
use seglake_udfs::rfm::{BtydSummary, Rfm};

const ORDERS: usize = 500_000;
const CUSTOMERS: usize = 50_000;
const MICROS_PER_DAY: i64 = 86_400_000_000;
/// 2024-01-01 in microseconds since the epoch.
const AS_OF: i64 = 19_723 * MICROS_PER_DAY;

/// Orders of `CUSTOMERS` customers over three years, each customer's orders together (as a
/// lake written in customer order delivers them): timestamps, amounts, group indices.
fn orders() -> (ArrayRef, ArrayRef, Vec<usize>) {
    let mut rng = ChaCha8Rng::seed_from_u64(1);
    let mut ts = Vec::with_capacity(ORDERS);
    let mut amounts = Vec::with_capacity(ORDERS);
    let mut groups = Vec::with_capacity(ORDERS);
    for i in 0..ORDERS {
        groups.push(i * CUSTOMERS / ORDERS);
        ts.push(AS_OF - rng.random_range(0..3 * 365 * MICROS_PER_DAY));
        amounts.push(rng.random_range(-20.0..200.0));
    }
    (
        Arc::new(TimestampMicrosecondArray::from(ts)),
        Arc::new(Float64Array::from(amounts)),
        groups,
    )
}

/// Runs an aggregate's group accumulator over the orders: `(order_ts, amount, as_of, extra...)`.
fn accumulate(
    udf: &dyn AggregateUDFImpl,
    extra: &[ScalarValue],
    input: &(ArrayRef, ArrayRef, Vec<usize>),
) {
    let timestamp = DataType::Timestamp(TimeUnit::Microsecond, None);
    let as_of = ScalarValue::TimestampMicrosecond(Some(AS_OF), None);
    let schema = Schema::new(vec![
        Field::new("order_ts", timestamp.clone(), false),
        Field::new("amount", DataType::Float64, false),
    ]);
    let mut exprs: Vec<Arc<dyn PhysicalExpr>> = vec![
        Arc::new(Column::new("order_ts", 0)),
        Arc::new(Column::new("amount", 1)),
        Arc::new(Literal::new(as_of.clone())),
    ];
    exprs.extend(
        extra
            .iter()
            .map(|v| Arc::new(Literal::new(v.clone())) as Arc<dyn PhysicalExpr>),
    );
    let types: Vec<DataType> = [timestamp.clone(), DataType::Float64, timestamp]
        .into_iter()
        .chain(extra.iter().map(ScalarValue::data_type))
        .collect();
    let expr_fields: Vec<FieldRef> = types
        .iter()
        .map(|t| Arc::new(Field::new("arg", t.clone(), true)))
        .collect();
    let return_type = udf.return_type(&types).expect("a return type");
    let args = AccumulatorArgs {
        return_field: Arc::new(Field::new(udf.name(), return_type, true)),
        schema: &schema,
        ignore_nulls: false,
        order_bys: &[],
        is_reversed: false,
        name: udf.name(),
        is_distinct: false,
        exprs: &exprs,
        expr_fields: &expr_fields,
    };
    let mut accumulator = udf.create_groups_accumulator(args).expect("an accumulator");
    let (ts, amounts, groups) = input;
    let mut values = vec![
        Arc::clone(ts),
        Arc::clone(amounts),
        as_of.to_array_of_size(ts.len()).expect("as_of"),
    ];
    values.extend(
        extra
            .iter()
            .map(|v| v.to_array_of_size(ts.len()).expect("an argument")),
    );
    accumulator
        .update_batch(&values, groups, None, CUSTOMERS)
        .expect("the batch");
    black_box(accumulator.evaluate(EmitTo::All).expect("the result"));
}

fn accumulators(c: &mut Criterion) {
    let input = orders();
    let mut group = c.benchmark_group("accumulator");
    group.throughput(Throughput::Elements(ORDERS as u64));
    group.sample_size(20);
    group.bench_function("rfm", |b| b.iter(|| accumulate(&Rfm::new(), &[], &input)));
    let week = [ScalarValue::Utf8(Some("week".into()))];
    group.bench_function("btyd_summary_week", |b| {
        b.iter(|| accumulate(&BtydSummary::new(), &week, &input))
    });
    group.finish();
}

/// Customers as btyd_summary gives them in weeks: (frequency, recency, T).
fn customers(n: usize) -> Customers {
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    let rows = (0..n)
        .map(|_| {
            let age: f64 = rng.random_range(1.0..156.0);
            let frequency = f64::from(rng.random_range(0..20_u32));
            let recency = if frequency > 0.0 {
                age * rng.random::<f64>()
            } else {
                0.0
            };
            [
                frequency,
                (recency * 7.0).floor() / 7.0,
                (age * 7.0).floor() / 7.0,
            ]
        })
        .collect();
    Customers::from_rows(rows)
}

fn likelihoods(c: &mut Criterion) {
    let mut group = c.benchmark_group("log_likelihood");
    let data = customers(100_000);
    group.throughput(Throughput::Elements(data.len() as u64));
    let bgnbd = BgNbd {
        r: 0.243,
        alpha: 4.414,
        a: 0.793,
        b: 2.426,
    };
    group.bench_function("bgnbd_with_gradient", |b| {
        b.iter(|| black_box(bgnbd.log_likelihood_and_gradient(black_box(&data))))
    });
    let paretonbd = ParetoNbd {
        r: 0.55,
        alpha: 10.58,
        s: 0.61,
        beta: 11.67,
    };
    group.bench_function("paretonbd", |b| {
        b.iter(|| black_box(paretonbd.log_likelihood(black_box(&data))))
    });
    group.finish();
}

fn cltv(c: &mut Criterion) {
    let data = customers(10_000);
    let model = BgNbd {
        r: 0.243,
        alpha: 4.414,
        a: 0.793,
        b: 2.426,
    };
    let mut group = c.benchmark_group("cltv");
    group.throughput(Throughput::Elements(data.len() as u64));
    group.bench_function("bgnbd_12_months_weekly", |b| {
        let horizons = horizons(12, 4.345);
        let mut expected = vec![0.0; horizons.len()];
        b.iter(|| {
            let mut total = 0.0;
            for i in 0..data.len() {
                let (x, t_x, age) = (data.frequency[i], data.recency[i], data.age[i]);
                model.expected_purchases_many(&horizons, x, t_x, age, &mut expected);
                total += discounted_value_of(35.0, 0.01, 4.345, &horizons, &expected);
            }
            black_box(total)
        })
    });
    group.finish();
}

fn kmeans(c: &mut Criterion) {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let n = 200_000;
    let values: Vec<f64> = (0..n * 3)
        .map(|i| rng.random::<f64>() + f64::from((i / 3 % 8) as u32))
        .collect();
    let raw = Points::unweighted(values, 3);
    let points = raw.scaled(&Scaling::standardize(&raw));
    let start = kmeans_plus_plus(&points, 8, &mut ChaCha8Rng::seed_from_u64(4));
    let mut group = c.benchmark_group("kmeans");
    group.throughput(Throughput::Elements(n as u64));
    for threads in [1, cores()] {
        group.bench_with_input(
            BenchmarkId::new("lloyd_iteration", threads),
            &threads,
            |b, &threads| b.iter(|| black_box(lloyd(&points, start.clone(), 1, 0.0, threads))),
        );
    }
    group.bench_function("kmeans_plus_plus_k8", |b| {
        b.iter(|| {
            black_box(kmeans_plus_plus(
                &points,
                8,
                &mut ChaCha8Rng::seed_from_u64(4),
            ))
        })
    });
    group.finish();
}

criterion_group!(benches, accumulators, likelihoods, cltv, kmeans);
criterion_main!(benches);
