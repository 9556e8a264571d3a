//! `--device auto|cpu|cuda|cuda:N[,M…]`.
//!
//! Resolution needs no libtorch, so that planning and no-op runs stay fast: `auto` means every
//! GPU the NVIDIA driver exposes (`/dev/nvidiaN`), as many as `CUDA_VISIBLE_DEVICES` lists
//! where it is set (a Slurm job's GPUs), else the CPU; `cuda:0,2` names GPUs as CUDA numbers
//! them. The worker process checks that libtorch really sees a GPU before it uses it.

/// The device slots a run may use, e.g. `["cuda:0", "cuda:1"]` or `["cpu"]`.
pub fn resolve(spec: &str) -> anyhow::Result<Vec<String>> {
    let gpus = visible_gpus();
    Ok(match spec {
        "auto" if gpus > 0 => (0..gpus).map(|i| format!("cuda:{i}")).collect(),
        "auto" | "cpu" => vec!["cpu".into()],
        "cuda" if gpus > 0 => (0..gpus).map(|i| format!("cuda:{i}")).collect(),
        "cuda" => {
            ablate_core::invalid!("--device cuda: no NVIDIA GPU is visible (no /dev/nvidia0)")
        }
        _ => match spec.strip_prefix("cuda:").map(gpu_list) {
            Some(Some(indices)) => indices.iter().map(|i| format!("cuda:{i}")).collect(),
            _ => ablate_core::invalid!(
                "--device `{spec}`: expected auto, cpu, cuda, cuda:N or cuda:N,M,… (distinct GPUs)"
            ),
        },
    })
}

/// `0,2` → `[0, 2]`; `None` unless every entry is a number and none repeats.
fn gpu_list(text: &str) -> Option<Vec<usize>> {
    let indices: Vec<usize> = text.split(',').map(|i| i.parse().ok()).collect::<Option<_>>()?;
    let distinct = indices.iter().enumerate().all(|(n, i)| !indices[..n].contains(i));
    distinct.then_some(indices)
}

/// The device kind `spec` asks for, without needing a GPU here: a Slurm submission plans with
/// it, and `cuda` is resolved on the nodes its jobs run on (`auto` on this machine).
pub fn requested_kind(spec: &str) -> anyhow::Result<&'static str> {
    if spec == "cuda" {
        return Ok("cuda");
    }
    Ok(ablate_core::scheduler::device_kind(&resolve(spec)?))
}

/// `--gpu-slots`: how many device stages run at once on each device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slots {
    Count(u32),
    /// From each GPU's free memory (see [`slots`]).
    Auto,
}

impl std::str::FromStr for Slots {
    type Err = String;

    fn from_str(text: &str) -> Result<Slots, String> {
        match text {
            "auto" => Ok(Slots::Auto),
            _ => match text.parse::<u32>() {
                Ok(n @ 1..=64) => Ok(Slots::Count(n)),
                _ => Err(format!("`{text}` is neither `auto` nor a number from 1 to 64")),
            },
        }
    }
}

/// Memory planned per slot by `--gpu-slots auto`: a heuristic with room for a batch-128 ViT-S
/// training beside its CUDA context, not a measurement of the stages to come.
const AUTO_SLOT_MIB: u64 = 6 * 1024;
/// At most this many slots per GPU under `auto`, and at most half the CPU cores: each worker
/// keeps a core busy launching kernels.
const AUTO_MAX_SLOTS: u64 = 8;

/// Every device repeated once per slot, e.g. `["cuda:0", "cuda:0"]`; with [`Slots::Auto`] a
/// GPU gets one slot per 6 GiB of its free memory (as `nvidia-smi` reports it), from 1 to 8 and
/// at most half the cores, and the CPU one slot; the choice is returned to be shown.
pub fn slots(devices: &[String], slots: Slots) -> (Vec<String>, Option<String>) {
    let count = |device: &str| -> (u64, Option<String>) {
        match (slots, device.strip_prefix("cuda:")) {
            (Slots::Count(n), _) => (u64::from(n), None),
            (Slots::Auto, None) => (1, None),
            (Slots::Auto, Some(index)) => {
                let cores = std::thread::available_parallelism().map_or(2, |n| n.get() as u64);
                match free_memory_mib(index) {
                    Some(free) => {
                        let n =
                            (free / AUTO_SLOT_MIB).clamp(1, AUTO_MAX_SLOTS.min((cores / 2).max(1)));
                        (
                            n,
                            Some(format!(
                                "{device}: {n} slots ({:.0} GiB free, {cores} cores)",
                                free as f64 / 1024.0
                            )),
                        )
                    }
                    None => {
                        (1, Some(format!("{device}: 1 slot (nvidia-smi reported no free memory)")))
                    }
                }
            }
        }
    };
    let mut expanded = Vec::new();
    let mut notes = Vec::new();
    for device in devices {
        let (n, note) = count(device);
        expanded.extend(std::iter::repeat_n(device.clone(), n as usize));
        notes.extend(note);
    }
    let note = (!notes.is_empty()).then(|| format!("--gpu-slots auto: {}", notes.join("; ")));
    (expanded, note)
}

fn free_memory_mib(index: &str) -> Option<u64> {
    let output = std::process::Command::new("nvidia-smi")
        .args(["--query-gpu=memory.free", "--format=csv,noheader,nounits", "-i", index])
        .output()
        .ok()?;
    String::from_utf8_lossy(&output.stdout).trim().parse().ok()
}

/// The GPUs the driver exposes, no more than `CUDA_VISIBLE_DEVICES` lists where it is set.
fn visible_gpus() -> usize {
    let exposed =
        (0..64).take_while(|i| std::path::Path::new(&format!("/dev/nvidia{i}")).exists()).count();
    match std::env::var("CUDA_VISIBLE_DEVICES") {
        Ok(list) if list.trim().is_empty() => 0,
        Ok(list) => exposed.min(list.split(',').count()),
        Err(_) => exposed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_device_specs() {
        assert_eq!(resolve("cpu").unwrap(), ["cpu"]);
        assert_eq!(resolve("cuda:1").unwrap(), ["cuda:1"]);
        assert_eq!(resolve("cuda:0,2").unwrap(), ["cuda:0", "cuda:2"]);
        assert!(resolve("cuda:0,0").is_err());
        assert!(resolve("cuda:0,").is_err());
        assert!(resolve("tpu").is_err());
        assert_eq!(ablate_core::scheduler::device_kind(&["cuda:0".into()]), "cuda");
        assert_eq!(requested_kind("cuda").unwrap(), "cuda");
        assert_eq!(requested_kind("cuda:2").unwrap(), "cuda");
        assert_eq!(requested_kind("cpu").unwrap(), "cpu");
    }

    #[test]
    fn slots_repeat_devices_and_auto_gives_the_cpu_one() {
        assert_eq!("auto".parse::<Slots>().unwrap(), Slots::Auto);
        assert!("0".parse::<Slots>().unwrap_err().contains("from 1 to 64"));
        let two = slots(&["cuda:0".into(), "cuda:1".into()], Slots::Count(2)).0;
        assert_eq!(two, ["cuda:0", "cuda:0", "cuda:1", "cuda:1"]);
        assert_eq!(slots(&["cpu".into()], Slots::Auto), (vec!["cpu".to_string()], None));
    }
}
