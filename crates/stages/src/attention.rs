//! `attention`: puts an attention block (squeeze-excitation, spatial multi-head self-attention,
//! or none) between a model's backbone and its head → an initial model.
//!
//! The incoming model may be a `backbone` output or a trained model (e.g. pre-trained on the
//! eight ODIR labels); its backbone weights are handed on, its head and any previous attention
//! block are not. The new block is initialised by the training stage with its seed. Changing
//! the block re-runs this cheap stage and what follows it, never what precedes it.
use ablate_core::params::Choice;
use ablate_core::params::{ParamDefault as D, ParamSpec, ParamType as T, Params};
use ablate_core::stage::{InputSpec, KindInfo, Resource, Workspace};

use crate::catalog::AttentionKind;

const PARAMS: &[ParamSpec] = &[
    ParamSpec::new(
        "block",
        T::Choice(AttentionKind::NAMES),
        D::Required,
        "attention block on the final feature map",
    ),
    ParamSpec::new(
        "se_reduction",
        T::Int { min: 1, max: 4096 },
        D::Int(16),
        "squeeze-excitation reduction r (hidden = max(C / r, 4))",
    ),
    ParamSpec::new(
        "heads",
        T::Int { min: 1, max: 256 },
        D::Int(8),
        "heads of the spatial self-attention",
    ),
];

pub const INFO: KindInfo = KindInfo {
    kind: "attention",
    version: 1,
    doc: "add an attention block between a model's backbone and its head",
    params: PARAMS,
    inputs: &[InputSpec::required("model", "a model from `backbone`, `attention` or `train`")],
    resource: Resource::Cpu,
    workspace: Workspace::None,
};

/// `attention`'s parameters, decoded.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AttentionParams {
    pub block: AttentionKind,
    pub se_reduction: i64,
    pub heads: i64,
}

impl AttentionParams {
    pub fn decode(p: &Params) -> AttentionParams {
        AttentionParams {
            block: p.choice("block"),
            se_reduction: p.int("se_reduction"),
            heads: p.int("heads"),
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_decoder_reads_every_parameter() {
        let required = "block: se";
        ablate_core::params::check_decoder(super::PARAMS, required, super::AttentionParams::decode);
    }
}
