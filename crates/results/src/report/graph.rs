//! The stage graph, laid out left to right in Rust and drawn as SVG.
//!
//! A layered (Sugiyama-style) layout:
//! 1. layers by longest path from the sources (a stage sits one layer right of its deepest
//!    input);
//! 2. an edge spanning several layers runs through virtual points, one per layer crossed and
//!    shared by all edges of the same source, so that fan-outs travel as one trunk;
//! 3. order within layers by barycentre sweeps, keeping the order with the fewest crossings;
//! 4. vertical positions by alternating sweeps, each placing a layer as close as its order and
//!    spacing allow to the mean of its neighbours (isotonic regression, pool adjacent violators);
//! 5. boxes with the stage's name, its levels and kind; edges as cubic curves through the
//!    virtual points. Hovering a stage highlights its edges (CSS only).
use std::collections::HashMap;
use std::fmt::Write;

use super::html::{self, escape};
use super::{Graph, Node, Status};

const GAP_X: f64 = 84.0;
const GAP_Y: f64 = 12.0;
const GAP_VIRTUAL: f64 = 6.0;
const PAD: f64 = 16.0;
const MAX_WIDTH: f64 = 330.0;
const TITLE_CHAR: f64 = 8.0; // 12.5px bold sans (DejaVu Sans is wide)
const TAG_CHAR: f64 = 6.8; // 11px italic sans
const LEVEL_CHAR: f64 = 6.4; // 10.5px monospace is 6.3

/// The stage graph section.
pub(super) fn section(graph: &Graph) -> String {
    let title = "Stage graph";
    if graph.nodes.is_empty() {
        return html::section("graph", title, "", &html::empty("No stage graph recorded."));
    }
    let layout = layout(graph);
    let mut counts = String::new();
    for status in [Status::Ran, Status::Cached, Status::Failed, Status::Blocked, Status::Pending] {
        let n = layout.boxes.iter().filter(|b| b.node.status == status).count();
        if n > 0 {
            let _ = write!(
                counts,
                "<li><span class=\"chip\" style=\"background:{}\"></span>{} {n}</li>",
                status_colour(status),
                status_name(status)
            );
        }
    }
    let intro = format!(
        "{} stages, {} edges, inputs to the left. Colour: status in the latest run. \
         Hover a stage to highlight its inputs and consumers.",
        layout.boxes.len(),
        layout.edges.len()
    );
    let body = format!(
        "<ul class=\"status-legend\">{counts}</ul>\n<div class=\"graph-wrap\">{}</div>\n",
        draw(&layout)
    );
    html::section("graph", title, &intro, &body)
}

/// CSS highlighting the edges of a hovered stage.
pub(super) fn highlight_css(nodes: usize) -> String {
    let mut css = String::new();
    for i in 0..nodes {
        let _ = writeln!(
            css,
            "svg.dag:has(.n-{i}:hover) :is(.f-{i}, .t-{i}) {{ stroke: #1f2933; stroke-width: 2; }}"
        );
    }
    css
}

fn status_colour(status: Status) -> &'static str {
    match status {
        Status::Ran => "#0072B2",
        Status::Cached => "#009E73",
        Status::Failed => "#D55E00",
        Status::Blocked => "#E69F00",
        Status::Pending => "#9aa5b1",
    }
}

fn status_name(status: Status) -> &'static str {
    match status {
        Status::Ran => "ran",
        Status::Cached => "cached",
        Status::Failed => "failed",
        Status::Blocked => "blocked",
        Status::Pending => "not run",
    }
}

/// A placed stage: top-left corner, size and its text lines.
struct NodeBox<'a> {
    node: &'a Node,
    /// The node's index among the unique nodes: names its CSS class `n-<i>`.
    index: usize,
    x: f64,
    y: f64,
    w: f64,
    h: f64,
    title: String,
    tag: String,
    levels: Vec<String>,
}

struct EdgePath {
    from: usize,
    to: usize,
    tooltip: String,
    d: String,
}

struct Layout<'a> {
    boxes: Vec<NodeBox<'a>>,
    edges: Vec<EdgePath>,
    width: f64,
    height: f64,
}

/// A layout vertex: a stage (`real`) or a virtual point of long edges.
struct Vertex {
    layer: usize,
    real: Option<usize>,
    h: f64,
}

fn layout(graph: &Graph) -> Layout<'_> {
    // Unique nodes and valid, distinct edges.
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut nodes: Vec<&Node> = Vec::new();
    for node in &graph.nodes {
        if !index.contains_key(node.name.as_str()) {
            index.insert(&node.name, nodes.len());
            nodes.push(node);
        }
    }
    let mut edges: Vec<(usize, usize, Option<&str>)> = Vec::new();
    for e in &graph.edges {
        if let (Some(&u), Some(&v)) = (index.get(e.from.as_str()), index.get(e.to.as_str()))
            && u != v
            && !edges.iter().any(|(a, b, _)| (*a, *b) == (u, v))
        {
            edges.push((u, v, e.role.as_deref()));
        }
    }
    let n = nodes.len();
    let layer = longest_path_layers(n, &edges);
    let layers_count = layer.iter().max().map_or(0, |m| m + 1);

    // Texts and widths per layer.
    let texts: Vec<(String, String, Vec<String>)> = nodes.iter().map(|n| node_text(n)).collect();
    let mut layer_w = vec![120.0f64; layers_count];
    for (v, (title, tag, levels)) in texts.iter().enumerate() {
        let head = title.chars().count() as f64 * TITLE_CHAR
            + tag.chars().count() as f64 * TAG_CHAR
            + 40.0;
        let line = levels.join(",").chars().count() as f64 * LEVEL_CHAR + 22.0;
        layer_w[layer[v]] = layer_w[layer[v]].max(head).max(line.min(MAX_WIDTH));
    }
    let wrapped: Vec<Vec<String>> = texts
        .iter()
        .enumerate()
        .map(|(v, (_, _, levels))| wrap(levels, ((layer_w[layer[v]] - 22.0) / LEVEL_CHAR) as usize))
        .collect();

    // Vertices: stages, then virtual points shared per (source, layer).
    let mut vertices: Vec<Vertex> = (0..n)
        .map(|v| Vertex {
            layer: layer[v],
            real: Some(v),
            h: 38.0 + 13.0 * wrapped[v].len() as f64,
        })
        .collect();
    let mut virtual_of: HashMap<(usize, usize), usize> = HashMap::new();
    let mut chains: Vec<Vec<usize>> = Vec::new();
    for &(u, v, _) in &edges {
        let mut chain = vec![u];
        if layer[v] > layer[u] {
            for l in layer[u] + 1..layer[v] {
                let id = *virtual_of.entry((u, l)).or_insert_with(|| {
                    vertices.push(Vertex { layer: l, real: None, h: 0.0 });
                    vertices.len() - 1
                });
                chain.push(id);
            }
        }
        chain.push(v);
        chains.push(chain);
    }
    let mut preds: Vec<Vec<usize>> = vec![Vec::new(); vertices.len()];
    let mut succs: Vec<Vec<usize>> = vec![Vec::new(); vertices.len()];
    for chain in &chains {
        for pair in chain.windows(2) {
            let (a, b) = (pair[0], pair[1]);
            if vertices[b].layer == vertices[a].layer + 1 && !succs[a].contains(&b) {
                succs[a].push(b);
                preds[b].push(a);
            }
        }
    }
    let mut layers: Vec<Vec<usize>> = vec![Vec::new(); layers_count];
    for (id, vertex) in vertices.iter().enumerate() {
        layers[vertex.layer].push(id);
    }
    order(&mut layers, &preds, &succs);
    let y = place(&layers, &vertices, &preds, &succs);

    // Coordinates.
    let mut layer_x = vec![PAD; layers_count];
    for l in 1..layers_count {
        layer_x[l] = layer_x[l - 1] + layer_w[l - 1] + GAP_X;
    }
    let top = vertices.iter().zip(&y).map(|(v, y)| y - v.h / 2.0).fold(f64::INFINITY, f64::min);
    let shift = PAD - top;
    let mut boxes: Vec<NodeBox> = Vec::new();
    for (v, ((title, tag, _), levels)) in texts.into_iter().zip(wrapped).enumerate() {
        let (l, h) = (layer[v], vertices[v].h);
        boxes.push(NodeBox {
            node: nodes[v],
            index: v,
            x: layer_x[l],
            y: y[v] - h / 2.0 + shift,
            w: layer_w[l],
            h,
            title,
            tag,
            levels,
        });
    }
    let mut paths = Vec::new();
    for (chain, &(u, v, role)) in chains.iter().zip(&edges) {
        let mut points = vec![(layer_x[layer[u]] + layer_w[layer[u]], y[u] + shift)];
        for &d in &chain[1..chain.len() - 1] {
            let l = vertices[d].layer;
            points.push((layer_x[l], y[d] + shift));
            points.push((layer_x[l] + layer_w[l], y[d] + shift));
        }
        points.push((layer_x[layer[v]], y[v] + shift));
        let role = role.map(|r| format!(" (as {r})")).unwrap_or_default();
        paths.push(EdgePath {
            from: u,
            to: v,
            tooltip: format!("{} → {}{role}", nodes[u].name, nodes[v].name),
            d: curve(&points),
        });
    }
    let width = layer_x.last().zip(layer_w.last()).map_or(2.0 * PAD, |(x, w)| x + w + PAD);
    let height = boxes.iter().map(|b| b.y + b.h).fold(0.0, f64::max) + PAD;
    Layout { boxes, edges: paths, width, height }
}

/// Layer of each node: 0 for sources, else one more than its deepest input. Nodes on a cycle
/// (which validation rejects) are placed after everything else.
fn longest_path_layers(n: usize, edges: &[(usize, usize, Option<&str>)]) -> Vec<usize> {
    let mut indegree = vec![0usize; n];
    for &(_, v, _) in edges {
        indegree[v] += 1;
    }
    let mut layer = vec![0usize; n];
    let mut done = vec![false; n];
    let mut queue: Vec<usize> = (0..n).filter(|&v| indegree[v] == 0).collect();
    while let Some(u) = queue.pop() {
        done[u] = true;
        for &(a, v, _) in edges.iter().filter(|(a, _, _)| *a == u) {
            layer[v] = layer[v].max(layer[a] + 1);
            indegree[v] -= 1;
            if indegree[v] == 0 {
                queue.push(v);
            }
        }
    }
    let after = layer.iter().max().map_or(0, |m| m + 1);
    for v in (0..n).filter(|&v| !done[v]) {
        layer[v] = after;
    }
    layer
}

/// The name as title and levels (`train[model=resnet18,seed=0]`), and the kind (with a failed
/// or blocked status spelled out, not shown by colour alone).
fn node_text(node: &Node) -> (String, String, Vec<String>) {
    let (title, levels) = match node.name.split_once('[') {
        Some((t, rest)) if rest.ends_with(']') && !t.is_empty() => {
            (t.to_string(), rest[..rest.len() - 1].split(',').map(str::to_string).collect())
        }
        _ => (node.name.clone(), Vec::new()),
    };
    let tag = match node.status {
        Status::Failed | Status::Blocked => {
            format!("{} · {}", node.kind, status_name(node.status))
        }
        _ => node.kind.clone(),
    };
    (title, tag, levels)
}

/// Packs `level` tokens into lines of at most `width` characters, comma-separated.
fn wrap(levels: &[String], width: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    for (i, token) in levels.iter().enumerate() {
        let token = if i + 1 < levels.len() { format!("{token},") } else { token.clone() };
        match lines.last_mut() {
            Some(line) if line.chars().count() + token.chars().count() <= width => {
                line.push_str(&token)
            }
            _ => lines.push(token),
        }
    }
    lines
}

/// Orders each layer by barycentre sweeps (down, up, …), keeping the fewest crossings.
fn order(layers: &mut [Vec<usize>], preds: &[Vec<usize>], succs: &[Vec<usize>]) {
    let vertices = preds.len();
    let mut pos = vec![0.0f64; vertices];
    let index = |layers: &[Vec<usize>], pos: &mut [f64]| {
        for layer in layers {
            for (i, &v) in layer.iter().enumerate() {
                pos[v] = i as f64;
            }
        }
    };
    index(layers, &mut pos);
    let mut best = layers.to_vec();
    let mut best_crossings = crossings(layers, succs, &pos);
    for sweep in 0..24 {
        let down = sweep % 2 == 0;
        let count = layers.len();
        for step in 1..count {
            let l = if down { step } else { count - 1 - step };
            let neighbours = if down { preds } else { succs };
            let mut keyed: Vec<(f64, usize)> = layers[l]
                .iter()
                .map(|&v| {
                    let nb = &neighbours[v];
                    let key = if nb.is_empty() {
                        pos[v]
                    } else {
                        nb.iter().map(|&w| pos[w]).sum::<f64>() / nb.len() as f64
                    };
                    (key, v)
                })
                .collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
            layers[l] = keyed.into_iter().map(|(_, v)| v).collect();
            for (i, &v) in layers[l].iter().enumerate() {
                pos[v] = i as f64;
            }
        }
        let c = crossings(layers, succs, &pos);
        if c < best_crossings {
            best_crossings = c;
            best = layers.to_vec();
        }
        if c == 0 {
            break;
        }
    }
    layers.clone_from_slice(&best);
}

fn crossings(layers: &[Vec<usize>], succs: &[Vec<usize>], pos: &[f64]) -> usize {
    let mut total = 0;
    for layer in layers {
        let segments: Vec<(f64, f64)> =
            layer.iter().flat_map(|&a| succs[a].iter().map(move |&b| (pos[a], pos[b]))).collect();
        for (i, s) in segments.iter().enumerate() {
            for t in &segments[i + 1..] {
                if (s.0 - t.0) * (s.1 - t.1) < 0.0 {
                    total += 1;
                }
            }
        }
    }
    total
}

/// Vertical centres: stacked, then alternating sweeps pulling each vertex towards the mean of
/// its neighbours in the previous (down) or next (up) layer, and finally both.
fn place(
    layers: &[Vec<usize>],
    vertices: &[Vertex],
    preds: &[Vec<usize>],
    succs: &[Vec<usize>],
) -> Vec<f64> {
    let mut y = vec![0.0f64; vertices.len()];
    let offsets = |layer: &[usize]| -> Vec<f64> {
        let mut off = vec![0.0; layer.len()];
        for i in 1..layer.len() {
            let (a, b) = (&vertices[layer[i - 1]], &vertices[layer[i]]);
            let gap = if a.real.is_some() && b.real.is_some() { GAP_Y } else { GAP_VIRTUAL };
            off[i] = off[i - 1] + a.h / 2.0 + gap + b.h / 2.0;
        }
        off
    };
    let all_offsets: Vec<Vec<f64>> = layers.iter().map(|l| offsets(l)).collect();
    for (layer, off) in layers.iter().zip(&all_offsets) {
        for (&v, o) in layer.iter().zip(off) {
            y[v] = *o;
        }
    }
    let count = layers.len();
    for sweep in 0..40 {
        let both = sweep >= 36;
        let down = sweep % 2 == 0;
        for step in 0..count {
            let l = if down { step } else { count - 1 - step };
            let desired: Vec<f64> = layers[l]
                .iter()
                .map(|&v| {
                    let nb: Vec<usize> = match (both, down) {
                        (true, _) => preds[v].iter().chain(&succs[v]).copied().collect(),
                        (false, true) => preds[v].clone(),
                        (false, false) => succs[v].clone(),
                    };
                    if nb.is_empty() {
                        y[v]
                    } else {
                        nb.iter().map(|&w| y[w]).sum::<f64>() / nb.len() as f64
                    }
                })
                .collect();
            let placed = isotonic(&desired, &all_offsets[l]);
            for (&v, p) in layers[l].iter().zip(placed) {
                y[v] = p;
            }
        }
    }
    y
}

/// Positions closest (least squares) to `desired` keeping order and spacing: `y[i] − off[i]`
/// must not decrease. Pool adjacent violators on `desired − off`.
fn isotonic(desired: &[f64], off: &[f64]) -> Vec<f64> {
    let mut blocks: Vec<(f64, usize)> = Vec::new(); // (sum, count)
    for (d, o) in desired.iter().zip(off) {
        blocks.push((d - o, 1));
        while blocks.len() > 1 {
            let (s1, c1) = blocks[blocks.len() - 1];
            let (s0, c0) = blocks[blocks.len() - 2];
            if s0 / c0 as f64 <= s1 / c1 as f64 {
                break;
            }
            blocks.pop();
            *blocks.last_mut().expect("two blocks") = (s0 + s1, c0 + c1);
        }
    }
    let mut out = Vec::with_capacity(desired.len());
    for (sum, count) in blocks {
        for _ in 0..count {
            out.push(sum / count as f64 + off[out.len()]);
        }
    }
    out
}

/// An SVG path through the points: straight where a point pair is level inside a layer,
/// a horizontal-tangent cubic between layers.
fn curve(points: &[(f64, f64)]) -> String {
    let mut d = format!("M{:.1},{:.1}", points[0].0, points[0].1);
    for pair in points.windows(2) {
        let ((x0, y0), (x1, y1)) = (pair[0], pair[1]);
        if (y0 - y1).abs() < 0.05 {
            let _ = write!(d, "L{x1:.1},{y1:.1}");
        } else {
            let dx = (x1 - x0) / 2.0;
            let _ = write!(d, "C{:.1},{y0:.1} {:.1},{y1:.1} {x1:.1},{y1:.1}", x0 + dx, x1 - dx);
        }
    }
    d
}

fn draw(layout: &Layout) -> String {
    let mut out = format!(
        "<svg class=\"dag\" width=\"{w:.0}\" height=\"{h:.0}\" viewBox=\"0 0 {w:.0} {h:.0}\" \
         role=\"img\" aria-label=\"stage graph\">\n<defs>\
         <marker id=\"dag-arrow\" viewBox=\"0 0 8 8\" \
         refX=\"8\" refY=\"4\" markerWidth=\"7\" markerHeight=\"7\" orient=\"auto\">\
         <path d=\"M0,0L8,4L0,8z\" fill=\"#8a96a3\"/></marker></defs>\n<g class=\"edges\">\n",
        w = layout.width,
        h = layout.height
    );
    for e in &layout.edges {
        let _ = writeln!(
            out,
            "<path class=\"edge f-{} t-{}\" d=\"{}\" marker-end=\"url(#dag-arrow)\">\
             <title>{}</title></path>",
            e.from,
            e.to,
            e.d,
            escape(&e.tooltip)
        );
    }
    out.push_str("</g>\n<g class=\"nodes\">\n");
    for b in &layout.boxes {
        let colour = status_colour(b.node.status);
        let _ = write!(
            out,
            "<g class=\"node n-{}\" transform=\"translate({:.1} {:.1})\">\
             <title>{} · {} · {}</title>\
             <rect class=\"box\" width=\"{:.1}\" height=\"{:.1}\" rx=\"6\" \
             style=\"stroke:{colour}\"/>\
             <rect x=\"0.75\" y=\"0.75\" width=\"5\" height=\"{:.1}\" rx=\"2\" fill=\"{colour}\"/>\
             <text class=\"nt\" x=\"14\" y=\"19\">{}</text>\
             <text class=\"nk\" x=\"{:.1}\" y=\"19\" text-anchor=\"end\">{}</text>",
            b.index,
            b.x,
            b.y,
            escape(&b.node.name),
            escape(&b.node.kind),
            status_name(b.node.status),
            b.w,
            b.h,
            b.h - 1.5,
            escape(&b.title),
            b.w - 10.0,
            escape(&b.tag)
        );
        for (i, line) in b.levels.iter().enumerate() {
            let _ = write!(
                out,
                "<text class=\"nl\" x=\"14\" y=\"{:.1}\">{}</text>",
                35.0 + 13.0 * i as f64,
                escape(line)
            );
        }
        out.push_str("</g>\n");
    }
    out.push_str("</g>\n</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn isotonic_keeps_order_and_spacing() {
        let y = isotonic(&[10.0, 0.0, 50.0], &[0.0, 20.0, 40.0]);
        assert!(y[1] - y[0] >= 20.0 - 1e-9 && y[2] - y[1] >= 20.0 - 1e-9, "{y:?}");
        assert_eq!(y[2], 50.0);
    }

    /// A grid like `pipelines/paper.yaml` (171 stages): no two boxes overlap, edges end on boxes.
    #[test]
    fn large_grid_has_no_overlaps() {
        use super::super::Edge;
        let node =
            |name: String, kind: &str| Node { name, kind: kind.into(), status: Status::Cached };
        let mut g = Graph { nodes: vec![node("load".into(), "load")], edges: Vec::new() };
        let edge = |from: &str, to: &str| Edge { from: from.into(), to: to.into(), role: None };
        for m in 0..6 {
            let pre = format!("pretrain[model=m{m}]");
            g.nodes.push(node(pre.clone(), "train"));
            g.edges.push(edge("load", &pre));
            for t in 0..9 {
                for s in 0..3 {
                    let ft = format!("finetune[model=m{m},task={t},seed={s}]");
                    let ev = format!("evaluate[model=m{m},task={t},seed={s}]");
                    g.nodes.push(node(ft.clone(), "train"));
                    g.nodes.push(node(ev.clone(), "evaluate"));
                    g.edges.extend([edge(&pre, &ft), edge("load", &ft), edge(&ft, &ev)]);
                    g.edges.push(edge("load", &ev));
                }
            }
        }
        let layout = layout(&g);
        assert_eq!(layout.boxes.len(), 1 + 6 * 55);
        for (i, a) in layout.boxes.iter().enumerate() {
            assert!(a.x >= 0.0 && a.y >= 0.0 && a.x + a.w <= layout.width);
            for b in &layout.boxes[i + 1..] {
                let apart =
                    a.x + a.w <= b.x || b.x + b.w <= a.x || a.y + a.h <= b.y || b.y + b.h <= a.y;
                assert!(apart, "{} overlaps {}", a.node.name, b.node.name);
            }
        }
    }

    #[test]
    fn layers_by_longest_path() {
        let edges = [(0, 1, None), (1, 2, None), (0, 2, None), (3, 2, None)];
        assert_eq!(longest_path_layers(4, &edges), vec![0, 1, 2, 0]);
        assert_eq!(wrap(&["a=1".into(), "b=2".into(), "c=3".into()], 8), vec!["a=1,b=2,", "c=3"]);
    }
}
