//! The convolutional variational autoencoder of the study's VAE augmentation (Task 4a,
//! reference-spec §5), with the reference's PyTorch parameter names.
//!
//! Encoder: four Conv(4, stride 2, padding 1) + ReLU layers, 3 → 32 → 64 → 128 → 256 channels,
//! each halving the side, so an S×S image becomes 256×(S/16)×(S/16) (16×16 at 256 px), flattened
//! into `fc_mu` and `fc_logvar`. Decoder: `fc_decode` back to 256×(S/16)×(S/16), four
//! ConvT(4, 2, 1) layers doubling the side (ReLU between, Sigmoid last) to a 3×S×S image in
//! [0, 1]. No normalisation layers. Sampling uses the reparameterisation z = μ + ε·exp(½·logvar),
//! ε ~ N(0, I), so the gradient flows through μ and logvar. [`loss`] is the reference's sum of
//! the squared reconstruction error and the KL divergence to N(0, I), summed over the batch.
use tch::nn::{self, Module};
use tch::{Kind, Tensor};

use super::layers::{Conv2d, ConvSpec, Padding, linear, pytorch_uniform};

/// Channels after each encoder layer (the decoder runs them backwards to 3).
const CHANNELS: [i64; 5] = [3, 32, 64, 128, 256];
const KERNEL: i64 = 4;
/// The encoder halves the side this many times.
const DOWNSAMPLING: usize = 4;

pub struct ConvVae {
    encoder: Vec<Conv2d>,
    fc_mu: nn::Linear,
    fc_logvar: nn::Linear,
    fc_decode: nn::Linear,
    decoder: Vec<nn::ConvTranspose2D>,
    latent_dim: i64,
    /// Side of the smallest feature map, image side / 16.
    bottleneck_side: i64,
}

impl ConvVae {
    /// A VAE for square images of side `image_size` (a multiple of 16) with PyTorch's default
    /// initialisation.
    pub fn new(path: &nn::Path, image_size: usize, latent_dim: i64) -> anyhow::Result<Self> {
        let factor = 1 << DOWNSAMPLING;
        if image_size == 0 || !image_size.is_multiple_of(factor) {
            anyhow::bail!(
                "the VAE needs an image side divisible by {factor}, but the images are {image_size} px"
            );
        }
        let bottleneck_side = (image_size / factor) as i64;
        let flat = CHANNELS[DOWNSAMPLING] * bottleneck_side * bottleneck_side;
        // Sequential indices as in the reference: a ReLU sits between consecutive layers.
        let encoder = (0..DOWNSAMPLING)
            .map(|i| {
                let spec = ConvSpec::new(CHANNELS[i], CHANNELS[i + 1], KERNEL)
                    .stride(2)
                    .padding(Padding::Symmetric(1))
                    .bias();
                Conv2d::pytorch_default(path / "encoder" / (2 * i), spec)
            })
            .collect();
        let decoder = (0..DOWNSAMPLING)
            .map(|i| {
                let (c_in, c_out) = (CHANNELS[DOWNSAMPLING - i], CHANNELS[DOWNSAMPLING - i - 1]);
                // PyTorch's fan-in of a transposed convolution counts its output channels.
                let init = pytorch_uniform(c_out * KERNEL * KERNEL);
                let config = nn::ConvTransposeConfig {
                    stride: 2,
                    padding: 1,
                    ws_init: init,
                    bs_init: init,
                    ..Default::default()
                };
                nn::conv_transpose2d(path / "decoder" / (2 * i), c_in, c_out, KERNEL, config)
            })
            .collect();
        Ok(ConvVae {
            encoder,
            fc_mu: linear(path / "fc_mu", flat, latent_dim),
            fc_logvar: linear(path / "fc_logvar", flat, latent_dim),
            fc_decode: linear(path / "fc_decode", latent_dim, flat),
            decoder,
            latent_dim,
            bottleneck_side,
        })
    }

    /// μ and logvar of the posterior of images in [0, 1], each B×latent.
    pub fn encode(&self, x: &Tensor) -> (Tensor, Tensor) {
        let h = self
            .encoder
            .iter()
            .fold(x.shallow_clone(), |h, conv| conv.forward(&h).relu())
            .flatten(1, -1);
        (self.fc_mu.forward(&h), self.fc_logvar.forward(&h))
    }

    /// Images in [0, 1], B×3×S×S, from latent codes B×latent.
    pub fn decode(&self, z: &Tensor) -> Tensor {
        let side = self.bottleneck_side;
        let h = self.fc_decode.forward(z).view([-1, CHANNELS[DOWNSAMPLING], side, side]);
        let last = self.decoder.len() - 1;
        self.decoder.iter().enumerate().fold(h, |h, (i, deconv)| {
            let h = deconv.forward(&h);
            if i == last { h.sigmoid() } else { h.relu() }
        })
    }

    /// Reconstruction, μ and logvar of a batch, through one reparameterised sample.
    pub fn forward(&self, x: &Tensor) -> (Tensor, Tensor, Tensor) {
        let (mu, logvar) = self.encode(x);
        let z = &mu + Tensor::randn_like(&mu) * (&logvar * 0.5).exp();
        (self.decode(&z), mu, logvar)
    }

    /// `n` images decoded from codes drawn from the prior N(0, I).
    pub fn sample(&self, n: i64) -> Tensor {
        let device = self.fc_decode.ws.device();
        self.decode(&Tensor::randn([n, self.latent_dim], (Kind::Float, device)))
    }
}

/// Σ (reconstruction − x)² − ½ Σ (1 + logvar − μ² − e^logvar), summed over the batch.
pub fn loss(reconstruction: &Tensor, x: &Tensor, mu: &Tensor, logvar: &Tensor) -> Tensor {
    let squared_error = reconstruction.mse_loss(x, tch::Reduction::Sum);
    let kl = (logvar + 1.0 - mu.square() - logvar.exp()).sum(Kind::Float) * -0.5;
    squared_error + kl
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;
    use tch::nn::VarStore;

    #[test]
    fn shapes_follow_the_image_size_and_names_are_the_references() {
        for size in [32, 64] {
            tch::manual_seed(0);
            let vs = VarStore::new(Device::Cpu);
            let vae = ConvVae::new(&vs.root(), size, 8).unwrap();
            let x = Tensor::rand([2, 3, size as i64, size as i64], (Kind::Float, Device::Cpu));
            let (reconstruction, mu, logvar) = vae.forward(&x);
            assert_eq!(reconstruction.size(), x.size());
            assert_eq!((mu.size(), logvar.size()), (vec![2, 8], vec![2, 8]));
            assert_eq!(vae.sample(3).size(), [3, 3, size as i64, size as i64]);
            let flat = 256 * (size as i64 / 16).pow(2);
            assert_eq!(vs.variables()["fc_mu.weight"].size(), [8, flat]);
            assert_eq!(vs.variables()["fc_decode.weight"].size(), [flat, 8]);
        }
        let vs = VarStore::new(Device::Cpu);
        ConvVae::new(&vs.root(), 16, 4).unwrap();
        let mut names: Vec<String> = vs.variables().into_keys().collect();
        names.sort();
        let expected = [
            "decoder.0.bias",
            "decoder.0.weight",
            "decoder.2.bias",
            "decoder.2.weight",
            "decoder.4.bias",
            "decoder.4.weight",
            "decoder.6.bias",
            "decoder.6.weight",
            "encoder.0.bias",
            "encoder.0.weight",
            "encoder.2.bias",
            "encoder.2.weight",
            "encoder.4.bias",
            "encoder.4.weight",
            "encoder.6.bias",
            "encoder.6.weight",
            "fc_decode.bias",
            "fc_decode.weight",
            "fc_logvar.bias",
            "fc_logvar.weight",
            "fc_mu.bias",
            "fc_mu.weight",
        ];
        assert_eq!(names, expected);
        assert_eq!(vs.variables()["decoder.0.weight"].size(), [256, 128, 4, 4]);
    }

    #[test]
    fn an_image_side_not_divisible_by_16_is_an_error() {
        let vs = VarStore::new(Device::Cpu);
        let error = ConvVae::new(&vs.root(), 40, 8).err().unwrap();
        assert!(error.to_string().contains("divisible by 16, but the images are 40 px"), "{error}");
    }

    #[test]
    fn loss_is_squared_error_plus_kl() {
        let x = Tensor::from_slice(&[0.0f32, 1.0]).view([1, 2]);
        let reconstruction = Tensor::from_slice(&[0.5f32, 0.5]).view([1, 2]);
        let mu = Tensor::from_slice(&[1.0f32]).view([1, 1]);
        let logvar = Tensor::from_slice(&[0.0f32]).view([1, 1]);
        // 0.25 + 0.25 + ½·μ² = 1.0
        let value = f64::try_from(loss(&reconstruction, &x, &mu, &logvar)).unwrap();
        assert!((value - 1.0).abs() < 1e-6, "{value}");
    }
}
