//! The page's figures: per-class F1 heat maps, learning curves (mean line and min–max band over
//! seeds, one colour per variant, legend outside the plots) and the GradCAM gallery.
use std::fmt::Write;

use super::html::{self, Palette, escape};
use super::{CurveSet, GradcamStage, HeatMap, VariantCurves};
use crate::chart::{self, LineChart, Series};

/// Per-class heat maps: an HTML table coloured with viridis, values printed, a colour bar.
pub(super) fn heat_maps(maps: &[HeatMap], palette: &Palette) -> String {
    let title = "Per-class F1";
    if maps.iter().all(|m| m.rows.is_empty() || m.labels.is_empty()) {
        return html::section("per-class", title, "", &html::empty("No per-class metrics stored."));
    }
    let mut out = String::new();
    for (m, map) in maps.iter().enumerate().filter(|(_, m)| !m.rows.is_empty()) {
        let values = map.rows.iter().flat_map(|r| r.means.iter().flatten()).copied();
        let (lo, hi) = map.domain.unwrap_or_else(|| rounded_range(values));
        let _ = write!(
            out,
            "<figure class=\"heat\">\n<figcaption>{}</figcaption>\n<div class=\"table-wrap\">\
             <table class=\"heat\"><thead><tr><th class=\"sw\"></th>\
             <th class=\"text\">variant</th>",
            escape(&map.title)
        );
        for label in &map.labels {
            let _ = write!(out, "<th class=\"cell\">{}</th>", escape(label));
        }
        out.push_str("</tr></thead><tbody>\n");
        for row in &map.rows {
            let _ = write!(
                out,
                "<tr><td class=\"sw\">{}</td><td>{}</td>",
                palette.swatch(&row.variant),
                escape(&row.variant)
            );
            for (i, label) in map.labels.iter().enumerate() {
                let Some(mean) = row.means.get(i).copied().flatten() else {
                    out.push_str("<td class=\"cell missing\">—</td>");
                    continue;
                };
                let t = if hi > lo { (mean - lo) / (hi - lo) } else { 0.5 };
                let ink = if chart::viridis_dark(t) { "#fff" } else { "#1b1b1b" };
                let std = row.stds.get(i).copied().flatten();
                let sd = std.map(|s| format!("<span class=\"sd\">± {}</span>", html::num(s)));
                let _ = write!(
                    out,
                    "<td class=\"cell\" style=\"background:{};color:{ink}\" title=\"{} · {}: \
                     {}{}\">\
                     {}{}</td>",
                    chart::viridis(t),
                    escape(&row.variant),
                    escape(label),
                    html::num(mean),
                    std.map(|s| format!(" ± {}", html::num(s))).unwrap_or_default(),
                    html::num(mean),
                    sd.unwrap_or_default()
                );
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody></table></div>\n");
        out.push_str(&chart::colour_bar(&format!("heat-scale-{m}"), lo, hi, "F1, mean over seeds"));
        out.push_str("</figure>\n");
    }
    let intro = "Mean F1 per label over seeds (± standard deviation). Colour: viridis over the \
                 range shown by the scale.";
    html::section("per-class", title, intro, &out)
}

/// The values' range rounded out to multiples of 0.05 (`[0, 1]` when there are none).
fn rounded_range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (lo, hi) = values
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| (lo.min(v), hi.max(v)));
    if lo > hi {
        return (0.0, 1.0);
    }
    let (lo, hi) = ((lo / 0.05 + 1e-9).floor() * 0.05, (hi / 0.05 - 1e-9).ceil() * 0.05);
    if hi > lo { (lo, hi) } else { (lo, lo + 0.05) }
}

/// Learning curves: one chart per [`CurveSet`], a shared legend above them.
pub(super) fn curves(sets: &[CurveSet], palette: &Palette) -> String {
    let title = "Learning curves";
    let sets: Vec<&CurveSet> = sets.iter().filter(|s| !s.variants.is_empty()).collect();
    if sets.is_empty() {
        return html::section("curves", title, "", &html::empty("No per-epoch metrics stored."));
    }
    let mut variants: Vec<(&str, usize)> = Vec::new();
    for v in sets.iter().flat_map(|s| &s.variants) {
        match variants.iter_mut().find(|(name, _)| *name == v.variant) {
            Some((_, seeds)) => *seeds = (*seeds).max(v.seeds.len()),
            None => variants.push((&v.variant, v.seeds.len())),
        }
    }
    variants.sort_by_key(|(name, _)| palette.index(name));
    let mut out =
        String::from("<div class=\"curves\">\n<ul class=\"legend\" aria-label=\"variants\">");
    for (name, seeds) in &variants {
        let _ = write!(
            out,
            "<li class=\"li-{}\">{}<span>{}</span> <span class=\"muted\">{} seed{}</span></li>",
            palette.index(name),
            palette.swatch(name),
            escape(name),
            seeds,
            if *seeds == 1 { "" } else { "s" }
        );
    }
    out.push_str("</ul>\n<div class=\"charts\">\n");
    for set in &sets {
        let series = set.variants.iter().map(|v| series(v, palette)).collect();
        let chart = LineChart {
            x_label: if set.x_label.is_empty() { "epoch" } else { &set.x_label },
            y_label: &set.y_label,
            width: 600.0,
            height: 360.0,
            series,
        };
        let _ = write!(
            out,
            "<figure class=\"chart\"><figcaption>{}</figcaption>\n{}</figure>\n",
            escape(&set.title),
            chart::line_chart(&chart)
        );
    }
    out.push_str("</div>\n</div>\n");
    let intro = "Per epoch: the mean over seeds as a line, the range from the lowest to the \
                 highest \
                 seed shaded. Hover a variant in the legend to pick it out.";
    html::section("curves", title, intro, &out)
}

/// Mean and min–max band over the seeds, per epoch present in any seed.
fn series<'a>(v: &'a VariantCurves, palette: &Palette) -> Series<'a> {
    let (line, band) = chart::mean_and_band(v.seeds.iter().map(|s| s.points.as_slice()));
    Series {
        class: format!("s-{}", palette.index(&v.variant)),
        name: &v.variant,
        colour: palette.colour(&v.variant),
        dash: palette.dash(&v.variant),
        marker: None,
        line,
        band,
    }
}

/// CSS that dims the other variants while one is hovered in a legend or chart.
pub(super) fn highlight_css(variants: usize) -> String {
    let mut css = String::new();
    for i in 0..variants {
        let _ = writeln!(
            css,
            ".curves:has(.li-{i}:hover, .s-{i} .line:hover) .series:not(.s-{i}) {{ opacity: .12 }}"
        );
    }
    css
}

/// The GradCAM gallery: per stage instance, the overlays with label, probability and truth.
pub(super) fn gradcam(stages: &[GradcamStage]) -> String {
    let title = "GradCAM";
    if stages.is_empty() {
        return html::section(
            "gradcam",
            title,
            "",
            &html::empty("No GradCAM stages in this pipeline."),
        );
    }
    let mut out = String::new();
    for stage in stages {
        let mut sub = Vec::new();
        if let Some(v) = &stage.variant {
            sub.push(format!("variant <code>{}</code>", escape(v)));
        }
        if !stage.split.is_empty() {
            sub.push(format!("split <code>{}</code>", escape(&stage.split)));
        }
        sub.push(format!("predicted positive at p > {}", stage.threshold));
        let _ = writeln!(
            out,
            "<div class=\"cam-stage\"><h3><code>{}</code></h3><p class=\"sub\">{}</p>",
            escape(&stage.instance),
            sub.join(" · ")
        );
        if stage.overlays.is_empty() {
            out.push_str(&html::empty("This stage produced no overlays."));
            out.push_str("</div>\n");
            continue;
        }
        out.push_str("<div class=\"cam-grid\">\n");
        for o in &stage.overlays {
            let predicted = o.probability > stage.threshold;
            let (outcome, class) = match (predicted, o.truth) {
                (true, true) => ("TP", "ok"),
                (false, false) => ("TN", "ok"),
                (true, false) => ("FP", "err"),
                (false, true) => ("FN", "err"),
            };
            let truth = if o.truth { "positive" } else { "negative" };
            let _ = writeln!(
                out,
                "<figure class=\"cam\"><img src=\"{}\" alt=\"GradCAM of label {} on image {}\">\
                 <figcaption><span class=\"cam-head\">\
                 <span class=\"cam-label\">{}</span> \
                 p = {:.2} <span class=\"outcome {class}\" title=\"prediction vs \
                 truth\">{outcome}</span>\
                 </span><span class=\"cam-meta\">image <code>{}</code> · truth {truth}</span>\
                 </figcaption></figure>",
                html::png_data_uri(&o.png),
                escape(&o.label),
                escape(&o.image_id),
                escape(&o.label),
                o.probability,
                escape(&o.image_id)
            );
        }
        out.push_str("</div></div>\n");
    }
    let intro = "Class-specific GradCAM maps over the images (red: most evidence for the label). \
                 TP/FP/FN/TN compare the prediction with the ground truth.";
    html::section("gradcam", title, intro, &out)
}
