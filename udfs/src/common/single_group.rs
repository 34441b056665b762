//! A plain `Accumulator` (used without GROUP BY) made from a `GroupsAccumulator` with one group,
//! so each aggregate's logic is written once.

use std::fmt::Debug;

use datafusion::arrow::array::ArrayRef;
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{Accumulator, EmitTo, GroupsAccumulator};

/// A groups accumulator that can make room for groups without rows and be copied, so the
/// one-group adapter can evaluate without consuming its state.
pub trait GroupState: GroupsAccumulator + Clone + Debug + Send + Sync + 'static {
    /// Makes sure groups `0..total_num_groups` exist.
    fn resize(&mut self, total_num_groups: usize);
}

/// The one-group `Accumulator` over a [`GroupState`].
#[derive(Debug)]
pub struct SingleGroup<G: GroupState> {
    inner: G,
}

impl<G: GroupState> SingleGroup<G> {
    pub fn new(mut inner: G) -> Self {
        inner.resize(1);
        Self { inner }
    }
}

impl<G: GroupState> Accumulator for SingleGroup<G> {
    fn update_batch(&mut self, values: &[ArrayRef]) -> Result<()> {
        let rows = values.first().map_or(0, |v| v.len());
        self.inner.update_batch(values, &vec![0; rows], None, 1)
    }

    fn evaluate(&mut self) -> Result<ScalarValue> {
        let result = self.inner.clone().evaluate(EmitTo::All)?;
        ScalarValue::try_from_array(&result, 0)
    }

    fn size(&self) -> usize {
        size_of::<Self>() + self.inner.size()
    }

    fn state(&mut self) -> Result<Vec<ScalarValue>> {
        self.inner
            .clone()
            .state(EmitTo::All)?
            .iter()
            .map(|column| ScalarValue::try_from_array(column, 0))
            .collect()
    }

    fn merge_batch(&mut self, states: &[ArrayRef]) -> Result<()> {
        let rows = states.first().map_or(0, |s| s.len());
        self.inner.merge_batch(states, &vec![0; rows], 1)
    }
}
