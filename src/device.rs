//! `--device auto|cpu|cuda[:N]`.
//!
//! Resolution needs no libtorch, so that planning and no-op runs stay fast: `auto` means every
//! GPU the NVIDIA driver exposes (`/dev/nvidiaN`), else the CPU. The worker process checks that
//! libtorch really sees the GPU before it uses it.
use anyhow::bail;

/// The device slots a run may use, e.g. `["cuda:0", "cuda:1"]` or `["cpu"]`.
pub fn resolve(spec: &str) -> anyhow::Result<Vec<String>> {
    let gpus = visible_gpus();
    Ok(match spec {
        "auto" if gpus > 0 => (0..gpus).map(|i| format!("cuda:{i}")).collect(),
        "auto" | "cpu" => vec!["cpu".into()],
        "cuda" if gpus > 0 => (0..gpus).map(|i| format!("cuda:{i}")).collect(),
        "cuda" => bail!("--device cuda: no NVIDIA GPU is visible (no /dev/nvidia0)"),
        _ => match spec.strip_prefix("cuda:").map(str::parse::<usize>) {
            Some(Ok(index)) => vec![format!("cuda:{index}")],
            _ => bail!("--device `{spec}`: expected auto, cpu, cuda or cuda:N"),
        },
    })
}

/// The device kind `spec` asks for, without needing a GPU here: a Slurm submission plans with
/// it, and `cuda` is resolved on the nodes its jobs run on (`auto` on this machine).
pub fn requested_kind(spec: &str) -> anyhow::Result<&'static str> {
    if spec == "cuda" {
        return Ok("cuda");
    }
    Ok(kind(&resolve(spec)?))
}

/// The device kind entering cache keys: results may differ between CPU and GPU kernels.
pub fn kind(devices: &[String]) -> &'static str {
    if devices.iter().any(|d| d.starts_with("cuda")) { "cuda" } else { "cpu" }
}

fn visible_gpus() -> usize {
    (0..64).take_while(|i| std::path::Path::new(&format!("/dev/nvidia{i}")).exists()).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_device_specs() {
        assert_eq!(resolve("cpu").unwrap(), ["cpu"]);
        assert_eq!(resolve("cuda:1").unwrap(), ["cuda:1"]);
        assert!(resolve("tpu").is_err());
        assert_eq!(kind(&["cuda:0".into()]), "cuda");
        assert_eq!(requested_kind("cuda").unwrap(), "cuda");
        assert_eq!(requested_kind("cuda:2").unwrap(), "cuda");
        assert_eq!(requested_kind("cpu").unwrap(), "cpu");
    }
}
