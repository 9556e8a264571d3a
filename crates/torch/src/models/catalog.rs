//! What `ablate models` lists: every backbone and attention block with its parameter count,
//! counted on the built model (trainable parameters, no buffers) at the default configuration:
//! backbones without any classifier at their native 224² input, attention blocks on ResNet18's
//! 512-channel feature map.
use serde::Serialize;
use tch::nn::VarStore;

use super::attention::{Attention, AttentionKind};
use super::{Architecture, build_backbone};
use ablate_stages::backbone::BACKBONES;

const NATIVE_SIZE: i64 = 224;
const ATTENTION_CHANNELS: i64 = 512;

#[derive(Debug, Serialize)]
pub struct Entry {
    pub name: String,
    /// `backbone` or `attention`.
    pub kind: &'static str,
    pub params: i64,
    /// Channels of the feature map a backbone produces, or an attention block was counted on.
    pub channels: i64,
}

fn trainable(vs: &VarStore) -> i64 {
    vs.trainable_variables().iter().map(|t| t.numel() as i64).sum()
}

pub fn entries() -> anyhow::Result<Vec<Entry>> {
    let _guard = tch::no_grad_guard();
    let mut entries = Vec::new();
    for &name in BACKBONES {
        let vs = VarStore::new(tch::Device::Cpu);
        let backbone = build_backbone(&vs.root(), &Architecture::new(name), NATIVE_SIZE)?;
        entries.push(Entry {
            name: name.to_string(),
            kind: "backbone",
            params: trainable(&vs),
            channels: backbone.channels(),
        });
    }
    for (name, kind) in [("se", AttentionKind::Se), ("mha", AttentionKind::Mha)] {
        let vs = VarStore::new(tch::Device::Cpu);
        Attention::new(&vs.root(), kind, ATTENTION_CHANNELS, 16, 8)?;
        entries.push(Entry {
            name: name.to_string(),
            kind: "attention",
            params: trainable(&vs),
            channels: ATTENTION_CHANNELS,
        });
    }
    Ok(entries)
}

/// Prints the entries as a table, or as JSON with `json`.
pub fn print(json: bool) -> anyhow::Result<()> {
    let entries = entries()?;
    if json {
        println!("{}", serde_json::to_string_pretty(&entries)?);
        return Ok(());
    }
    println!("{:<32} {:<10} {:>12} {:>9}", "name", "kind", "params", "channels");
    for e in &entries {
        println!("{:<32} {:<10} {:>12} {:>9}", e.name, e.kind, e.params, e.channels);
    }
    Ok(())
}
