//! Slot names (`cpu`, `cuda:N`) to libtorch devices.
use anyhow::bail;

/// The libtorch device for a slot name.
pub fn to_tch(name: &str) -> anyhow::Result<tch::Device> {
    if name == "cpu" {
        return Ok(tch::Device::Cpu);
    }
    let index: usize = name
        .strip_prefix("cuda:")
        .and_then(|i| i.parse().ok())
        .ok_or_else(|| anyhow::anyhow!("bad device `{name}`"))?;
    if !tch::Cuda::is_available() || index >= tch::Cuda::device_count() as usize {
        bail!(
            "device {name} requested but libtorch sees {} CUDA device(s)",
            tch::Cuda::device_count()
        );
    }
    Ok(tch::Device::Cuda(index))
}
