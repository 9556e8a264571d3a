//! The torch implementation of `ensemble`, run in the `ablate-torch` worker; the kind's
//! parameters and inputs are declared in `ablate_stages::ensemble`.
use std::path::Path;

use ablate_core::metrics::MetricRow;
use ablate_core::stage::StageContext;
use ablate_stages::data::dataset::Dataset;
use ablate_stages::ensemble::{DATA, EnsembleParams};
use ablate_stages::metric;
use ablate_stages::scoring::{macro_f1, score_at, tune_thresholds};

use crate::nn::predict::Predictor;
use crate::nn::tensors::SplitTensors;
use crate::nn::{checkpoint, ensemble};

pub(crate) fn execute(ctx: &mut StageContext) -> anyhow::Result<()> {
    let p = EnsembleParams::decode(ctx.params);
    let members: Vec<(&String, &Path)> = ctx
        .inputs
        .iter()
        .filter(|(role, _)| role.as_str() != DATA)
        .map(|(role, dir)| (role, dir.as_path()))
        .collect();
    if members.is_empty() {
        anyhow::bail!("an ensemble needs at least one member: an input besides `{DATA}`");
    }
    let mut labels: Option<(&String, Vec<String>)> = None;
    for (role, dir) in &members {
        let theirs = checkpoint::read_config(dir)
            .map_err(|e| e.context(format!("member `{role}` is not a trained model")))?
            .labels;
        match &labels {
            Some((first, ours)) if *ours != theirs => anyhow::bail!(
                "member `{role}` predicts {} but member `{first}` predicts {}",
                theirs.join(","),
                ours.join(",")
            ),
            Some(_) => {}
            None => labels = Some((role, theirs)),
        }
    }
    let dirs: Vec<&Path> = members.iter().map(|(_, dir)| *dir).collect();
    ensemble::write(&ctx.out_dir, &dirs)?;
    let mut summary = format!(
        "{} member{} ({})",
        members.len(),
        if members.len() == 1 { "" } else { "s" },
        members.iter().map(|(role, _)| role.as_str()).collect::<Vec<_>>().join(", ")
    );
    if p.tune_thresholds {
        let data = ctx.optional_input(DATA).ok_or_else(|| {
            anyhow::anyhow!("`tune_thresholds` needs a `{DATA}` input holding split `{}`", p.split)
        })?;
        let device = crate::nn::device::to_tch(ctx.device())?;
        let predictor = Predictor::load(&ctx.out_dir, device)?;
        let dataset = Dataset::read(data)?;
        if predictor.labels() != dataset.label_names.as_slice() {
            anyhow::bail!(
                "the members predict {} but the dataset has {}",
                predictor.labels().join(","),
                dataset.label_names.join(",")
            );
        }
        let split = dataset.split(&p.split)?;
        let tensors = SplitTensors::new(&dataset, split, device);
        let probabilities = predictor.probabilities(&tensors, 128, p.tta);
        let labels = predictor.labels().to_vec();
        let thresholds = tune_thresholds(&probabilities, &split.labels, labels.len());
        let tuned = score_at(&probabilities, &split.labels, &thresholds);
        for ((label, t), s) in labels.iter().zip(&thresholds).zip(&tuned) {
            ctx.metric(
                MetricRow::new(metric::THRESHOLD, f64::from(*t)).split(&p.split).class(label),
            );
            ctx.metric(MetricRow::new(metric::TUNED_F1, s.f1).split(&p.split).class(label));
        }
        ctx.metric(MetricRow::new(metric::TUNED_MACRO_F1, macro_f1(&tuned)).split(&p.split));
        checkpoint::write_thresholds(&ctx.out_dir, &labels, &thresholds, &p.split)?;
        summary += &format!(
            "; thresholds tuned on {} {:?} (macro-F1 {:.4}, optimistic)",
            p.split,
            thresholds,
            macro_f1(&tuned)
        );
    }
    ctx.set_summary(summary);
    Ok(())
}
