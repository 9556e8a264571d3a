//! Torch-side helpers shared by the device stages: devices, dataset tensors, augmentation,
//! checkpoints, prediction, GradCAM and the training step.
pub mod augment;
pub mod checkpoint;
pub mod device;
pub mod ensemble;
pub mod gradcam;
pub mod learner;
pub mod loss;
pub mod optim;
pub mod predict;
pub mod resume;
pub mod schedule;
pub mod shim;
pub mod step;
pub mod tensors;
pub mod weights;
