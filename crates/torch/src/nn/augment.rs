//! Training augmentation on the device, batched: random horizontal and vertical flips
//! (p = 0.5 each) and a random rotation in ±`degrees` with nearest-neighbour sampling and black
//! fill, as the study's torchvision transforms. Works on [0, 1] images before normalisation, so
//! the fill is black in pixel space.
use tch::{Kind, Tensor};

#[derive(Debug, Clone, Copy)]
pub struct Augment {
    pub flips: bool,
    pub degrees: f64,
}

impl Augment {
    pub fn apply(&self, x: &Tensor) -> Tensor {
        let mut x = x.shallow_clone();
        if self.flips {
            x = random_flip(&x, 3);
            x = random_flip(&x, 2);
        }
        if self.degrees > 0.0 {
            x = random_rotation(&x, self.degrees);
        }
        x
    }
}

fn random_flip(x: &Tensor, dim: i64) -> Tensor {
    let batch = x.size()[0];
    let flip = Tensor::rand([batch, 1, 1, 1], (Kind::Float, x.device())).lt(0.5);
    x.flip([dim]).where_self(&flip, x)
}

fn random_rotation(x: &Tensor, degrees: f64) -> Tensor {
    let batch = x.size()[0];
    let angles =
        (Tensor::rand([batch], (Kind::Float, x.device())) * 2.0 - 1.0) * degrees.to_radians();
    let (cos, sin) = (angles.cos(), angles.sin());
    let zeros = Tensor::zeros([batch], (Kind::Float, x.device()));
    let theta = Tensor::stack(&[&cos, &(-&sin), &zeros, &sin, &cos, &zeros], 1).view([batch, 2, 3]);
    let grid = Tensor::affine_grid_generator(&theta, x.size(), false);
    const NEAREST: i64 = 1;
    const ZEROS: i64 = 0;
    x.grid_sampler(&grid, NEAREST, ZEROS, false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_rotation_is_identity_and_rotation_blackens_corners() {
        tch::manual_seed(0);
        let x = Tensor::ones([4, 3, 16, 16], (Kind::Float, tch::Device::Cpu));
        let same = Augment { flips: false, degrees: 0.0 }.apply(&x);
        assert!(same.equal(&x));
        let rotated = random_rotation(&x, 45.0);
        assert!(
            f64::try_from(rotated.sum(Kind::Float)).unwrap()
                < f64::try_from(x.sum(Kind::Float)).unwrap()
        );
    }

    #[test]
    fn flips_keep_pixel_values() {
        tch::manual_seed(1);
        let x = Tensor::arange(2 * 3 * 4 * 4, (Kind::Float, tch::Device::Cpu)).view([2, 3, 4, 4]);
        let flipped = Augment { flips: true, degrees: 0.0 }.apply(&x);
        assert!(flipped.sum(Kind::Float).equal(&x.sum(Kind::Float)));
    }
}
