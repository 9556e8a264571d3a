//! The page header (title, date, pipelines, contents) and the summary: what was compared, the
//! baseline, how many variants and seeds, and the headline result on the primary column.
use super::html::{self, escape};
use super::{Cell, Column, Comparison, Report, Row};
use crate::significance::Interval;

/// Section anchors and titles, in page order, for the contents line.
const CONTENTS: [(&str, &str); 8] = [
    ("summary", "Summary"),
    ("comparison", "Comparison"),
    ("per-class", "Per-class F1"),
    ("curves", "Learning curves"),
    ("confusion", "Confusion counts"),
    ("gradcam", "GradCAM"),
    ("graph", "Stage graph"),
    ("provenance", "Provenance"),
];

pub(super) fn header(report: &Report) -> String {
    let title = if report.title.is_empty() { "Ablation report" } else { &report.title };
    let mut meta = Vec::new();
    if !report.generated_at.is_empty() {
        meta.push(format!("Generated {}", escape(&report.generated_at)));
    }
    if !report.generator.is_empty() {
        meta.push(format!("by {}", escape(&report.generator)));
    }
    let pipelines: Vec<String> = report
        .pipelines
        .iter()
        .map(|p| {
            format!(
                "<li><strong>{}</strong> <code>{}</code> <code class=\"digest\" \
                 title=\"{}\">{}</code></li>",
                escape(&p.name),
                escape(&p.file),
                escape(&p.digest),
                escape(&html::short(&p.digest, 12))
            )
        })
        .collect();
    let pipelines = if pipelines.is_empty() {
        String::new()
    } else {
        format!("<ul class=\"pipelines\">{}</ul>\n", pipelines.join(""))
    };
    let nav: Vec<String> =
        CONTENTS.iter().map(|(id, name)| format!("<a href=\"#{id}\">{name}</a>")).collect();
    format!(
        "<header>\n<p class=\"kicker\">Ablation report</p>\n<h1>{}</h1>\n<p class=\"meta\">{}</p>\n\
         {pipelines}<nav aria-label=\"Contents\">{}</nav>\n</header>\n",
        escape(title),
        meta.join(" "),
        nav.join("")
    )
}

pub(super) fn summary(report: &Report) -> String {
    let c = &report.comparison;
    if c.rows.is_empty() {
        return html::section(
            "summary",
            "Summary",
            "",
            &html::empty("No stored results: run the pipeline first, then generate the report."),
        );
    }
    let mut facts = Vec::new();
    let factors: Vec<String> = c
        .factors
        .iter()
        .map(|f| {
            let levels = levels_of(&c.rows, f);
            format!(
                "<strong>{}</strong> ({}: {})",
                escape(f),
                levels.len(),
                levels.iter().map(|l| escape(l)).collect::<Vec<_>>().join(", ")
            )
        })
        .collect();
    if !factors.is_empty() {
        facts.push(("Factors", factors.join(" × ")));
    }
    let seeds: Vec<usize> = c.rows.iter().map(|r| r.seeds.len().max(r.n)).collect();
    let (lo, hi) = (seeds.iter().min().copied(), seeds.iter().max().copied());
    let seeds = match (lo, hi) {
        (Some(lo), Some(hi)) if lo == hi => {
            format!("{lo} seed{} each", if lo == 1 { "" } else { "s" })
        }
        (Some(lo), Some(hi)) => format!("{lo}–{hi} seeds each"),
        _ => "—".to_string(),
    };
    facts.push(("Variants", format!("{} · {seeds}", c.rows.len())));
    let baseline = c.baseline_name();
    if let Some(b) = &baseline {
        facts.push(("Baseline", format!("<code>{}</code>", escape(b))));
    }
    if let Some(col) = c.primary.and_then(|p| c.columns.get(p)) {
        let better = if col.higher_is_better() { "higher is better" } else { "lower is better" };
        facts.push(("Primary metric", format!("<code>{}</code> ({better})", escape(&col.name))));
    }
    if baseline.is_some() {
        facts.push((
            "Statistics",
            format!(
                "{} {}; p-values adjusted ({}), significant at α = {}",
                html::percent(c.ci_level()),
                match c.settings.interval {
                    Interval::T => "confidence intervals".to_string(),
                    Interval::Bootstrap => format!(
                        "bootstrap intervals over seeds and test images (B = {}, seed {}) beside the t-intervals",
                        c.settings.bootstrap.replicates, c.settings.bootstrap.seed
                    ),
                },
                escape(c.settings.adjustment.name()),
                c.settings.alpha
            ),
        ));
    }
    let facts: String = facts
        .iter()
        .map(|(k, v)| format!("<div><dt>{k}</dt><dd>{v}</dd></div>"))
        .collect::<Vec<_>>()
        .join("\n");
    let body = format!("{}<dl class=\"facts\">\n{facts}\n</dl>\n", headline(c));
    html::section("summary", "Summary", "", &body)
}

/// The distinct levels of `factor` among the rows, in row order.
pub(super) fn levels_of(rows: &[Row], factor: &str) -> Vec<String> {
    let mut levels: Vec<String> = Vec::new();
    for (_, level) in rows.iter().flat_map(|r| &r.levels).filter(|(f, _)| f == factor) {
        if !levels.contains(level) {
            levels.push(level.clone());
        }
    }
    levels
}

/// The best variant on the primary column, its Δ with CI and adjusted p; and how many differ.
fn headline(c: &Comparison) -> String {
    let Some(p) = c.primary else { return String::new() };
    let Some(col) = c.columns.get(p) else { return String::new() };
    let best = c
        .rows
        .iter()
        .filter_map(|r| Some((r, r.cells.get(p)?.as_ref()?)))
        .filter(|(_, cell)| cell.mean.is_finite())
        .max_by(|(_, a), (_, b)| {
            let order = a.mean.total_cmp(&b.mean);
            if col.higher_is_better() { order } else { order.reverse() }
        });
    let Some((row, cell)) = best else {
        return html::empty("No variant has a value in the primary column.");
    };
    let mut text = format!(
        "<p class=\"headline-label\">Best on <code>{}</code></p>\n<p class=\"headline-main\">\
         <span class=\"variant\">{}</span> <span class=\"value\">{}</span>{}</p>\n",
        escape(&col.name),
        escape(&c.row_name(row)),
        html::num(cell.mean),
        ci_text(cell, c.ci_level())
    );
    let baseline = c.baseline_name();
    let is_baseline = baseline.as_ref() == Some(&c.row_name(row));
    let detail = if baseline.is_none() {
        "No baseline: Δ and tests are not computed.".to_string()
    } else if is_baseline {
        "This is the baseline: no variant beats it.".to_string()
    } else {
        delta_sentence(cell, c)
    };
    text.push_str(&format!("<p class=\"headline-detail\">{detail}</p>\n"));
    if let Some(counts) = significance_counts(c, p, col) {
        text.push_str(&format!("<p class=\"headline-detail\">{counts}</p>\n"));
    }
    format!("<div class=\"headline\">\n{text}</div>\n")
}

/// What a cell's interval is called.
fn named(cell: &Cell) -> &'static str {
    match cell.interval {
        Interval::T => "CI",
        Interval::Bootstrap => "bootstrap interval",
    }
}

fn ci_text(cell: &Cell, level: f64) -> String {
    match html::interval(cell.ci_low, cell.ci_high, false) {
        Some(ci) => {
            format!(" <span class=\"ci\">{} {} {ci}</span>", html::percent(level), named(cell))
        }
        None => String::new(),
    }
}

fn delta_sentence(cell: &Cell, c: &Comparison) -> String {
    let Some(delta) = cell.delta else { return "Δ not available.".to_string() };
    let baseline = escape(&c.baseline_name().unwrap_or_default());
    let mut s = format!("Δ <strong>{}</strong>", html::signed(delta));
    if let Some(ci) = html::interval(cell.delta_ci_low, cell.delta_ci_high, true) {
        s.push_str(&format!(" ({} {} {ci})", html::percent(c.ci_level()), named(cell)));
    }
    s.push_str(&format!(" against <code>{baseline}</code>"));
    match cell.p_adjusted {
        Some(p) => {
            let verdict = if cell.significant {
                format!("<strong class=\"sig\">significant</strong> at α = {}", c.settings.alpha)
            } else {
                format!("not significant at α = {}", c.settings.alpha)
            };
            s.push_str(&format!(
                "; adjusted p = {} ({}): {verdict}.",
                html::p_value(p),
                escape(c.settings.adjustment.name())
            ));
        }
        None => {
            let note = cell.note.as_deref().unwrap_or("no test");
            s.push_str(&format!("; no p-value ({}).", escape(note)));
        }
    }
    s
}

fn significance_counts(c: &Comparison, p: usize, col: &Column) -> Option<String> {
    let baseline = c.baseline_name()?;
    let tested: Vec<&Cell> = c
        .rows
        .iter()
        .filter(|r| c.row_name(r) != baseline)
        .filter_map(|r| r.cells.get(p)?.as_ref())
        .filter(|cell| cell.p_adjusted.is_some())
        .collect();
    let better = |cell: &&&Cell| {
        cell.significant && cell.delta.is_some_and(|d| (d > 0.0) == col.higher_is_better())
    };
    let up = tested.iter().filter(better).count();
    let down = tested.iter().filter(|cell| cell.significant).count() - up;
    Some(format!(
        "{} of {} tested variants differ significantly from the baseline: \
         <span class=\"up\">▲ {up} better</span>, <span class=\"down\">▼ {down} worse</span>.",
        up + down,
        tested.len()
    ))
}
