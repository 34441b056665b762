//! `rfm_segment_rule(segment, map)`: the rules of a segment map that give a segment.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, StringArray};
use datafusion::arrow::datatypes::DataType;
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ScalarFunctionArgs, ScalarUDFImpl, Signature, TypeSignature,
    Volatility,
};
use datafusion_macros::user_doc;

use super::rfm_segment::map_named;
use super::segment_map::SegmentMaps;
use crate::common::args;

const SYNTAX: &str = "rfm_segment_rule(segment [, map])";

#[user_doc(
    doc_section(label = "Customer segmentation functions"),
    description = "The rule (score ranges) by which a segment map gives a segment, as text: \
    `r 4-5, f 4-5`; several rules giving the same segment are joined with ` or `, and the \
    fallback's is `no rule matches`. NULL for a name the map does not give. Shows the rules \
    next to segment counts (the `rfm_segment_summary` saved query does).",
    syntax_example = "rfm_segment_rule(segment [, map])",
    sql_example = r#"```sql
> SELECT rfm_segment_rule('champions') AS standard,
         rfm_segment_rule('others', 'rfm_package') AS fallback;
+------------+-----------------+
| standard   | fallback        |
+------------+-----------------+
| r 5, f 4-5 | no rule matches |
+------------+-----------------+
```"#,
    argument(name = "segment", description = "A segment name."),
    argument(
        name = "map",
        description = "A segment map's name: 'standard' (default) or any other; a constant."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RfmSegmentRule {
    signature: Signature,
    maps: Arc<SegmentMaps>,
}

impl RfmSegmentRule {
    pub fn new(maps: Arc<SegmentMaps>) -> Self {
        Self {
            signature: Signature {
                type_signature: TypeSignature::UserDefined,
                volatility: Volatility::Immutable,
                parameter_names: Some(["segment", "map"].map(String::from).to_vec()),
            },
            maps,
        }
    }

    /// The maps this function knows.
    pub fn maps(&self) -> &Arc<SegmentMaps> {
        &self.maps
    }
}

impl ScalarUDFImpl for RfmSegmentRule {
    fn name(&self) -> &str {
        "rfm_segment_rule"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        args::count(SYNTAX, arg_types.len(), 1, 2)?;
        let mut coerced = vec![args::text(SYNTAX, "segment", &arg_types[0])?];
        if let Some(map) = arg_types.get(1) {
            coerced.push(args::text(SYNTAX, "map", map)?);
        }
        Ok(coerced)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let map = match args.args.get(1) {
            None => map_named(SYNTAX, &self.maps, None)?,
            Some(ColumnarValue::Scalar(value)) => map_named(SYNTAX, &self.maps, Some(value))?,
            Some(ColumnarValue::Array(_)) => {
                return datafusion::common::plan_err!(
                    "{SYNTAX}: map must be a constant such as 'standard'"
                );
            }
        };
        let segments = args.args[0].to_array(args.number_rows)?;
        let segments = datafusion::arrow::compute::cast(&segments, &DataType::Utf8)?;
        let segments = segments.as_string::<i32>();
        let rules: StringArray = (0..segments.len())
            .map(|i| {
                if segments.is_null(i) {
                    None
                } else {
                    map.rule_text(segments.value(i))
                }
            })
            .collect();
        Ok(ColumnarValue::Array(Arc::new(rules)))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}
