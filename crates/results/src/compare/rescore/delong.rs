//! DeLong's test of a per-label AUROC cell against its baseline row's, from the predictions of
//! every seed of both (`stats::delong`): recorded in the cell, and its test with `--test delong`.
use super::{Plan, Unit};
use crate::compare::predictions::Loaded;
use crate::significance::{Cell, DeLong, PairedTest, Settings, TestKind};
use crate::stats::delong::delong_test;

/// DeLong's test of an AUROC cell against its baseline's (`baseline`), recorded in the cell,
/// and made its test with `--test delong`.
pub(super) fn test_by_delong(
    cell: &mut Cell,
    plan: &Plan,
    baseline: &Plan,
    loaded: &Loaded,
    settings: &Settings,
) {
    let scored = |unit: &Unit| loaded.results[&unit.result].as_ref().expect("planned");
    let label = |unit: &Unit| &scored(unit).labels[unit.label.expect("a per-label column")];
    let first = &plan.units[0];
    let same_images =
        plan.units.iter().chain(&baseline.units).all(|u| scored(u).images == scored(first).images);
    let scores = |units: &[Unit]| -> Vec<Vec<f64>> {
        units.iter().map(|u| label(u).scores.iter().map(|&p| f64::from(p)).collect()).collect()
    };
    let (a, b) = (scores(&plan.units), scores(&baseline.units));
    let a: Vec<&[f64]> = a.iter().map(Vec::as_slice).collect();
    let b: Vec<&[f64]> = b.iter().map(Vec::as_slice).collect();
    let truth: Vec<bool> = label(first).truth.iter().map(|&y| y == 1).collect();
    let tested = if same_images {
        delong_test(&a, &b, &truth, settings.ci.unwrap_or(0.95)).map_err(|e| e.to_string())
    } else {
        Err("the row and the baseline were measured on different images".to_string())
    };
    let by_delong = settings.paired_test == PairedTest::DeLong;
    match tested {
        Ok(test) => {
            let delong = DeLong {
                delta: test.delta,
                se: test.se,
                z: test.z,
                p_value: test.p_value,
                ci_low: test.low,
                ci_high: test.high,
            };
            if by_delong {
                let shown = settings.ci.is_some();
                cell.delta_ci_low = shown.then_some(delong.ci_low);
                cell.delta_ci_high = shown.then_some(delong.ci_high);
                cell.p_value = delong.p_value;
                cell.test = Some(TestKind::DeLong);
                cell.note = delong
                    .p_value
                    .is_none()
                    .then(|| "DeLong's variance of Δ is 0: both rank the images alike".to_string());
            }
            cell.delong = Some(delong);
        }
        Err(why) if by_delong => cell.fallback = Some(format!("no DeLong test: {why}")),
        Err(_) => {}
    }
}
