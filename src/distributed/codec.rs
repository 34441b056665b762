//! Plan codecs for the cluster: Ballista's own, plus the state of seglake functions.
//!
//! DataFusion's plan serialisation sends a function by name, and the receiving side takes
//! the function of that name from its registry. That loses state kept in a function's
//! struct: the optimizer rule `skip_unread_purchase_days` swaps `rfm` for a variant of the
//! same name that keeps no day sets, and by name alone the scheduler and executors would
//! run the full `rfm` again. These codecs write that variant as one byte and read it back.
//! Likewise `rfm_segment`, `rfm_segment_rule` and `segment_map_bins` carry the session's own
//! segment maps (the cluster knows the built-in ones only). Every other function still goes
//! by name, and a name the receiving registry does not know is an error naming the function
//! and the role.

use std::sync::Arc;

use ballista_core::serde::{BallistaLogicalExtensionCodec, BallistaPhysicalExtensionCodec};
use datafusion::arrow::datatypes::SchemaRef;
use datafusion::catalog::TableProvider;
use datafusion::common::TableReference;
use datafusion::datasource::file_format::FileFormatFactory;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::TaskContext;
use datafusion::logical_expr::{AggregateUDF, Extension, LogicalPlan, ScalarUDF, WindowUDF};
use datafusion::physical_plan::ExecutionPlan;
use datafusion_proto::logical_plan::LogicalExtensionCodec;
use datafusion_proto::physical_plan::{PhysicalExtensionCodec, PhysicalProtoConverterExtension};
use seglake_udfs::rfm::Rfm;
use seglake_udfs::rfm::segment_map::wire;

/// The byte that marks `rfm` without purchase-day sets.
const RFM_WITHOUT_DAYS: u8 = 1;

fn encode_udaf(node: &AggregateUDF, buf: &mut Vec<u8>) {
    if let Some(rfm) = node.inner().downcast_ref::<Rfm>()
        && !rfm.counts_purchase_days()
    {
        buf.push(RFM_WITHOUT_DAYS);
    }
}

fn decode_udaf(name: &str, buf: &[u8], role: &str) -> Result<Arc<AggregateUDF>> {
    match (name, buf) {
        ("rfm", [RFM_WITHOUT_DAYS]) => {
            Ok(Arc::new(AggregateUDF::from(Rfm::without_purchase_days())))
        }
        _ => Err(missing("aggregate", name, role)),
    }
}

fn encode_udf(node: &ScalarUDF, buf: &mut Vec<u8>) {
    if let Some(maps) = wire::maps_of(node) {
        buf.extend(wire::encode(maps));
    }
}

fn decode_udf(name: &str, buf: &[u8], role: &str) -> Result<Arc<ScalarUDF>> {
    if buf.is_empty() {
        return Err(missing("scalar", name, role));
    }
    match wire::decode(name, buf) {
        Ok(Some(udf)) => Ok(Arc::new(udf)),
        Ok(None) => Err(missing("scalar", name, role)),
        Err(e) => Err(DataFusionError::Plan(format!(
            "function '{name}' on the {role}: {e}"
        ))),
    }
}

fn missing(kind: &str, name: &str, role: &str) -> DataFusionError {
    DataFusionError::Plan(format!(
        "{kind} function '{name}' is not registered on the cluster's {role}: run the same \
         seglake version as `seglake cluster {role}` (a stock Ballista {role} has no seglake \
         functions)"
    ))
}

/// The logical codec of clients and schedulers.
#[derive(Debug, Default)]
pub struct SeglakeLogicalCodec {
    inner: BallistaLogicalExtensionCodec,
}

impl LogicalExtensionCodec for SeglakeLogicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[LogicalPlan],
        ctx: &TaskContext,
    ) -> Result<Extension> {
        self.inner.try_decode(buf, inputs, ctx)
    }

    fn try_encode(&self, node: &Extension, buf: &mut Vec<u8>) -> Result<()> {
        self.inner.try_encode(node, buf)
    }

    fn try_decode_table_provider(
        &self,
        buf: &[u8],
        table_ref: &TableReference,
        schema: SchemaRef,
        ctx: &TaskContext,
    ) -> Result<Arc<dyn TableProvider>> {
        self.inner
            .try_decode_table_provider(buf, table_ref, schema, ctx)
    }

    fn try_encode_table_provider(
        &self,
        table_ref: &TableReference,
        node: Arc<dyn TableProvider>,
        buf: &mut Vec<u8>,
    ) -> Result<()> {
        self.inner.try_encode_table_provider(table_ref, node, buf)
    }

    fn try_decode_file_format(
        &self,
        buf: &[u8],
        ctx: &TaskContext,
    ) -> Result<Arc<dyn FileFormatFactory>> {
        self.inner.try_decode_file_format(buf, ctx)
    }

    fn try_encode_file_format(
        &self,
        buf: &mut Vec<u8>,
        node: Arc<dyn FileFormatFactory>,
    ) -> Result<()> {
        self.inner.try_encode_file_format(buf, node)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        decode_udf(name, buf, "scheduler")
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        encode_udf(node, buf);
        Ok(())
    }

    fn try_decode_udaf(&self, name: &str, buf: &[u8]) -> Result<Arc<AggregateUDF>> {
        decode_udaf(name, buf, "scheduler")
    }

    fn try_encode_udaf(&self, node: &AggregateUDF, buf: &mut Vec<u8>) -> Result<()> {
        encode_udaf(node, buf);
        Ok(())
    }

    fn try_decode_udwf(&self, name: &str, _buf: &[u8]) -> Result<Arc<WindowUDF>> {
        Err(missing("window", name, "scheduler"))
    }
}

/// The physical codec of schedulers and executors.
#[derive(Debug, Default)]
pub struct SeglakePhysicalCodec {
    inner: BallistaPhysicalExtensionCodec,
}

impl PhysicalExtensionCodec for SeglakePhysicalCodec {
    fn try_decode(
        &self,
        buf: &[u8],
        inputs: &[Arc<dyn ExecutionPlan>],
        ctx: &TaskContext,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<Arc<dyn ExecutionPlan>> {
        self.inner.try_decode(buf, inputs, ctx, proto_converter)
    }

    fn try_encode(
        &self,
        node: Arc<dyn ExecutionPlan>,
        buf: &mut Vec<u8>,
        proto_converter: &dyn PhysicalProtoConverterExtension,
    ) -> Result<()> {
        self.inner.try_encode(node, buf, proto_converter)
    }

    fn try_decode_udf(&self, name: &str, buf: &[u8]) -> Result<Arc<ScalarUDF>> {
        decode_udf(name, buf, "executor")
    }

    fn try_encode_udf(&self, node: &ScalarUDF, buf: &mut Vec<u8>) -> Result<()> {
        encode_udf(node, buf);
        Ok(())
    }

    fn try_decode_udaf(&self, name: &str, buf: &[u8]) -> Result<Arc<AggregateUDF>> {
        decode_udaf(name, buf, "executor")
    }

    fn try_encode_udaf(&self, node: &AggregateUDF, buf: &mut Vec<u8>) -> Result<()> {
        encode_udaf(node, buf);
        Ok(())
    }

    fn try_decode_udwf(&self, name: &str, _buf: &[u8]) -> Result<Arc<WindowUDF>> {
        Err(missing("window", name, "executor"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfm_without_days_survives_the_wire() {
        let codec = SeglakePhysicalCodec::default();
        let lighter = AggregateUDF::from(Rfm::without_purchase_days());
        let mut buf = Vec::new();
        codec.try_encode_udaf(&lighter, &mut buf).unwrap();
        assert_eq!(buf, [RFM_WITHOUT_DAYS]);
        let decoded = codec.try_decode_udaf("rfm", &buf).unwrap();
        let rfm = decoded.inner().downcast_ref::<Rfm>().unwrap();
        assert!(!rfm.counts_purchase_days());

        // The full rfm and every other function go by name: nothing is written.
        let mut buf = Vec::new();
        let logical = SeglakeLogicalCodec::default();
        logical
            .try_encode_udaf(&AggregateUDF::from(Rfm::new()), &mut buf)
            .unwrap();
        assert!(buf.is_empty());
    }

    #[test]
    fn own_segment_maps_travel_with_rfm_segment() {
        use seglake_udfs::rfm::segment_map::{SegmentMap, SegmentMaps};
        let mut maps = SegmentMaps::builtin();
        let text = "fallback = \"rest\"\n[[rule]]\nname = \"best\"\nr = [5, 5]\n";
        maps.insert(SegmentMap::parse("mine", text).unwrap());
        let maps = Arc::new(maps);
        let functions = seglake_udfs::rfm::segment_functions(&maps);
        let seglake_udfs::SeglakeFunction::Scalar(rfm_segment) = &functions[0] else {
            panic!("rfm_segment is a scalar function");
        };
        let codec = SeglakePhysicalCodec::default();
        let mut buf = Vec::new();
        codec.try_encode_udf(rfm_segment, &mut buf).unwrap();
        assert!(!buf.is_empty());
        let decoded = codec.try_decode_udf("rfm_segment", &buf).unwrap();
        let carried = wire::maps_of(&decoded).unwrap();
        assert_eq!(carried.get("mine").unwrap().segment(5, 1, 1), Ok("best"));
        // With the built-in maps only, it goes by name.
        let plain = seglake_udfs::rfm::segment_functions(&Arc::new(SegmentMaps::builtin()));
        let seglake_udfs::SeglakeFunction::Scalar(plain) = &plain[0] else {
            panic!("rfm_segment is a scalar function");
        };
        let mut buf = Vec::new();
        codec.try_encode_udf(plain, &mut buf).unwrap();
        assert!(buf.is_empty());
    }

    #[test]
    fn a_missing_function_is_named() {
        let codec = SeglakePhysicalCodec::default();
        let err = codec.try_decode_udaf("kmeans_fit", &[]).unwrap_err();
        assert!(err.to_string().contains("'kmeans_fit'"), "{err}");
        assert!(err.to_string().contains("executor"), "{err}");
    }
}
