//! `rfm_segment(r, f, m [, map])`: the named segment of RFM scores.

use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, FieldRef, Int64Type};
use datafusion::common::{ScalarValue, exec_err, plan_err};
use datafusion::error::Result;
use datafusion::logical_expr::{
    ColumnarValue, Documentation, ReturnFieldArgs, ScalarFunctionArgs, ScalarUDFImpl, Signature,
    TypeSignature, Volatility,
};
use datafusion_macros::user_doc;

use super::segment_map::{SegmentMap, SegmentMaps};
use crate::common::args;

const SYNTAX: &str = "rfm_segment(r, f, m [, map])";

#[user_doc(
    doc_section(label = "Customer segmentation functions"),
    description = "The segment name of RFM scores under a segment map: a built-in one or one \
    of your own (a TOML file of ordered rules, first match wins: `_segment_maps/NAME.toml` in \
    the lake, `[segment_maps]` in seglake.toml or `--segment-map NAME=FILE`; `seglake maps` \
    lists, shows and checks them). `standard` (default) is the 10-segment R-F map on quintiles: \
    [1-2][1-2] hibernating, [1-2][3-4] at_risk, [1-2]5 cant_lose, 3[1-2] about_to_sleep, 33 \
    need_attention, [3-4][4-5] loyal, 41 promising, 51 new, [4-5][2-3] potential_loyalists, \
    5[4-5] champions (m is not used). `rfm_package` is the R rfm package's documented example \
    on R, F and M quintiles (first matching rule wins, else `others`). `pymc` is \
    pymc-marketing's default on quartiles (premium_customer, repeat_customer, top_spender, \
    at_risk_customer, inactive_customer, else `other`). A score outside the map's bins is an \
    error, and so is a code no rule takes in a map without a fallback (never a silent NULL); \
    any NULL score gives NULL.",
    syntax_example = "rfm_segment(r, f, m [, map])",
    sql_example = r#"```sql
> SELECT rfm_segment(5, 4, 1) AS standard, rfm_segment(5, 4, 1, 'rfm_package') AS rfm_package,
         rfm_segment(4, 3, 3, map => 'pymc') AS pymc;
+-----------+-------------+------------------+
| standard  | rfm_package | pymc             |
+-----------+-------------+------------------+
| champions | others      | premium_customer |
+-----------+-------------+------------------+
```"#,
    argument(name = "r", description = "Recency score (5 or 4 best)."),
    argument(name = "f", description = "Frequency score."),
    argument(name = "m", description = "Monetary score."),
    argument(
        name = "map",
        description = "A segment map's name: 'standard' (default, quintiles), 'rfm_package' \
        (quintiles), 'pymc' (quartiles) or a map of your own; a constant."
    )
)]
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct RfmSegment {
    signature: Signature,
    maps: Arc<SegmentMaps>,
}

impl Default for RfmSegment {
    fn default() -> Self {
        Self::new()
    }
}

impl RfmSegment {
    /// With the built-in maps.
    pub fn new() -> Self {
        Self::with_maps(Arc::new(SegmentMaps::builtin()))
    }

    /// With the given maps.
    pub fn with_maps(maps: Arc<SegmentMaps>) -> Self {
        Self {
            signature: Signature {
                type_signature: TypeSignature::UserDefined,
                volatility: Volatility::Immutable,
                parameter_names: Some(["r", "f", "m", "map"].map(String::from).to_vec()),
            },
            maps,
        }
    }

    /// The maps this function knows.
    pub fn maps(&self) -> &Arc<SegmentMaps> {
        &self.maps
    }

    /// The map named by a constant argument (`standard` without one).
    fn map_of(&self, value: Option<&ScalarValue>) -> Result<&Arc<SegmentMap>> {
        map_named(SYNTAX, &self.maps, value)
    }
}

/// The map named by a constant `map` argument of `syntax` (`standard` without one).
pub(crate) fn map_named<'a>(
    syntax: &str,
    maps: &'a SegmentMaps,
    value: Option<&ScalarValue>,
) -> Result<&'a Arc<SegmentMap>> {
    let name = match value {
        None => "standard".to_string(),
        Some(value) => match args::string(syntax, "map", value)? {
            Some(name) => name,
            None => return plan_err!("{syntax}: map is NULL"),
        },
    };
    maps.get(&name).or_else(|e| plan_err!("{syntax}: {e}"))
}

impl ScalarUDFImpl for RfmSegment {
    fn name(&self) -> &str {
        "rfm_segment"
    }

    fn signature(&self) -> &Signature {
        &self.signature
    }

    fn coerce_types(&self, arg_types: &[DataType]) -> Result<Vec<DataType>> {
        args::count(SYNTAX, arg_types.len(), 3, 4)?;
        let mut coerced = vec![
            args::integer(SYNTAX, "r", &arg_types[0])?,
            args::integer(SYNTAX, "f", &arg_types[1])?,
            args::integer(SYNTAX, "m", &arg_types[2])?,
        ];
        if let Some(map) = arg_types.get(3) {
            coerced.push(args::text(SYNTAX, "map", map)?);
        }
        Ok(coerced)
    }

    fn return_type(&self, _arg_types: &[DataType]) -> Result<DataType> {
        Ok(DataType::Utf8)
    }

    fn return_field_from_args(&self, args: ReturnFieldArgs) -> Result<FieldRef> {
        // Check the map name while planning, so a typo fails before any data is read. A
        // saved query's parameter ($map) is only known when the query runs.
        if let Some(value) = args.scalar_arguments.get(3).copied().flatten() {
            self.map_of(Some(value))?;
        }
        Ok(Arc::new(Field::new(self.name(), DataType::Utf8, true)))
    }

    fn invoke_with_args(&self, args: ScalarFunctionArgs) -> Result<ColumnarValue> {
        let map = match args.args.get(3) {
            None => self.map_of(None)?,
            Some(ColumnarValue::Scalar(value)) => self.map_of(Some(value))?,
            Some(ColumnarValue::Array(_)) => {
                return plan_err!("{SYNTAX}: map must be a constant such as 'standard'");
            }
        };
        let arrays = crate::common::args::arrays(&args.args[..3], args.number_rows)?;
        let r = arrays[0].as_primitive::<Int64Type>();
        let f = arrays[1].as_primitive::<Int64Type>();
        let m = arrays[2].as_primitive::<Int64Type>();
        let mut names = Vec::with_capacity(r.len());
        for i in 0..r.len() {
            if r.is_null(i) || f.is_null(i) || m.is_null(i) {
                names.push(None);
                continue;
            }
            match map.segment(r.value(i), f.value(i), m.value(i)) {
                Ok(name) => names.push(Some(name)),
                Err(e) => return exec_err!("{SYNTAX}: {e}"),
            }
        }
        Ok(ColumnarValue::Array(Arc::new(StringArray::from(names))))
    }

    fn documentation(&self) -> Option<&Documentation> {
        self.doc()
    }
}
