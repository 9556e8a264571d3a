//! `export`: the submission CSV of a split, header `id,<labels>`, 0/1 predictions at the
//! threshold, rows in the split's order (the on-site template's order).
use crate::core::params::{ParamDefault as D, ParamSpec, ParamType as T};
use crate::core::stage::{KindInfo, Resource, Workspace};

pub const FILE_NAME: &str = "submission.csv";

const PARAMS: &[ParamSpec] =
    &[ParamSpec::new("split", T::Str, D::Str("onsite_test"), "split to predict"), super::THRESHOLD];

pub const INFO: KindInfo = KindInfo {
    kind: "export",
    version: 1,
    doc: "write the submission CSV (id,<labels> with 0/1) for a split",
    params: PARAMS,
    inputs: super::MODEL_AND_DATA,
    resource: Resource::Device,
    workspace: Workspace::None,
};

#[cfg(feature = "torch")]
pub use on_device::execute;

/// The torch implementation, run in the `ablate-torch` worker.
#[cfg(feature = "torch")]
mod on_device {
    use super::*;
    use crate::core::stage::StageContext;
    use crate::nn::predict::predict_split;

    pub fn execute(ctx: &mut StageContext) -> anyhow::Result<()> {
        let (split, threshold) =
            (ctx.params.str("split").to_string(), ctx.params.float("threshold") as f32);
        let predictions = predict_split(ctx, &split)?;
        let path = ctx.out_dir.join(FILE_NAME);
        let mut csv = csv::Writer::from_path(&path)?;
        csv.write_record(
            std::iter::once("id").chain(predictions.labels.iter().map(String::as_str)),
        )?;
        let n_labels = predictions.labels.len();
        for (id, row) in predictions.ids.iter().zip(predictions.probabilities.chunks(n_labels)) {
            let flags = row.iter().map(|&p| if p > threshold { "1" } else { "0" });
            csv.write_record(std::iter::once(id.as_str()).chain(flags))?;
        }
        csv.flush()?;
        ctx.set_summary(format!("{split}: {} rows → {FILE_NAME}", predictions.ids.len()));
        Ok(())
    }
}
