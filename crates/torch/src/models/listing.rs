//! What `ablate models` lists: every backbone of the catalog and every attention block with its
//! parameter count, counted on the built model (trainable parameters, no buffers) at the
//! default configuration: backbones without any classifier at the input side their weights
//! were made for, attention blocks on ResNet18's 512-channel feature map.
use serde::Serialize;
use tch::nn::VarStore;

use super::attention::Attention;
use super::{Architecture, build_backbone};
use ablate_stages::catalog::{AttentionKind, BACKBONES};

const ATTENTION_CHANNELS: i64 = 512;

#[derive(Debug, Serialize)]
pub struct Listed {
    pub name: String,
    /// `backbone` or `attention`.
    pub kind: &'static str,
    pub params: i64,
    /// Channels of the feature map a backbone produces, or an attention block was counted on.
    pub channels: i64,
    /// A backbone's native input side (see `catalog`).
    pub native_size: Option<i64>,
    /// The library and model whose parameter names a backbone has.
    pub mirrors: Option<&'static str>,
}

fn trainable(vs: &VarStore) -> i64 {
    vs.trainable_variables().iter().map(|t| t.numel() as i64).sum()
}

pub fn entries() -> anyhow::Result<Vec<Listed>> {
    let _guard = tch::no_grad_guard();
    let mut entries = Vec::new();
    for info in BACKBONES {
        let vs = VarStore::new(tch::Device::Cpu);
        let backbone = build_backbone(&vs.root(), &Architecture::new(info.name), info.native_size)?;
        entries.push(Listed {
            name: info.name.to_string(),
            kind: "backbone",
            params: trainable(&vs),
            channels: backbone.channels(),
            native_size: Some(info.native_size),
            mirrors: Some(info.mirrors),
        });
    }
    for kind in [AttentionKind::Se, AttentionKind::Mha] {
        let vs = VarStore::new(tch::Device::Cpu);
        Attention::new(&vs.root(), kind, ATTENTION_CHANNELS, 16, 8)?;
        entries.push(Listed {
            name: kind.to_string(),
            kind: "attention",
            params: trainable(&vs),
            channels: ATTENTION_CHANNELS,
            native_size: None,
            mirrors: None,
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
    let row = |name: &str, kind: &str, params: &str, channels: &str, size: &str, mirrors: &str| {
        println!("{name:<30} {kind:<9} {params:>10} {channels:>8} {size:>6}  {mirrors}");
    };
    row("name", "kind", "params", "channels", "native", "names as");
    for e in &entries {
        let size = e.native_size.map(|s| s.to_string()).unwrap_or_default();
        let (params, channels) = (e.params.to_string(), e.channels.to_string());
        row(&e.name, e.kind, &params, &channels, &size, e.mirrors.unwrap_or(""));
    }
    Ok(())
}
