//! Safe wrappers over `shim.cpp`: the libtorch functions that tch does not expose (autocast
//! with a chosen dtype, channels-last, deterministic algorithms and TF32, fused Adam/AdamW, the
//! AMP gradient-scaler kernels, CUDA streams and graphs).
use std::ffi::CStr;
use std::os::raw::{c_char, c_int};

use tch::{Device, Tensor};

/// `at::Tensor*`, the pointer behind a tch `Tensor`.
type Handle = *mut std::ffi::c_void;

unsafe extern "C" {
    fn ablate_last_error() -> *const c_char;
    fn ablate_autocast_enter(
        cuda: c_int,
        half: c_int,
        previous_enabled: *mut c_int,
        previous_dtype: *mut c_int,
    ) -> c_int;
    fn ablate_autocast_exit(cuda: c_int, previous_enabled: c_int, previous_dtype: c_int) -> c_int;
    fn ablate_channels_last(tensor: Handle, out: *mut Handle) -> c_int;
    fn ablate_set_deterministic(on: c_int) -> c_int;
    fn ablate_set_tf32(on: c_int) -> c_int;
    fn ablate_side_stream_enter(device: c_int, previous: *mut Handle) -> c_int;
    fn ablate_side_stream_exit(previous: Handle) -> c_int;
    fn ablate_graph_begin(graph: *mut Handle) -> c_int;
    fn ablate_graph_end(graph: Handle) -> c_int;
    fn ablate_graph_replay(graph: Handle) -> c_int;
    fn ablate_graph_free(graph: Handle);
    fn ablate_clear_grads(params: *const Handle, n: usize) -> c_int;
    fn ablate_fused_adam(
        params: *const Handle,
        exp_avgs: *const Handle,
        exp_avg_sqs: *const Handle,
        steps: *const Handle,
        n: usize,
        lr: f64,
        beta1: f64,
        beta2: f64,
        weight_decay: f64,
        eps: f64,
        decoupled: c_int,
        found_inf: Handle,
    ) -> c_int;
    fn ablate_unscale_grads(
        params: *const Handle,
        n: usize,
        found_inf: Handle,
        inv_scale: Handle,
    ) -> c_int;
    fn ablate_update_scale(
        scale: Handle,
        growth_tracker: Handle,
        found_inf: Handle,
        growth: f64,
        backoff: f64,
        interval: i64,
    ) -> c_int;
}

fn check(code: c_int) -> anyhow::Result<()> {
    if code == 0 {
        return Ok(());
    }
    // SAFETY: the shim returns a pointer to its thread-local, NUL-terminated message.
    let message = unsafe { CStr::from_ptr(ablate_last_error()) };
    anyhow::bail!("libtorch: {}", message.to_string_lossy())
}

fn handle(tensor: &Tensor) -> Handle {
    tensor.as_ptr() as Handle
}

fn handles(tensors: &[Tensor]) -> Vec<Handle> {
    tensors.iter().map(handle).collect()
}

/// The reduced precision of automatic mixed precision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HalfKind {
    BFloat16,
    Float16,
}

/// Autocast on `device` while alive; the previous state comes back on drop.
pub struct Autocast {
    cuda: c_int,
    previous_enabled: c_int,
    previous_dtype: c_int,
}

impl Autocast {
    pub fn enter(device: Device, kind: HalfKind) -> anyhow::Result<Autocast> {
        let cuda = c_int::from(device.is_cuda());
        let (mut previous_enabled, mut previous_dtype) = (0, 0);
        // SAFETY: plain values and out-pointers to locals.
        check(unsafe {
            ablate_autocast_enter(
                cuda,
                c_int::from(kind == HalfKind::Float16),
                &mut previous_enabled,
                &mut previous_dtype,
            )
        })?;
        Ok(Autocast { cuda, previous_enabled, previous_dtype })
    }
}

impl Drop for Autocast {
    fn drop(&mut self) {
        // SAFETY: restores the state saved by `enter`.
        let _ = check(unsafe {
            ablate_autocast_exit(self.cuda, self.previous_enabled, self.previous_dtype)
        });
    }
}

/// The same values in channels-last (NHWC) memory order; other ranks come back unchanged.
pub fn channels_last(tensor: &Tensor) -> anyhow::Result<Tensor> {
    if tensor.dim() != 4 {
        return Ok(tensor.shallow_clone());
    }
    let mut out: Handle = std::ptr::null_mut();
    // SAFETY: `tensor` is a live handle; the shim allocates the result handle, which we own.
    check(unsafe { ablate_channels_last(handle(tensor), &mut out) })?;
    Ok(unsafe { Tensor::from_ptr(out as *mut _) })
}

/// PyTorch's `use_deterministic_algorithms(on)` with cuDNN deterministic and not benchmarking.
pub fn set_deterministic(on: bool) -> anyhow::Result<()> {
    // SAFETY: sets global flags.
    check(unsafe { ablate_set_deterministic(c_int::from(on)) })
}

/// Whether fp32 convolutions and matrix products may use TF32 on the GPU (libtorch's default:
/// convolutions yes, matrix products no); a parity check with fp32 references turns it off.
pub fn set_tf32(on: bool) -> anyhow::Result<()> {
    // SAFETY: sets global flags.
    check(unsafe { ablate_set_tf32(c_int::from(on)) })
}

/// Drops the parameters' gradients (set to none, as PyTorch's `zero_grad` does).
pub fn clear_grads(params: &[Tensor]) -> anyhow::Result<()> {
    let h = handles(params);
    // SAFETY: live handles, `n` matches.
    check(unsafe { ablate_clear_grads(h.as_ptr(), h.len()) })
}

/// Hyper-parameters of one Adam/AdamW step.
#[derive(Debug, Clone, Copy)]
pub struct AdamStep {
    pub lr: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub weight_decay: f64,
    pub eps: f64,
    /// AdamW: weight decay applied to the weights, not added to the gradient.
    pub decoupled: bool,
}

/// libtorch's fused Adam/AdamW kernel over every parameter at once; a non-zero `found_inf`
/// skips the step.
pub fn fused_adam(
    params: &[Tensor],
    exp_avgs: &[Tensor],
    exp_avg_sqs: &[Tensor],
    steps: &[Tensor],
    step: AdamStep,
    found_inf: Option<&Tensor>,
) -> anyhow::Result<()> {
    let n = params.len();
    assert!(
        exp_avgs.len() == n && exp_avg_sqs.len() == n && steps.len() == n,
        "one state per parameter"
    );
    let (p, m, v, s) = (handles(params), handles(exp_avgs), handles(exp_avg_sqs), handles(steps));
    let inf = found_inf.map_or(std::ptr::null_mut(), handle);
    // SAFETY: live handles, equal lengths checked above.
    check(unsafe {
        ablate_fused_adam(
            p.as_ptr(),
            m.as_ptr(),
            v.as_ptr(),
            s.as_ptr(),
            n,
            step.lr,
            step.beta1,
            step.beta2,
            step.weight_decay,
            step.eps,
            c_int::from(step.decoupled),
            inf,
        )
    })
}

/// Multiplies the parameters' gradients by `inv_scale`; sets `found_inf` to 1 if any is not finite.
pub fn unscale_grads(
    params: &[Tensor],
    found_inf: &Tensor,
    inv_scale: &Tensor,
) -> anyhow::Result<()> {
    let h = handles(params);
    // SAFETY: live handles.
    check(unsafe {
        ablate_unscale_grads(h.as_ptr(), h.len(), handle(found_inf), handle(inv_scale))
    })
}

/// GradScaler's update: back off after an overflow, grow after `interval` clean steps.
pub fn update_scale(
    scale: &Tensor,
    growth_tracker: &Tensor,
    found_inf: &Tensor,
    growth: f64,
    backoff: f64,
    interval: i64,
) -> anyhow::Result<()> {
    // SAFETY: live handles.
    check(unsafe {
        ablate_update_scale(
            handle(scale),
            handle(growth_tracker),
            handle(found_inf),
            growth,
            backoff,
            interval,
        )
    })
}

/// A pooled CUDA stream made current while alive (CUDA graphs need a non-default stream); the
/// previous stream comes back on drop. Entering and leaving wait for the device.
pub struct SideStream {
    previous: Handle,
}

impl SideStream {
    pub fn enter(device: Device) -> anyhow::Result<SideStream> {
        let Device::Cuda(index) = device else {
            anyhow::bail!("a CUDA stream needs a CUDA device, not {device:?}")
        };
        let mut previous: Handle = std::ptr::null_mut();
        // SAFETY: an out-pointer to a local; the shim allocates what it points to, freed on exit.
        check(unsafe { ablate_side_stream_enter(index as c_int, &mut previous) })?;
        Ok(SideStream { previous })
    }
}

impl Drop for SideStream {
    fn drop(&mut self) {
        // SAFETY: `previous` came from `ablate_side_stream_enter` and is freed here once.
        let _ = check(unsafe { ablate_side_stream_exit(self.previous) });
    }
}

/// A captured CUDA graph (libtorch's `CUDAGraph`): the kernels queued on the current stream
/// between [`Graph::capture`]'s start and end, replayed with one launch.
pub struct Graph {
    raw: Handle,
}

impl Graph {
    /// Captures what `work` queues on the current (side) stream; nothing runs until a replay.
    pub fn capture<T>(work: impl FnOnce() -> anyhow::Result<T>) -> anyhow::Result<(Graph, T)> {
        let mut raw: Handle = std::ptr::null_mut();
        // SAFETY: an out-pointer to a local.
        check(unsafe { ablate_graph_begin(&mut raw) })?;
        let graph = Graph { raw };
        let result = work();
        // SAFETY: a graph whose capture began above.
        let ended = check(unsafe { ablate_graph_end(graph.raw) });
        let value = result?;
        ended?;
        Ok((graph, value))
    }

    pub fn replay(&self) -> anyhow::Result<()> {
        // SAFETY: a captured graph.
        check(unsafe { ablate_graph_replay(self.raw) })
    }
}

impl Drop for Graph {
    fn drop(&mut self) {
        // SAFETY: owned, freed once.
        unsafe { ablate_graph_free(self.raw) }
    }
}
