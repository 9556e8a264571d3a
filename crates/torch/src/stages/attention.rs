//! The torch implementation of `attention`, run in the `ablate-torch` worker; the kind's
//! parameters and inputs are declared in `ablate_stages::attention`.
use crate::nn::checkpoint;
use ablate_core::stage::StageContext;
use ablate_stages::attention::AttentionParams;
use ablate_stages::catalog::AttentionKind;

pub(crate) fn execute(ctx: &mut StageContext) -> anyhow::Result<()> {
    let p = AttentionParams::decode(ctx.params);
    let initial = checkpoint::read_initial(ctx.input("model"))?;
    let mut arch = initial.arch;
    arch.attention = p.block;
    arch.se_reduction = p.se_reduction;
    arch.mha_heads = p.heads;
    let backbone: Vec<_> =
        initial.weights.into_iter().filter(|(name, _)| name.starts_with("backbone.")).collect();
    checkpoint::write_initial(&ctx.out_dir, &arch, &backbone)?;
    let block = match arch.attention {
        AttentionKind::None => "no attention block".to_string(),
        AttentionKind::Se => format!("squeeze-excitation (r = {})", arch.se_reduction),
        AttentionKind::Mha => format!("spatial self-attention ({} heads)", arch.mha_heads),
    };
    ctx.set_summary(format!(
        "{} + {block}; {} backbone tensors handed on",
        arch.backbone,
        backbone.len()
    ));
    Ok(())
}
