//! Torch-side helpers shared by the device stages: devices, dataset tensors, augmentation,
//! checkpoints and prediction.
pub mod augment;
pub mod checkpoint;
pub mod device;
pub mod loss;
pub mod optim;
pub mod predict;
pub mod resume;
pub mod shim;
pub mod tensors;
pub mod weights;
