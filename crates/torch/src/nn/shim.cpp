// libtorch functions that tch 0.24 does not expose: autocast with a chosen dtype on CPU or CUDA,
// channels-last memory format, deterministic algorithms and TF32, the fused Adam/AdamW kernels,
// the AMP gradient-scaler kernels, and CUDA streams and graphs (only when built against a CUDA
// libtorch: `ABLATE_CUDA`, set by build.rs). Tensors arrive as tch's handles (`at::Tensor*`). No C++
// exception crosses into Rust: every function returns 0, or 1 with the message in
// `ablate_last_error()`.
#include <ATen/ATen.h>
#include <ATen/Context.h>
#include <ATen/autocast_mode.h>
#ifdef ABLATE_CUDA
#include <ATen/cuda/CUDAGraph.h>
#include <c10/cuda/CUDAFunctions.h>
#include <c10/cuda/CUDAStream.h>
#endif

#include <memory>
#include <stdexcept>

#include <string>
#include <vector>

namespace {
thread_local std::string last_error;

template <typename F>
int guarded(F f) {
  try {
    f();
    return 0;
  } catch (const std::exception& e) {
    last_error = e.what();
    return 1;
  }
}

std::vector<at::Tensor> list(at::Tensor** tensors, size_t n) {
  std::vector<at::Tensor> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back(*tensors[i]);
  return out;
}

at::DeviceType device_type(int cuda) { return cuda ? at::kCUDA : at::kCPU; }
}  // namespace

extern "C" {

const char* ablate_last_error() { return last_error.c_str(); }

// Enables autocast to bf16 (`half` = 0) or fp16 (`half` = 1) on CPU or CUDA; the previous
// state is returned through `previous_*` for `ablate_autocast_exit`.
int ablate_autocast_enter(int cuda, int half, int* previous_enabled, int* previous_dtype) {
  return guarded([&] {
    auto type = device_type(cuda);
    *previous_enabled = at::autocast::is_autocast_enabled(type);
    *previous_dtype = static_cast<int>(at::autocast::get_autocast_dtype(type));
    at::autocast::set_autocast_dtype(type, half ? at::kHalf : at::kBFloat16);
    at::autocast::set_autocast_enabled(type, true);
    at::autocast::increment_nesting();
  });
}

int ablate_autocast_exit(int cuda, int previous_enabled, int previous_dtype) {
  return guarded([&] {
    auto type = device_type(cuda);
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    at::autocast::set_autocast_enabled(type, previous_enabled != 0);
    at::autocast::set_autocast_dtype(type, static_cast<at::ScalarType>(previous_dtype));
  });
}

int ablate_channels_last(at::Tensor* tensor, at::Tensor** out) {
  return guarded([&] { *out = new at::Tensor(tensor->contiguous(at::MemoryFormat::ChannelsLast)); });
}

int ablate_set_tf32(int on) {
  return guarded([&] {
    auto& context = at::globalContext();
    context.setAllowTF32CuDNN(on != 0);
    context.setAllowTF32CuBLAS(on != 0);
  });
}

int ablate_set_deterministic(int on) {
  return guarded([&] {
    auto& context = at::globalContext();
    context.setDeterministicAlgorithms(on != 0, false);
    context.setDeterministicCuDNN(on != 0);
    context.setBenchmarkCuDNN(on == 0);
  });
}

// Drops the gradients of `params` (PyTorch's `zero_grad(set_to_none=True)`).
int ablate_clear_grads(at::Tensor** params, size_t n) {
  return guarded([&] {
    for (size_t i = 0; i < n; ++i) params[i]->mutable_grad().reset();
  });
}

// One step of Adam (`decoupled` = 0) or AdamW (1) over all parameters at once, skipped by the
// kernel where `found_inf` (may be null) is non-zero. `steps` are float scalars on the device.
int ablate_fused_adam(at::Tensor** params, at::Tensor** exp_avgs, at::Tensor** exp_avg_sqs, at::Tensor** steps,
                      size_t n, double lr, double beta1, double beta2, double weight_decay, double eps,
                      int decoupled, at::Tensor* found_inf) {
  return guarded([&] {
    auto p = list(params, n);
    std::vector<at::Tensor> grads;
    grads.reserve(n);
    for (auto& t : p) grads.push_back(t.grad());
    std::optional<at::Tensor> inf;
    if (found_inf) inf = *found_inf;
    auto m = list(exp_avgs, n), v = list(exp_avg_sqs, n), s = list(steps, n);
    // As torch.optim's fused path: the kernel expects the step count already advanced, and a
    // skipped step (found_inf) takes it back.
    at::_foreach_add_(s, 1);
    if (decoupled) {
      at::_fused_adamw_(p, grads, m, v, {}, s, lr, beta1, beta2, weight_decay, eps, false, false, std::nullopt, inf);
    } else {
      at::_fused_adam_(p, grads, m, v, {}, s, lr, beta1, beta2, weight_decay, eps, false, false, std::nullopt, inf);
    }
    if (found_inf) at::_foreach_sub_(s, std::vector<at::Tensor>(n, *found_inf));
  });
}

// Multiplies the gradients of `params` by `inv_scale` and sets `found_inf` when any is not finite.
int ablate_unscale_grads(at::Tensor** params, size_t n, at::Tensor* found_inf, at::Tensor* inv_scale) {
  return guarded([&] {
    std::vector<at::Tensor> grads;
    for (size_t i = 0; i < n; ++i) grads.push_back(params[i]->grad());
    at::_amp_foreach_non_finite_check_and_unscale_(grads, *found_inf, *inv_scale);
  });
}

int ablate_update_scale(at::Tensor* scale, at::Tensor* growth_tracker, at::Tensor* found_inf, double growth,
                        double backoff, int64_t interval) {
  return guarded([&] { at::_amp_update_scale_(*scale, *growth_tracker, *found_inf, growth, backoff, interval); });
}

// Makes a pooled side stream of `device` current (CUDA graphs are captured on a non-default
// stream); `*previous` receives what `ablate_side_stream_exit` restores. Work queued before is
// finished first, so nothing on the side stream overtakes it.
int ablate_side_stream_enter(int device, void** previous) {
  return guarded([&] {
#ifdef ABLATE_CUDA
    auto index = static_cast<c10::DeviceIndex>(device);
    c10::cuda::device_synchronize();
    auto saved = std::make_unique<c10::cuda::CUDAStream>(c10::cuda::getCurrentCUDAStream(index));
    c10::cuda::setCurrentCUDAStream(c10::cuda::getStreamFromPool(false, index));
    *previous = saved.release();
#else
    (void)device;
    (void)previous;
    throw std::runtime_error("this build of ablate has no CUDA");
#endif
  });
}

int ablate_side_stream_exit(void* previous) {
  return guarded([&] {
#ifdef ABLATE_CUDA
    std::unique_ptr<c10::cuda::CUDAStream> saved(static_cast<c10::cuda::CUDAStream*>(previous));
    c10::cuda::device_synchronize();
    c10::cuda::setCurrentCUDAStream(*saved);
#else
    (void)previous;
#endif
  });
}

// Starts capturing the current stream's work into a new graph, returned through `*graph`.
int ablate_graph_begin(void** graph) {
  return guarded([&] {
#ifdef ABLATE_CUDA
    auto captured = std::make_unique<at::cuda::CUDAGraph>();
    captured->capture_begin();
    *graph = captured.release();
#else
    (void)graph;
    throw std::runtime_error("this build of ablate has no CUDA");
#endif
  });
}

int ablate_graph_end(void* graph) {
  return guarded([&] {
#ifdef ABLATE_CUDA
    static_cast<at::cuda::CUDAGraph*>(graph)->capture_end();
#else
    (void)graph;
#endif
  });
}

int ablate_graph_replay(void* graph) {
  return guarded([&] {
#ifdef ABLATE_CUDA
    static_cast<at::cuda::CUDAGraph*>(graph)->replay();
#else
    (void)graph;
#endif
  });
}

void ablate_graph_free(void* graph) {
#ifdef ABLATE_CUDA
  delete static_cast<at::cuda::CUDAGraph*>(graph);
#else
  (void)graph;
#endif
}

}
