//! An optimizer rule: `rfm` without its distinct-day sets when no query part reads
//! `purchase_days`.
//!
//! Counting distinct purchase days is about a third of `rfm`'s time: DataFusion aggregates in
//! two phases, so every partial state carries each customer's set of days. Most RFM queries
//! (scores, segments, tiers) never read that field. The rule follows the `rfm` result through
//! the plan, by column name, and when every use of it is `get_field(.., 'some other field')`
//! it swaps in [`Rfm::without_purchase_days`], which keeps the same name and result type and
//! reports `purchase_days` as 0.
//!
//! Following the struct by name is conservative: a projection `v AS w` passes it on under a
//! new name; a subquery alias keeps the names. Any other use (the whole struct in the result,
//! `DISTINCT`, `GROUP BY v`, `CASE ... v`, a union, an unnest, a user function taking `v`, an
//! outer reference from a subquery) counts as reading every field, and so does reading
//! `purchase_days` anywhere, even through another `rfm` result of the same name.

use std::collections::HashSet;
use std::sync::Arc;

use datafusion::common::tree_node::{Transformed, TreeNode, TreeNodeRecursion};
use datafusion::common::{Column, Result};
use datafusion::functions::core::getfield::GetFieldFunc;
use datafusion::logical_expr::{AggregateUDF, Expr, LogicalPlan};
use datafusion::optimizer::{OptimizerConfig, OptimizerRule};

use super::Rfm;

/// See the module documentation.
#[derive(Debug, Default)]
pub struct SkipUnreadPurchaseDays;

impl OptimizerRule for SkipUnreadPurchaseDays {
    fn name(&self) -> &str {
        "skip_unread_purchase_days"
    }

    fn rewrite(
        &self,
        plan: LogicalPlan,
        _config: &dyn OptimizerConfig,
    ) -> Result<Transformed<LogicalPlan>> {
        let mut unread = HashSet::new();
        for name in counting_rfm_outputs(&plan)? {
            if !purchase_days_may_be_read(&plan, &name)? {
                unread.insert(name);
            }
        }
        if unread.is_empty() {
            return Ok(Transformed::no(plan));
        }
        let lighter = Arc::new(AggregateUDF::from(Rfm::without_purchase_days()));
        plan.transform_up_with_subqueries(|node| {
            if !matches!(node, LogicalPlan::Aggregate(_)) {
                return Ok(Transformed::no(node));
            }
            let mut outputs = Vec::new();
            node.apply_expressions(|expr| {
                outputs.push(expr.name_for_alias()?);
                Ok(TreeNodeRecursion::Continue)
            })?;
            let mut index = 0;
            node.map_expressions(|expr| {
                let output = outputs.get(index).cloned().unwrap_or_default();
                index += 1;
                if !unread.contains(&output) {
                    return Ok(Transformed::no(expr));
                }
                expr.transform_down(|e| match e {
                    Expr::AggregateFunction(mut function) if counts_days(&function.func) => {
                        function.func = Arc::clone(&lighter);
                        Ok(Transformed::new(
                            Expr::AggregateFunction(function),
                            true,
                            TreeNodeRecursion::Jump,
                        ))
                    }
                    other => Ok(Transformed::no(other)),
                })
            })
        })
    }
}

/// True for an `rfm` that counts distinct purchase days.
fn counts_days(function: &AggregateUDF) -> bool {
    function
        .inner()
        .downcast_ref::<Rfm>()
        .is_some_and(Rfm::counts_purchase_days)
}

/// The output column names of the aggregates that are (or alias) a day-counting `rfm`.
fn counting_rfm_outputs(plan: &LogicalPlan) -> Result<Vec<String>> {
    let mut names = Vec::new();
    plan.apply_with_subqueries(|node| {
        if let LogicalPlan::Aggregate(aggregate) = node {
            for expr in &aggregate.aggr_expr {
                if let Expr::AggregateFunction(function) = unalias(expr)
                    && counts_days(&function.func)
                {
                    names.push(expr.name_for_alias()?);
                }
            }
        }
        Ok(TreeNodeRecursion::Continue)
    })?;
    Ok(names)
}

/// Whether any part of `plan` may read the `purchase_days` field of the column `output`, under
/// that name or one a projection gives it.
fn purchase_days_may_be_read(plan: &LogicalPlan, output: &str) -> Result<bool> {
    let names = names_of(plan, output)?;
    if plan
        .schema()
        .fields()
        .iter()
        .any(|f| names.contains(f.name()))
    {
        return Ok(true);
    }
    let mut read = false;
    plan.apply_with_subqueries(|node| {
        read |= node_may_read(node, &names)?;
        Ok(if read {
            TreeNodeRecursion::Stop
        } else {
            TreeNodeRecursion::Continue
        })
    })?;
    Ok(read)
}

/// `output` and every name a projection passes it on under (`v AS w`), to a fixed point.
fn names_of(plan: &LogicalPlan, output: &str) -> Result<HashSet<String>> {
    let mut names = HashSet::from([output.to_string()]);
    loop {
        let before = names.len();
        plan.apply_with_subqueries(|node| {
            if let LogicalPlan::Projection(projection) = node {
                for (expr, field) in projection.expr.iter().zip(projection.schema.fields()) {
                    if passed_on(expr).is_some_and(|c| names.contains(&c.name)) {
                        names.insert(field.name().clone());
                    }
                }
            }
            Ok(TreeNodeRecursion::Continue)
        })?;
        if names.len() == before {
            return Ok(names);
        }
    }
}

/// Whether one plan node may read the struct's `purchase_days` (or the whole struct).
fn node_may_read(node: &LogicalPlan, names: &HashSet<String>) -> Result<bool> {
    let reads_input = || {
        node.inputs().iter().any(|input| {
            input
                .schema()
                .fields()
                .iter()
                .any(|f| names.contains(f.name()))
        })
    };
    let exprs: Vec<&Expr> = match node {
        // A projection passing the column on is not a use; its other expressions are.
        LogicalPlan::Projection(projection) => projection
            .expr
            .iter()
            .filter(|e| passed_on(e).is_none())
            .collect(),
        // Nodes that pass their input's columns through unchanged, or only use them in their
        // expressions.
        LogicalPlan::Filter(_)
        | LogicalPlan::Sort(_)
        | LogicalPlan::Limit(_)
        | LogicalPlan::SubqueryAlias(_)
        | LogicalPlan::Window(_)
        | LogicalPlan::Aggregate(_)
        | LogicalPlan::Join(_)
        | LogicalPlan::Repartition(_)
        | LogicalPlan::TableScan(_)
        | LogicalPlan::EmptyRelation(_)
        | LogicalPlan::Values(_) => {
            let mut all = Vec::new();
            node.apply_expressions(|e| {
                all.push(e.clone());
                Ok(TreeNodeRecursion::Continue)
            })?;
            return Ok(all.iter().any(|e| expr_may_read(e, names)));
        }
        // Anything else (DISTINCT, UNION, UNNEST, COPY, extensions, ...) may use every field.
        _ => return Ok(reads_input() || node_exprs_may_read(node, names)?),
    };
    Ok(exprs.into_iter().any(|e| expr_may_read(e, names)))
}

fn node_exprs_may_read(node: &LogicalPlan, names: &HashSet<String>) -> Result<bool> {
    let mut read = false;
    node.apply_expressions(|e| {
        read |= expr_may_read(e, names);
        Ok(TreeNodeRecursion::Continue)
    })?;
    Ok(read)
}

/// Whether `expr` may read `purchase_days` of a column named in `names`: anything but
/// `get_field(column, 'another field')`.
fn expr_may_read(expr: &Expr, names: &HashSet<String>) -> bool {
    let mut read = false;
    // The closure never fails.
    let _ = expr.apply(|e| {
        if let Some((column, field)) = field_access(e)
            && names.contains(&column.name)
        {
            read |= field.is_none_or(|field| field == "purchase_days");
            return Ok(TreeNodeRecursion::Jump);
        }
        match e {
            Expr::Column(column) | Expr::OuterReferenceColumn(_, column)
                if names.contains(&column.name) =>
            {
                read = true;
                Ok(TreeNodeRecursion::Stop)
            }
            _ => Ok(TreeNodeRecursion::Continue),
        }
    });
    read
}

/// `get_field(column, name, ...)`: the column and the field name when it is a constant string.
fn field_access(expr: &Expr) -> Option<(&Column, Option<&str>)> {
    let Expr::ScalarFunction(call) = expr else {
        return None;
    };
    call.func.inner().downcast_ref::<GetFieldFunc>()?;
    let Some(Expr::Column(column)) = call.args.first() else {
        return None;
    };
    let field = match call.args.get(1) {
        Some(Expr::Literal(value, _)) => value.try_as_str().flatten(),
        _ => None,
    };
    Some((column, field))
}

/// The column a projection expression passes on unchanged (`v` or `v AS w`).
fn passed_on(expr: &Expr) -> Option<&Column> {
    match unalias(expr) {
        Expr::Column(column) => Some(column),
        _ => None,
    }
}

fn unalias(expr: &Expr) -> &Expr {
    match expr {
        Expr::Alias(alias) => unalias(&alias.expr),
        other => other,
    }
}
