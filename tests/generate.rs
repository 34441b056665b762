//! The synthetic lake: deterministic, well-formed, and true to its generating parameters.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use datafusion::arrow::array::{AsArray, RecordBatch};
use datafusion::arrow::datatypes::{Float64Type, Int64Type};
use datafusion::prelude::SessionContext;
use seglake::SeglakeBuilder;
use seglake::generate::{GenOptions, Layout, TABLES, generate, personas, table_schema};

const CUSTOMERS: u64 = 3000;

fn options(out: &Path, threads: usize) -> GenOptions {
    let mut options = GenOptions::new(CUSTOMERS, out);
    options.threads = threads;
    options
}

/// Every file below `dir` with its bytes.
fn files(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            for (name, bytes) in files(&path) {
                out.insert(
                    format!("{}/{name}", path.file_name().unwrap().to_string_lossy()),
                    bytes,
                );
            }
        } else {
            out.insert(
                path.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&path).unwrap(),
            );
        }
    }
    out
}

async fn query(ctx: &SessionContext, sql: &str) -> Vec<RecordBatch> {
    ctx.sql(sql).await.unwrap().collect().await.unwrap()
}

async fn one_f64(ctx: &SessionContext, sql: &str) -> f64 {
    query(ctx, sql).await[0]
        .column(0)
        .as_primitive::<Float64Type>()
        .value(0)
}

async fn one_i64(ctx: &SessionContext, sql: &str) -> i64 {
    query(ctx, sql).await[0]
        .column(0)
        .as_primitive::<Int64Type>()
        .value(0)
}

#[test]
fn same_seed_same_bytes_whatever_the_threads() {
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    generate(&options(a.path(), 2)).unwrap();
    generate(&options(b.path(), 1)).unwrap();
    let (fa, fb) = (files(a.path()), files(b.path()));
    assert_eq!(fa.keys().collect::<Vec<_>>(), fb.keys().collect::<Vec<_>>());
    for (name, bytes) in &fa {
        assert!(bytes == &fb[name], "{name} differs between runs");
    }
    assert_eq!(
        fa.len(),
        TABLES.len() + 2,
        "six tables, the truth and its parameters"
    );

    let c = tempfile::tempdir().unwrap();
    let mut other_seed = options(c.path(), 2);
    other_seed.seed = 7;
    generate(&other_seed).unwrap();
    assert_ne!(
        files(c.path())["transactions/part-0.parquet"],
        fa["transactions/part-0.parquet"]
    );
}

#[tokio::test]
async fn tables_are_well_formed_and_true_to_the_parameters() {
    let dir = tempfile::tempdir().unwrap();
    let summary = generate(&options(dir.path(), 2)).unwrap();
    let ctx = SeglakeBuilder::new()
        .lake(dir.path().display().to_string())
        .build()
        .await
        .unwrap();
    ctx.register_parquet(
        "truth",
        dir.path()
            .join("_truth/customers.parquet")
            .display()
            .to_string(),
        Default::default(),
    )
    .await
    .unwrap();

    // Schemas: exactly the canonical lake's (shared/domain.md §2).
    for table in TABLES {
        let provider = ctx.table_provider(table).await.unwrap();
        let expected = table_schema(table);
        let got: Vec<(String, String)> = provider
            .schema()
            .fields()
            .iter()
            .map(|f| (f.name().clone(), f.data_type().to_string()))
            .collect();
        let want: Vec<(String, String)> = expected
            .fields()
            .iter()
            .map(|f| {
                (
                    f.name().clone(),
                    f.data_type().to_string().replace("Utf8", "Utf8View"),
                )
            })
            .collect();
        assert_eq!(got, want, "{table}");
    }

    // Row counts.
    assert_eq!(summary.rows["customers"], CUSTOMERS);
    assert_eq!(
        summary.rows["campaigns"], 36,
        "one campaign a month over three years"
    );
    let per_customer = summary.rows["transactions"] as f64 / CUSTOMERS as f64;
    assert!(
        (15.0..25.0).contains(&per_customer),
        "about 20 transactions a customer: {per_customer}"
    );

    // Referential integrity.
    for (child, key, parent) in [
        ("transactions", "customer_id", "customers"),
        ("events", "customer_id", "customers"),
        ("surveys", "customer_id", "customers"),
        ("campaign_contacts", "customer_id", "customers"),
        ("campaign_contacts", "campaign_id", "campaigns"),
    ] {
        let orphans = one_i64(
            &ctx,
            &format!("SELECT count(*) FROM {child} c LEFT ANTI JOIN {parent} p USING ({key})"),
        )
        .await;
        assert_eq!(orphans, 0, "{child}.{key} -> {parent}");
    }
    let unique_orders = one_i64(
        &ctx,
        "SELECT count(*) - count(DISTINCT order_id) FROM transactions",
    )
    .await;
    assert_eq!(unique_orders, 0);
    let referrals_later = one_i64(
        &ctx,
        "SELECT count(*) FROM customers c JOIN customers r ON c.referred_by = r.customer_id \
         WHERE r.signup_ts > c.signup_ts",
    )
    .await;
    assert_eq!(
        referrals_later, 0,
        "a referrer signed up before the customer they referred"
    );

    // About 2% refunds (tolerance 0.5 points), each a negative amount and cost.
    let refund_share = one_f64(
        &ctx,
        "SELECT avg(CASE WHEN amount < 0 THEN 1.0 ELSE 0.0 END) FROM transactions",
    )
    .await;
    assert!(
        (refund_share - 0.02).abs() < 0.005,
        "refund share {refund_share}"
    );
    let bad_refunds = one_i64(
        &ctx,
        "SELECT count(*) FROM transactions WHERE amount < 0 AND cost >= 0",
    )
    .await;
    assert_eq!(bad_refunds, 0);

    // Spend per order follows the Gamma-Gamma truth: the mean order amount equals the mean
    // of each order's customer's expected spend p / nu within 3%.
    let (observed, expected) = {
        let batches = query(
            &ctx,
            "SELECT avg(t.amount), avg(u.mean_spend) FROM transactions t JOIN truth u USING (customer_id) WHERE t.amount > 0",
        )
        .await;
        let b = &batches[0];
        (
            b.column(0).as_primitive::<Float64Type>().value(0),
            b.column(1).as_primitive::<Float64Type>().value(0),
        )
    };
    assert!(
        (observed / expected - 1.0).abs() < 0.03,
        "mean order {observed} vs expected {expected}"
    );

    // Purchase rates follow Gamma(r, alpha) per persona: the sample mean within 4 standard
    // errors (sqrt(r) / alpha / sqrt(n)) of r / alpha, and the personas' shares near their
    // weights (digital natives, biased to late sign-ups, a little fewer).
    for persona in personas() {
        let batches = query(
            &ctx,
            &format!(
                "SELECT avg(purchase_rate), count(*) * 1.0 / {CUSTOMERS} FROM truth WHERE persona = '{}'",
                persona.name
            ),
        )
        .await;
        let b = &batches[0];
        let rate = b.column(0).as_primitive::<Float64Type>().value(0);
        let share = b.column(1).as_primitive::<Float64Type>().value(0);
        let mean = persona.r / persona.alpha;
        let standard_error = persona.r.sqrt() / persona.alpha / (share * CUSTOMERS as f64).sqrt();
        assert!(
            (rate - mean).abs() < 4.0 * standard_error,
            "{}: rate {rate} vs {mean} (se {standard_error})",
            persona.name
        );
        assert!(
            (share - persona.weight).abs() < 0.05,
            "{}: share {share}",
            persona.name
        );
    }

    // BG/NBD: a customer who dropped out did so right after their last purchase.
    let wrong_dropouts = one_i64(
        &ctx,
        "SELECT count(*) FROM truth u JOIN (SELECT customer_id, max(order_ts) AS last FROM transactions \
         WHERE amount > 0 GROUP BY customer_id) t USING (customer_id) \
         WHERE u.dropout_ts IS NOT NULL AND u.dropout_ts <> t.last",
    )
    .await;
    assert_eq!(wrong_dropouts, 0);

    // Prospects: about 6% never buy.
    let prospects = one_f64(
        &ctx,
        "SELECT avg(CASE WHEN first_purchase_ts IS NULL THEN 1.0 ELSE 0.0 END) FROM truth",
    )
    .await;
    assert!(
        (0.045..0.09).contains(&prospects),
        "prospect share {prospects}"
    );

    // Behaviour shapes satisfaction: loyal high spenders promote, churners detract.
    let loyal_nps = one_f64(&ctx, "SELECT avg(nps) FROM surveys JOIN truth USING (customer_id) WHERE persona = 'loyal_high_spender'").await;
    let churner_nps = one_f64(&ctx, "SELECT avg(nps) FROM surveys JOIN truth USING (customer_id) WHERE persona = 'at_risk_churner'").await;
    assert!(
        loyal_nps > 8.5 && churner_nps < 4.5,
        "nps {loyal_nps} vs {churner_nps}"
    );
}

#[test]
fn an_existing_lake_is_not_overwritten_by_accident() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().display().to_string();
    let args = ["gen", "--customers", "100", "--out", out.as_str()];
    let first = common::seglake_in(dir.path(), &args, "");
    assert_eq!(first.code, 0, "{}", first.stderr);
    let again = common::seglake_in(dir.path(), &args, "");
    assert_eq!(again.code, 2);
    assert!(
        again.stderr.contains("already holds a lake"),
        "{}",
        again.stderr
    );
    let overwrite = common::seglake_in(
        dir.path(),
        &[&args[..], &["--overwrite", "-q"]].concat(),
        "",
    );
    assert_eq!(overwrite.code, 0, "{}", overwrite.stderr);
    assert_eq!(overwrite.stderr, "");
}

/// `--layout time`: the same rows, in time order across all customers (the customer layout is
/// in time order only within each chunk of 8,192 customers), and as reproducible.
#[tokio::test]
async fn the_time_layout_has_the_same_rows_in_time_order() {
    let by_customer = tempfile::tempdir().unwrap();
    let by_time = tempfile::tempdir().unwrap();
    let again = tempfile::tempdir().unwrap();
    for (dir, layout) in [
        (&by_customer, Layout::Customer),
        (&by_time, Layout::Time),
        (&again, Layout::Time),
    ] {
        let mut options = GenOptions::new(9000, dir.path());
        options.layout = layout;
        generate(&options).unwrap();
    }
    assert_eq!(files(by_time.path()), files(again.path()));
    let session = |dir: &Path| {
        SeglakeBuilder::new()
            .target_partitions(1)
            .lake(dir.display().to_string())
            .build()
    };
    let (customer, time) = (
        session(by_customer.path()).await.unwrap(),
        session(by_time.path()).await.unwrap(),
    );
    for (table, ts) in [("transactions", "order_ts"), ("events", "event_ts")] {
        // Rows read in file order (one partition): how often time goes backwards.
        let backwards = format!(
            "SELECT count(*) FROM (SELECT {ts} AS ts, lag({ts}) OVER () AS prev FROM {table}) \
             WHERE ts < prev"
        );
        assert_eq!(one_i64(&time, &backwards).await, 0, "{table}");
        assert!(one_i64(&customer, &backwards).await > 0, "{table}");
        let count = format!("SELECT count(*) FROM {table}");
        assert_eq!(
            one_i64(&time, &count).await,
            one_i64(&customer, &count).await,
            "{table}"
        );
        // The same rows: the customer layout's files read beside the time layout's, and
        // nothing of them missing (EXCEPT ALL keeps duplicates apart).
        let path = by_customer.path().join(table).display().to_string();
        time.register_parquet("other", &path, Default::default())
            .await
            .unwrap();
        let missing = one_i64(
            &time,
            &format!("SELECT count(*) FROM (SELECT * FROM other EXCEPT ALL SELECT * FROM {table})"),
        )
        .await;
        assert_eq!(missing, 0, "{table}");
        time.deregister_table("other").unwrap();
    }
}
