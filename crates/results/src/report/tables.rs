//! The page's tables: the sortable comparison table, confusion counts per label and the
//! provenance of each variant (collapsible).
use std::fmt::Write;

use super::html::{self, Palette, escape};
use super::summary::levels_of;
use super::{Cell, Column, Comparison, Confusion, Environment, LabelCounts, Provenance};
use crate::significance::Interval;

/// The comparison table: factors, seeds, then per column mean [CI], Δ [CI] and adjusted p.
pub(super) fn comparison(c: &Comparison, palette: &Palette) -> String {
    let intro = "One row per variant, seeds pooled. Click a column header to sort.";
    if c.rows.is_empty() || (c.columns.is_empty() && c.factors.is_empty()) {
        return html::section(
            "comparison",
            "Comparison",
            "",
            &html::empty("No results to compare."),
        );
    }
    let several_pipelines = c.rows.iter().any(|r| r.pipeline != c.rows[0].pipeline);
    let mut head1 =
        String::from("<th rowspan=\"2\" class=\"sw\"><span class=\"sr\">colour</span></th>");
    let mut head2 = String::new();
    let mut col = 1;
    let mut sortable = |label: &str, first: &str, rowspan: bool, extra: &str| {
        let span = if rowspan { " rowspan=\"2\"" } else { "" };
        let th = format!(
            "<th{span} class=\"{extra}\" data-col=\"{col}\" data-first=\"{first}\" \
             aria-sort=\"none\">\
             <button type=\"button\">{label}</button></th>"
        );
        col += 1;
        th
    };
    if several_pipelines {
        head1.push_str(&sortable("pipeline", "asc", true, "text"));
    }
    for f in &c.factors {
        head1.push_str(&sortable(&escape(f), "asc", true, "text"));
    }
    head1.push_str(&sortable("seeds", "desc", true, "num"));
    for (i, column) in c.columns.iter().enumerate() {
        let primary = if c.primary == Some(i) { " primary" } else { "" };
        let title = if c.primary == Some(i) { " title=\"primary column\"" } else { "" };
        head1.push_str(&format!(
            "<th colspan=\"3\" class=\"group{primary}\"{title}>{}</th>",
            escape(&column.name)
        ));
        let best = if column.higher_is_better() { "desc" } else { "asc" };
        head2.push_str(&sortable("mean", best, false, "num group-start"));
        head2.push_str(&sortable("Δ", best, false, "num"));
        head2.push_str(&sortable("p adj.", "asc", false, "num"));
    }

    let mut body = String::new();
    let factor_levels: Vec<Vec<String>> = c.factors.iter().map(|f| levels_of(&c.rows, f)).collect();
    for row in &c.rows {
        let name = c.row_name(row);
        let is_base = c.baseline.as_ref().is_some_and(|b| b.is(row));
        let class = if is_base { " class=\"baseline\"" } else { "" };
        let _ = write!(
            body,
            "<tr{class} title=\"{}\"><td class=\"sw\">{}</td>",
            escape(&name),
            palette.swatch(&name)
        );
        if several_pipelines {
            let _ = write!(body, "<td>{}</td>", escape(&row.pipeline));
        }
        for (i, (f, levels)) in c.factors.iter().zip(&factor_levels).enumerate() {
            let (level, v) = level_cell(&row.levels, f, levels);
            let last = is_base && i + 1 == c.factors.len();
            let badge = if last { " <span class=\"badge\">baseline</span>" } else { "" };
            let _ = write!(body, "<td{v}>{}{badge}</td>", escape(level));
        }
        let seeds = row.seeds.len().max(row.n);
        let stale = if row.stale { " †" } else { "" };
        body.push_str(&format!(
            "<td class=\"num\" data-v=\"{seeds}\" title=\"seeds: {}; distinct results: \
             {}\">{seeds}{stale}</td>",
            escape(&row.seeds.join(", ")),
            row.n
        ));
        for (i, column) in c.columns.iter().enumerate() {
            body.push_str(&cells(row.cells.get(i).and_then(Option::as_ref), column, c, is_base));
        }
        body.push_str("</tr>\n");
    }
    let legend = legend(c);
    let notes: String = crate::format::stale_lines(c)
        .lines()
        .map(|n| format!("<p class=\"note\">{}</p>\n", escape(n)))
        .collect();
    let legend = legend + &notes;
    let table = format!(
        "<div class=\"table-wrap\"><table class=\"compare sortable\">\n<thead><tr>{head1}</tr>\n\
         <tr>{head2}</tr></thead>\n<tbody>\n{body}</tbody></table></div>\n{legend}"
    );
    html::section("comparison", "Comparison", intro, &table)
}

/// The three cells of one column: mean [CI], Δ [CI], adjusted p.
fn cells(cell: Option<&Cell>, column: &Column, c: &Comparison, is_base: bool) -> String {
    let Some(cell) = cell else {
        return "<td class=\"num missing group-start\">—</td><td class=\"num missing\">—</td>\
                <td class=\"num missing\">—</td>"
            .to_string();
    };
    let mut out = String::new();
    let sd = cell.std.map(|s| format!(" · sd {}", html::num(s))).unwrap_or_default();
    let t = cell.t.as_ref();
    let kept_t = c.settings.interval == Interval::Bootstrap && cell.interval == Interval::T;
    let ci = intervals(
        html::around(cell.mean, cell.ci_low, cell.ci_high, false),
        t.and_then(|t| html::around(cell.mean, t.ci_low, t.ci_high, false)),
        kept_t,
    );
    let _ = write!(
        out,
        "<td class=\"num group-start\" data-v=\"{}\" title=\"mean {}{sd} · n {}\">\
         <span class=\"m\">{}</span>{ci}</td>",
        html::sort_key(cell.mean),
        html::num(cell.mean),
        cell.n,
        html::num(cell.mean)
    );
    // Δ
    match cell.delta {
        _ if is_base => out.push_str("<td class=\"num ref\" data-v=\"0\">reference</td>"),
        Some(d) => {
            let better = (d > 0.0) == column.higher_is_better();
            let (class, mark, word) = match (cell.significant, better) {
                (true, true) => (" sig up", "▲ ", "significantly better"),
                (true, false) => (" sig down", "▼ ", "significantly worse"),
                _ => ("", "", "not significant"),
            };
            let ci = intervals(
                html::around(d, cell.delta_ci_low, cell.delta_ci_high, true),
                t.and_then(|t| html::around(d, t.delta_ci_low, t.delta_ci_high, true)),
                kept_t,
            );
            let _ = write!(
                out,
                "<td class=\"num{class}\" data-v=\"{}\" title=\"Δ {} ({word})\">\
                 <span class=\"m\"><span class=\"mark\">{mark}</span>{}</span>{ci}</td>",
                html::sort_key(d),
                html::signed(d),
                html::signed(d)
            );
        }
        None => out.push_str("<td class=\"num missing\">—</td>"),
    }
    // p
    match (cell.p_adjusted, &cell.note) {
        _ if is_base => out.push_str("<td class=\"num ref\"></td>"),
        (Some(p), _) => {
            let raw = cell.p_value.map(|p| format!("; unadjusted p = {}", html::p_value(p)));
            let test = cell.test.map_or("test".to_string(), |t| format!("{t} test"));
            let class = if cell.significant { " sig" } else { "" };
            let _ = write!(
                out,
                "<td class=\"num{class}\" data-v=\"{}\" title=\"{}{}; {}-adjusted p = {}\">{}</td>",
                html::sort_key(p),
                escape(&test),
                raw.unwrap_or_default(),
                escape(c.settings.adjustment.name()),
                html::p_value(p),
                html::p_value(p)
            );
        }
        (None, Some(note)) => {
            let _ = write!(out, "<td class=\"num note\">{}</td>", escape(note));
        }
        (None, None) => out.push_str("<td class=\"num missing\">—</td>"),
    }
    out
}

/// A cell's interval beneath its number and, where the bootstrap replaced it, the t-interval
/// beneath that, marked `t`; an interval that is the t-interval where the bootstrap was asked
/// for (`kept_t`: the cell could not be re-scored) is marked too.
fn intervals(shown: Option<String>, t: Option<String>, kept_t: bool) -> String {
    let (class, mark) = if kept_t { ("ci t", "t ") } else { ("ci", "") };
    let mut out =
        shown.map(|ci| format!("<span class=\"{class}\">{mark}{ci}</span>")).unwrap_or_default();
    if let Some(t) = t {
        let _ = write!(out, "<span class=\"ci t\">t {t}</span>");
    }
    out
}

/// What the intervals of the table are, one sentence each where both are shown.
fn intervals_legend(c: &Comparison) -> String {
    let level = html::percent(c.ci_level());
    let t = format!(
        "the {level} confidence interval of the mean over seeds (t, n − 1 degrees of freedom): how \
         much the mean would move with other seeds, measured on these same test images"
    );
    if c.settings.interval != Interval::Bootstrap {
        return format!(
            "Mean over seeds with the half-width of its {level} confidence interval beneath (or the interval, when it is not symmetric): {t}."
        );
    }
    format!(
        "Mean over seeds with two intervals beneath (the half-width, or the interval when it is \
         not symmetric). First, the {level} {}. Second, marked t, {t}; cells marked t alone could \
         not be re-scored from predictions.",
        escape(&crate::format::bootstrap_meaning(&c.settings))
    )
}

fn legend(c: &Comparison) -> String {
    let mut tests: Vec<String> = Vec::new();
    for cell in c.rows.iter().flat_map(|r| r.cells.iter().flatten()) {
        if let Some(t) = cell.test.map(|t| format!("{t} test"))
            && !tests.contains(&t)
        {
            tests.push(t);
        }
    }
    let mut text = intervals_legend(c);
    if let Some(b) = c.baseline_name() {
        let _ = write!(
            text,
            " Δ = variant mean − mean of the baseline <code>{}</code>, with its {} likewise. \
             <span class=\"up\">▲</span> / <span class=\"down\">▼</span>: \
             significantly better / \
             worse than the baseline (p adjusted by {} &lt; α = {}).",
            escape(&b),
            match c.settings.interval {
                Interval::Bootstrap => "two intervals".to_string(),
                Interval::T => format!("{} CI", html::percent(c.ci_level())),
            },
            escape(c.settings.adjustment.name()),
            c.settings.alpha
        );
        if !tests.is_empty() {
            let tests: Vec<String> = tests.iter().map(|t| escape(t)).collect();
            let _ = write!(
                text,
                " {}: {} (paired by seed where a variant ran the baseline's seeds).",
                if tests.len() == 1 { "Test" } else { "Tests" },
                tests.join(", ")
            );
        }
    } else {
        text.push_str(" No baseline was set, so Δ and p-values are not computed.");
    }
    format!("<p class=\"legend-note\">{text}</p>\n")
}

/// Confusion counts: per split one table, a column group per label. Variants that are rows of
/// the comparison table are shown by their levels, one column per factor.
pub(super) fn confusion(items: &[Confusion], c: &Comparison, palette: &Palette) -> String {
    let title = "Confusion counts";
    if items.is_empty() {
        return html::section(
            "confusion",
            title,
            "",
            &html::empty("No evaluation results with confusion counts."),
        );
    }
    let splits = dedup(items.iter().map(|i| i.split.clone()));
    let factor_levels: Vec<Vec<String>> = c.factors.iter().map(|f| levels_of(&c.rows, f)).collect();
    let mut out = String::new();
    for split in &splits {
        let group: Vec<&Confusion> = items.iter().filter(|i| &i.split == split).collect();
        let labels = dedup(group.iter().flat_map(|i| &i.labels).map(|l| l.label.clone()));
        let rows: Vec<Option<&super::Row>> =
            group.iter().map(|i| c.rows.iter().find(|r| c.row_name(r) == i.variant)).collect();
        let by_levels = !c.factors.is_empty() && rows.iter().all(Option::is_some);
        let thresholds = dedup(group.iter().map(|i| i.threshold.clone()));
        let _ = write!(
            out,
            "<h3><code>{}</code></h3>\n<p class=\"sub\">Counts summed over each variant's seeds \
             (one-vs-rest per label, threshold {}); precision and recall from the summed \
             counts.</p>\n",
            escape(split),
            escape(&thresholds.join(" / "))
        );
        let mut head1 = String::from("<th rowspan=\"2\" class=\"sw\"></th>");
        let mut col = 1;
        let mut sortable = |label: &str, first: &str, class: &str, rowspan: bool| {
            let span = if rowspan { " rowspan=\"2\"" } else { "" };
            let th = format!(
                "<th{span} class=\"{class}\" data-col=\"{col}\" data-first=\"{first}\" \
                 aria-sort=\"none\"><button type=\"button\">{label}</button></th>"
            );
            col += 1;
            th
        };
        if by_levels {
            for f in &c.factors {
                head1.push_str(&sortable(&escape(f), "asc", "text", true));
            }
        } else {
            head1.push_str(&sortable("variant", "asc", "text", true));
        }
        head1.push_str(&sortable("seeds", "desc", "num", true));
        let mut head2 = String::new();
        for label in &labels {
            let _ = write!(head1, "<th colspan=\"6\" class=\"group\">{}</th>", escape(label));
            for (i, name) in ["TP", "FP", "FN", "TN", "prec.", "recall"].iter().enumerate() {
                let class = if i == 0 { "num group-start" } else { "num" };
                head2.push_str(&sortable(name, "desc", class, false));
            }
        }
        let mut body = String::new();
        for (item, row) in group.iter().zip(&rows) {
            let _ = write!(
                body,
                "<tr title=\"{}\"><td class=\"sw\">{}</td>",
                escape(&item.variant),
                palette.swatch(&item.variant)
            );
            match row {
                Some(row) if by_levels => {
                    for (f, levels) in c.factors.iter().zip(&factor_levels) {
                        let (level, v) = level_cell(&row.levels, f, levels);
                        let _ = write!(body, "<td{v}>{}</td>", escape(level));
                    }
                }
                _ => {
                    let _ = write!(body, "<td>{}</td>", escape(&item.variant));
                }
            }
            let _ = write!(body, "<td class=\"num\" data-v=\"{0}\">{0}</td>", item.seeds);
            for label in &labels {
                body.push_str(&count_cells(item.labels.iter().find(|l| &l.label == label)));
            }
            body.push_str("</tr>\n");
        }
        let _ = write!(
            out,
            "<div class=\"table-wrap\"><table class=\"confusion sortable\">\n<thead>\
             <tr>{head1}</tr>\n\
             <tr>{head2}</tr></thead>\n<tbody>\n{body}</tbody></table></div>\n"
        );
    }
    let intro =
        "True and false positives and negatives per label: where each variant's errors are.";
    html::section("confusion", title, intro, &out)
}

/// A row's level of `factor` ("—" without one) and the cell attribute that sorts it in the
/// factor's declaration order (`levels`).
fn level_cell<'a>(
    row_levels: &'a [(String, String)],
    factor: &str,
    levels: &[String],
) -> (&'a str, String) {
    let level = row_levels.iter().find(|(x, _)| x == factor).map(|(_, l)| l.as_str());
    let order = level.and_then(|l| levels.iter().position(|x| x == l));
    (level.unwrap_or("—"), order.map(|o| format!(" data-v=\"{o}\"")).unwrap_or_default())
}

fn count_cells(counts: Option<&LabelCounts>) -> String {
    let Some(k) = counts else {
        return "<td class=\"num missing group-start\">—</td>".to_string()
            + &"<td class=\"num missing\">—</td>".repeat(5);
    };
    let ratio = |a: u64, b: u64| (b > 0).then(|| a as f64 / b as f64);
    let mut out = String::new();
    for (i, (v, class)) in
        [(k.tp, "tp"), (k.fp, "err"), (k.fn_, "err"), (k.tn, "tn")].into_iter().enumerate()
    {
        let start = if i == 0 { " group-start" } else { "" };
        let _ = write!(out, "<td class=\"num {class}{start}\" data-v=\"{v}\">{v}</td>");
    }
    for r in [ratio(k.tp, k.tp + k.fp), ratio(k.tp, k.tp + k.fn_)] {
        match r {
            Some(r) => {
                let (key, text) = (html::sort_key(r), html::num(r));
                let _ = write!(out, "<td class=\"num\" data-v=\"{key}\">{text}</td>");
            }
            None => out.push_str("<td class=\"num missing\">—</td>"),
        }
    }
    out
}

/// Distinct items in first-seen order.
fn dedup(items: impl Iterator<Item = String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for item in items {
        if !out.contains(&item) {
            out.push(item);
        }
    }
    out
}

/// Per variant a collapsed `<details>`: environment(s) and the stage instances with parameters.
pub(super) fn provenance(items: &[Provenance], palette: &Palette) -> String {
    let title = "Provenance";
    if items.is_empty() {
        return html::section("provenance", title, "", &html::empty("No provenance recorded."));
    }
    let mut out = String::new();
    for p in items {
        let env = p.environments.first().map(env_summary).unwrap_or_default();
        let _ = write!(
            out,
            "<details class=\"prov\"><summary>{} <span class=\"variant\">{}</span> \
             <span class=\"muted\">{} stage{}{env}</span></summary>\n<div class=\"prov-body\">\n",
            palette.swatch(&p.variant),
            escape(&p.variant),
            p.stages.len(),
            if p.stages.len() == 1 { "" } else { "s" }
        );
        out.push_str(&environments(&p.environments));
        out.push_str(&stages(p));
        out.push_str("</div></details>\n");
    }
    let intro =
        "What each variant's results were computed from and where. Click a variant to expand.";
    html::section("provenance", title, intro, &out)
}

fn env_summary(e: &Environment) -> String {
    let parts: Vec<String> =
        [&e.run.device_name, &e.run.ablate_version.as_ref().map(|v| format!("ablate {v}"))]
            .into_iter()
            .flatten()
            .map(|s| escape(s))
            .collect();
    if parts.is_empty() { String::new() } else { format!(" · {}", parts.join(" · ")) }
}

fn environments(envs: &[Environment]) -> String {
    if envs.is_empty() {
        return "<p class=\"empty\">No environment recorded.</p>\n".to_string();
    }
    let mut out = String::from(
        "<h4>Environment</h4>\n<div class=\"table-wrap\"><table class=\"plain\"><thead><tr>\
         <th>ablate</th>\
         <th>commit</th><th>libtorch</th><th>device</th><th>driver</th><th>host</th>\
         <th>pipeline source</th><th>when</th></tr></thead><tbody>\n",
    );
    for e in envs {
        out.push_str("<tr>");
        let r = &e.run;
        let source = r.pipeline_source.as_ref().map(|s| format!("git {}", s.describe()));
        for v in [
            &r.ablate_version,
            &r.ablate_commit,
            &r.libtorch,
            &r.device_name,
            &r.driver,
            &r.host,
            &source,
            &e.when,
        ] {
            let _ = write!(out, "<td>{}</td>", v.as_deref().map(escape).unwrap_or("—".into()));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
    out
}

fn stages(p: &Provenance) -> String {
    if p.stages.is_empty() {
        return "<p class=\"empty\">No stage instances recorded.</p>\n".to_string();
    }
    let mut out = String::from(
        "<h4>Stage instances</h4>\n<div class=\"table-wrap\"><table class=\"plain stages\">\
         <thead><tr>\
         <th>instance</th><th>kind</th><th>key</th><th>parameters</th></tr></thead><tbody>\n",
    );
    for s in &p.stages {
        let _ = writeln!(
            out,
            "<tr><td><code>{}</code></td><td>{}</td><td>\
             <code class=\"digest\" title=\"{}\">{}</code></td>\
             <td class=\"params\">{}</td></tr>",
            escape(&s.instance),
            escape(&s.kind),
            escape(&s.key),
            escape(&html::short(&s.key, 12)),
            params(&s.params)
        );
    }
    out.push_str("</tbody></table></div>\n");
    out
}

/// A JSON object as `key value` pairs; anything else as compact JSON.
fn params(value: &serde_json::Value) -> String {
    let compact = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match value {
        serde_json::Value::Object(map) if map.is_empty() => {
            "<span class=\"muted\">none</span>".into()
        }
        serde_json::Value::Object(map) => map
            .iter()
            .map(|(k, v)| {
                format!(
                    "<span class=\"kv\"><span class=\"k\">{}</span> {}</span>",
                    escape(k),
                    escape(&compact(v))
                )
            })
            .collect::<Vec<_>>()
            .join(" "),
        serde_json::Value::Null => "<span class=\"muted\">none</span>".into(),
        other => format!("<code>{}</code>", escape(&compact(other))),
    }
}
