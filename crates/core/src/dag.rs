//! The stage graph: one node per stage, an edge from each upstream stage to its consumer.
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use petgraph::Direction;
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use super::diagnostic::Diagnostic;
use super::pipeline::Pipeline;

pub struct Dag {
    graph: DiGraph<String, ()>,
    order: Vec<NodeIndex>,
}

impl Dag {
    /// Builds the graph; a cycle is reported at the stage that closes it.
    pub fn new(pipeline: &Pipeline) -> Result<Dag, Diagnostic> {
        let mut graph = DiGraph::new();
        let nodes: Vec<NodeIndex> =
            pipeline.stages.iter().map(|s| graph.add_node(s.name.clone())).collect();
        let index: HashMap<&str, NodeIndex> =
            pipeline.stages.iter().map(|s| s.name.as_str()).zip(nodes.iter().copied()).collect();
        for (stage, &node) in pipeline.stages.iter().zip(&nodes) {
            for upstream in stage.inputs.values() {
                graph.add_edge(index[upstream.as_str()], node, ());
            }
        }
        let order = declaration_order(&graph).ok_or_else(|| {
            let cycle = tarjan_scc(&graph)
                .into_iter()
                .find(|scc| scc.len() > 1 || graph.contains_edge(scc[0], scc[0]))
                .expect("a graph without a topological order has a cycle");
            let mut names: Vec<&str> = cycle.iter().rev().map(|&n| graph[n].as_str()).collect();
            names.push(names[0]);
            let first = pipeline.stage(names[0]).expect("stage exists");
            Diagnostic::new(format!("stages form a cycle: {}", names.join(" → ")))
                .at(&first.location)
                .hint("a stage cannot depend, directly or indirectly, on its own output")
        })?;
        Ok(Dag { graph, order })
    }

    /// Stage names, each after all of its upstream stages.
    pub fn topological(&self) -> impl Iterator<Item = &str> {
        self.order.iter().map(|&n| self.graph[n].as_str())
    }

    pub fn edges(&self) -> impl Iterator<Item = (&str, &str)> {
        self.graph.edge_indices().map(|e| {
            let (a, b) = self.graph.edge_endpoints(e).expect("edge exists");
            (self.graph[a].as_str(), self.graph[b].as_str())
        })
    }

    /// Graphviz `dot` text.
    pub fn to_dot(&self, pipeline: &Pipeline) -> String {
        let q = dot_quoted;
        let mut out =
            format!("digraph {} {{\n  rankdir=LR;\n  node [shape=box];\n", q(&pipeline.name));
        for stage in &pipeline.stages {
            let label = format!("{}\n({})", stage.name, stage.kind);
            out.push_str(&format!("  {} [label={}];\n", q(&stage.name), q(&label)));
        }
        for (from, to) in self.edges() {
            out.push_str(&format!("  {} -> {};\n", q(from), q(to)));
        }
        out.push_str("}\n");
        out
    }

    /// Mermaid flowchart text.
    pub fn to_mermaid(&self, pipeline: &Pipeline) -> String {
        let mut out = String::from("flowchart LR\n");
        for (i, stage) in pipeline.stages.iter().enumerate() {
            let label = mermaid_text(&format!("{} ({})", stage.name, stage.kind));
            out.push_str(&format!("  s{i}[\"{label}\"]\n"));
        }
        let id =
            |name: &str| pipeline.stages.iter().position(|s| s.name == name).expect("stage exists");
        for (from, to) in self.edges() {
            out.push_str(&format!("  s{} --> s{}\n", id(from), id(to)));
        }
        out
    }
}

/// A DOT quoted string: quotes and backslashes escaped, a newline as DOT's `\n`.
fn dot_quoted(text: &str) -> String {
    let escaped = text.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n");
    format!("\"{escaped}\"")
}

/// Text inside a Mermaid quoted label: quotes as the `#quot;` entity.
fn mermaid_text(text: &str) -> String {
    text.replace('"', "#quot;")
}

/// Kahn's algorithm taking, of the stages ready, the one declared first: stages run and are
/// listed in the file's order (a grid's variants in declaration order) as far as their inputs
/// allow. `None` when there is a cycle.
fn declaration_order(graph: &DiGraph<String, ()>) -> Option<Vec<NodeIndex>> {
    let mut waiting: Vec<usize> = graph
        .node_indices()
        .map(|n| graph.neighbors_directed(n, Direction::Incoming).count())
        .collect();
    let mut ready: BinaryHeap<Reverse<NodeIndex>> =
        graph.node_indices().filter(|n| waiting[n.index()] == 0).map(Reverse).collect();
    let mut order = Vec::with_capacity(graph.node_count());
    while let Some(Reverse(node)) = ready.pop() {
        order.push(node);
        for next in graph.neighbors_directed(node, Direction::Outgoing) {
            waiting[next.index()] -= 1;
            if waiting[next.index()] == 0 {
                ready.push(Reverse(next));
            }
        }
    }
    (order.len() == graph.node_count()).then_some(order)
}
