//! `segment_map_bins(map)`: how many score bins a segment map is defined for.

use std::sync::Arc;

use datafusion::arrow::datatypes::DataType;
use datafusion::common::ScalarValue;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};
use datafusion_macros::user_doc;

use super::rfm_segment::map_named;
use super::segment_map::SegmentMaps;
use crate::common::args;

const SYNTAX: &str = "segment_map_bins(map)";

#[user_doc(
    doc_section(label = "Customer segmentation functions"),
    description = "The number of score bins a segment map is defined for (5 for quintile maps, \
    4 for pymc's quartiles): the `bins` to score with before `rfm_segment(r, f, m, map)`, so a \
    query written for one map works with any. A constant, folded while planning.",
    syntax_example = "segment_map_bins(map)",
    sql_example = r#"```sql
> SELECT segment_map_bins('standard') AS standard, segment_map_bins('pymc') AS pymc;
+----------+------+
| standard | pymc |
+----------+------+
| 5        | 4    |
+----------+------+
```"#,
    argument(
        name = "map",
        description = "A segment map's name (built-in or your own); a constant."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct SegmentMapBins {
    signature: Signature,
    maps: Arc<SegmentMaps>,
}

impl SegmentMapBins {
    pub fn new(maps: Arc<SegmentMaps>) -> Self {
        Self {
            signature: Signature {
                type_signature: TypeSignature::UserDefined,
                volatility: Volatility::Immutable,
                parameter_names: Some(vec!["map".to_string()]),
            },
            maps,
        }
    }

    /// The maps this function knows.
    pub fn maps(&self) -> &Arc<SegmentMaps> {
        &self.maps
    }
}

impl ScalarUDFImpl for SegmentMapBins {
    fn name(&self) -> &str {
        "segment_map_bins"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        args::count(SYNTAX, arg_types.len(), 1, 1)?;
        Ok(vec![args::text(SYNTAX, "map", &arg_types[0])?])
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Int64)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let ColumnarValue::Scalar(value) = &args.args[0] else {
            return datafusion::common::plan_err!(
                "{SYNTAX}: map must be a constant such as 'standard'"
            );
        };
        let map = map_named(SYNTAX, &self.maps, Some(value))?;
        Ok(ColumnarValue::Scalar(ScalarValue::Int64(Some(i64::from(
            map.bins(),
        )))))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}
