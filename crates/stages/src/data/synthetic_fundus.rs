//! Synthetic fundus photographs for the built-in demo dataset.
//!
//! Every image shows an orange-red retina inside a black frame, with an optic
//! disc on a random side, blood vessels arching out of it and a darker macula
//! near the centre. Each label adds one clearly visible sign: diabetic
//! retinopathy (D) scatters dark-red haemorrhages plus a few yellow exudates,
//! glaucoma (G) widens the pale cup inside a slightly larger, brighter optic
//! disc, and age-related macular degeneration (A) clusters yellow drusen around
//! the macula. All randomness comes from ChaCha8 streams derived from `seed`,
//! one stream per part of the picture, so the same arguments always give the
//! same pixels and switching one label on or off leaves the rest unchanged.

use image::RgbImage;
use rand::{RngExt, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// RGB with channels in `0.0..=1.0`.
type Color = [f32; 3];

/// Retina radius as a fraction of the image side; everything outside is black.
const RETINA_RADIUS: f32 = 0.47;

/// Paints one size×size fundus image. Same arguments → identical pixels.
/// labels = [D, G, A]: diabetic retinopathy, glaucoma, age-related macular degeneration.
pub fn paint_fundus(size: u32, labels: [bool; 3], seed: u64) -> image::RgbImage {
    let [retinopathy, glaucoma, macular_degeneration] = labels;
    let anatomy = Anatomy::sample(&mut part_rng(seed, Part::Anatomy));
    let mut canvas = Canvas::filled(size, anatomy.retina_color);
    paint_macula(&mut canvas, &anatomy);
    for vessel in &anatomy.vessels {
        paint_vessel(&mut canvas, vessel);
    }
    paint_optic_disc(&mut canvas, &anatomy, glaucoma);
    if retinopathy {
        paint_retinopathy(&mut canvas, &anatomy, &mut part_rng(seed, Part::Retinopathy));
    }
    if macular_degeneration {
        paint_drusen(&mut canvas, anatomy.macula, &mut part_rng(seed, Part::Drusen));
    }
    canvas.develop(&anatomy.lighting, &mut part_rng(seed, Part::Grain))
}

/// Independent random streams, so painting one part never shifts another.
#[derive(Clone, Copy)]
enum Part {
    Anatomy,
    Retinopathy,
    Drusen,
    Grain,
}

fn part_rng(seed: u64, part: Part) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(part as u64);
    rng
}

/// A position in image coordinates: the image spans `-0.5..0.5` on both axes,
/// y pointing down, so shapes scale with the requested size.
#[derive(Clone, Copy)]
struct Point {
    x: f32,
    y: f32,
}

impl Point {
    const CENTER: Point = Point { x: 0.0, y: 0.0 };

    fn offset(self, dx: f32, dy: f32) -> Point {
        Point { x: self.x + dx, y: self.y + dy }
    }

    fn distance(self, other: Point) -> f32 {
        (self.x - other.x).hypot(self.y - other.y)
    }
}

/// Everything that does not depend on the labels, drawn from one stream.
struct Anatomy {
    retina_color: Color,
    lighting: Lighting,
    /// +1 when the optic disc is on the right, -1 when on the left.
    disc_side: f32,
    disc_center: Point,
    disc_radius: f32,
    /// Where the cup-to-disc ratio falls within its (label-dependent) range.
    cup_quantile: f32,
    macula: Point,
    vessels: Vec<Vessel>,
}

impl Anatomy {
    fn sample(rng: &mut ChaCha8Rng) -> Anatomy {
        let brightness = rng.random_range(0.8..1.05);
        let retina_color = [
            brightness * rng.random_range(0.82..0.95),
            brightness * rng.random_range(0.28..0.45),
            brightness * rng.random_range(0.08..0.18),
        ];
        let lighting = Lighting::sample(rng);
        let disc_side = if rng.random_bool(0.5) { 1.0 } else { -1.0 };
        let disc_center =
            Point { x: disc_side * rng.random_range(0.25..0.3), y: rng.random_range(-0.04..0.04) };
        let macula = Point {
            x: -disc_side * rng.random_range(0.03..0.07),
            y: disc_center.y * 0.3 + rng.random_range(-0.01..0.04),
        };
        Anatomy {
            retina_color,
            lighting,
            disc_side,
            disc_center,
            disc_radius: rng.random_range(0.08..0.095),
            cup_quantile: rng.random_range(0.0..1.0),
            macula,
            vessels: sample_vessels(rng, disc_center, disc_side, retina_color),
        }
    }
}

/// Illumination applied when the picture is developed: an off-centre
/// vignette and faint uneven bands across the retina.
struct Lighting {
    center: Point,
    vignette: f32,
    bands: [Wave; 4],
}

/// A cosine across the image along one axis.
struct Wave {
    along_x: bool,
    cycles: f32,
    phase: f32,
    amplitude: f32,
}

impl Lighting {
    fn sample(rng: &mut ChaCha8Rng) -> Lighting {
        Lighting {
            center: Point { x: rng.random_range(-0.05..0.05), y: rng.random_range(-0.05..0.05) },
            vignette: rng.random_range(0.35..0.6),
            bands: std::array::from_fn(|index| Wave {
                along_x: index % 2 == 0,
                cycles: rng.random_range(1.5..5.0),
                phase: rng.random_range(0.0..std::f32::consts::TAU),
                amplitude: rng.random_range(0.01..0.04),
            }),
        }
    }

    /// Brightness change of `bands` along one axis, one value per pixel.
    fn band_profile(&self, along_x: bool, size: u32) -> Vec<f32> {
        (0..size)
            .map(|index| {
                let t = (index as f32 + 0.5) / size as f32;
                self.bands
                    .iter()
                    .filter(|wave| wave.along_x == along_x)
                    .map(|wave| {
                        wave.amplitude
                            * (std::f32::consts::TAU * wave.cycles * t + wave.phase).cos()
                    })
                    .sum()
            })
            .collect()
    }

    fn vignette_at(&self, point: Point) -> f32 {
        let reach = (point.distance(self.center) / RETINA_RADIUS).min(1.2);
        1.0 - self.vignette * reach * reach * reach
    }
}

/// A tapering blood vessel, as a polyline from the optic disc outwards.
struct Vessel {
    points: Vec<Point>,
    start_half_width: f32,
    end_half_width: f32,
    color: Color,
}

impl Vessel {
    fn half_width_at(&self, index: usize) -> f32 {
        let t = index as f32 / (self.points.len() - 1) as f32;
        self.start_half_width + (self.end_half_width - self.start_half_width) * t
    }
}

/// How a vessel leaves the disc, with angles in degrees for a disc on the
/// right (0° points away from the macula, 90° points down).
struct VesselCourse {
    heading: f32,
    turn: f32,
    length: f32,
    half_width: f32,
}

/// The four main arcades (two curving around the macula, two short nasal
/// ones), each with one side branch, plus two small vessels toward the macula.
fn sample_vessels(rng: &mut ChaCha8Rng, disc: Point, side: f32, retina: Color) -> Vec<Vessel> {
    let arcades = [
        VesselCourse { heading: -115.0, turn: -65.0, length: 0.48, half_width: 0.012 },
        VesselCourse { heading: 115.0, turn: 65.0, length: 0.48, half_width: 0.012 },
        VesselCourse { heading: -55.0, turn: 25.0, length: 0.24, half_width: 0.009 },
        VesselCourse { heading: 55.0, turn: -25.0, length: 0.24, half_width: 0.009 },
    ];
    let mut vessels = Vec::new();
    for course in arcades {
        let course = jitter_course(rng, course);
        let arcade = walk_vessel(rng, disc, side, &course, retina);
        let segments = arcade.points.len() - 1;
        let fork = rng.random_range(segments / 4..segments * 3 / 4);
        let fork_heading = local_heading(&arcade.points, fork, side);
        let branch = VesselCourse {
            heading: fork_heading + rng.random_range(25.0..45.0) * random_sign(rng),
            turn: rng.random_range(-30.0..30.0),
            length: rng.random_range(0.1..0.2),
            half_width: arcade.half_width_at(fork) * 0.7,
        };
        vessels.push(walk_vessel(rng, arcade.points[fork], side, &branch, retina));
        vessels.push(arcade);
    }
    for vertical in [-1.0, 1.0] {
        let macular = VesselCourse {
            heading: vertical * rng.random_range(150.0..170.0),
            turn: vertical * rng.random_range(-20.0..10.0),
            length: rng.random_range(0.12..0.18),
            half_width: 0.005,
        };
        vessels.push(walk_vessel(rng, disc, side, &macular, retina));
    }
    vessels
}

fn jitter_course(rng: &mut ChaCha8Rng, course: VesselCourse) -> VesselCourse {
    VesselCourse {
        heading: course.heading + rng.random_range(-12.0..12.0),
        turn: course.turn + rng.random_range(-15.0..15.0),
        length: course.length * rng.random_range(0.85..1.1),
        half_width: course.half_width * rng.random_range(0.85..1.15),
    }
}

fn random_sign(rng: &mut ChaCha8Rng) -> f32 {
    if rng.random_bool(0.5) { 1.0 } else { -1.0 }
}

/// Heading (degrees, disc-on-the-right convention) of the segment after `index`.
fn local_heading(points: &[Point], index: usize, side: f32) -> f32 {
    let (from, to) = (points[index], points[index + 1]);
    (to.y - from.y).atan2(side * (to.x - from.x)).to_degrees()
}

fn walk_vessel(
    rng: &mut ChaCha8Rng,
    start: Point,
    side: f32,
    course: &VesselCourse,
    retina: Color,
) -> Vessel {
    const SEGMENTS: usize = 16;
    let step = course.length / SEGMENTS as f32;
    let mut heading = course.heading;
    let mut points = vec![start];
    for _ in 0..SEGMENTS {
        let (sin, cos) = heading.to_radians().sin_cos();
        let last = points[points.len() - 1];
        points.push(last.offset(side * cos * step, sin * step));
        heading += course.turn / SEGMENTS as f32 + rng.random_range(-5.0..5.0);
    }
    let darkness = rng.random_range(0.5..0.7);
    Vessel {
        points,
        start_half_width: course.half_width,
        end_half_width: course.half_width * 0.35,
        color: tinted(retina, [darkness, 0.45 * darkness, 0.65 * darkness]),
    }
}

fn tinted(color: Color, factors: Color) -> Color {
    std::array::from_fn(|channel| color[channel] * factors[channel])
}

fn paint_macula(canvas: &mut Canvas, anatomy: &Anatomy) {
    let radius = 0.1;
    let shadow = tinted(anatomy.retina_color, [0.6, 0.45, 0.5]);
    canvas.blend(anatomy.macula, radius, shadow, |point| {
        0.5 * bump(point.distance(anatomy.macula) / radius)
    });
}

fn paint_vessel(canvas: &mut Canvas, vessel: &Vessel) {
    let pixel = canvas.pixel_width();
    for (index, segment) in vessel.points.windows(2).enumerate() {
        let (start, end) = (segment[0], segment[1]);
        let (start_width, end_width) =
            (vessel.half_width_at(index), vessel.half_width_at(index + 1));
        let middle = Point { x: (start.x + end.x) / 2.0, y: (start.y + end.y) / 2.0 };
        let reach = start.distance(end) / 2.0 + start_width;
        canvas.blend(middle, reach, vessel.color, |point| {
            let (distance, t) = distance_to_segment(point, start, end);
            let half_width = start_width + (end_width - start_width) * t;
            solid_edge(distance - half_width, pixel)
        });
    }
}

fn paint_optic_disc(canvas: &mut Canvas, anatomy: &Anatomy, glaucoma: bool) {
    let (radius, cup_ratios, rim_color) = if glaucoma {
        (anatomy.disc_radius * 1.12, 0.7..0.85, [1.0, 0.82, 0.52])
    } else {
        (anatomy.disc_radius, 0.25..0.4, [0.97, 0.74, 0.42])
    };
    let cup_ratio = cup_ratios.start + (cup_ratios.end - cup_ratios.start) * anatomy.cup_quantile;
    let center = anatomy.disc_center;
    let halo = tinted(rim_color, [1.0, 0.75, 0.6]);
    canvas.blend(center, 1.7 * radius, halo, |point| {
        0.35 * bump(point.distance(center) / (1.7 * radius))
    });
    paint_ellipse(canvas, center, radius, 0.92, rim_color);
    let cup_center = center.offset(-anatomy.disc_side * 0.1 * radius * (1.0 - cup_ratio), 0.0);
    paint_ellipse(canvas, cup_center, radius * cup_ratio, 1.0, [1.0, 0.96, 0.86]);
}

/// A slightly tall ellipse with a soft rim, as optic discs and cups look.
fn paint_ellipse(canvas: &mut Canvas, center: Point, radius: f32, opacity: f32, color: Color) {
    let (radius_x, radius_y) = (radius * 0.93, radius * 1.07);
    let feather = canvas.feather(0.25 * radius);
    canvas.blend(center, radius_y + feather, color, |point| {
        let scaled = ((point.x - center.x) / radius_x).hypot((point.y - center.y) / radius_y);
        opacity * solid_edge((scaled - 1.0) * radius, feather)
    });
}

/// Dark-red dot and blot haemorrhages anywhere on the retina, plus a few
/// small yellow hard exudates.
fn paint_retinopathy(canvas: &mut Canvas, anatomy: &Anatomy, rng: &mut ChaCha8Rng) {
    for _ in 0..rng.random_range(6..=20) {
        let center = point_away_from_disc(rng, anatomy);
        let radius = rng.random_range(0.016..0.035);
        let darkness = rng.random_range(0.38..0.55);
        let color = tinted(anatomy.retina_color, [darkness, 0.3 * darkness, 0.6 * darkness]);
        for lobe in 0..rng.random_range(1..=3) {
            let (lobe_center, lobe_radius) = if lobe == 0 {
                (center, radius)
            } else {
                let spread = 0.7 * radius;
                let offset = center
                    .offset(rng.random_range(-spread..spread), rng.random_range(-spread..spread));
                (offset, radius * rng.random_range(0.5..0.8))
            };
            paint_spot(canvas, lobe_center, lobe_radius, 0.15, 0.95, color);
        }
    }
    for _ in 0..rng.random_range(0..=4) {
        let center = point_away_from_disc(rng, anatomy);
        let radius = rng.random_range(0.01..0.016);
        paint_spot(canvas, center, radius, 0.3, 0.95, [1.0, 0.94, 0.62]);
    }
}

fn point_away_from_disc(rng: &mut ChaCha8Rng, anatomy: &Anatomy) -> Point {
    loop {
        let point = random_point_within(rng, Point::CENTER, 0.4);
        if point.distance(anatomy.disc_center) > 1.8 * anatomy.disc_radius {
            return point;
        }
    }
}

/// Soft yellow drusen clustered around the macula.
fn paint_drusen(canvas: &mut Canvas, macula: Point, rng: &mut ChaCha8Rng) {
    for _ in 0..rng.random_range(5..=15) {
        let center = random_point_within(rng, macula, 0.12);
        let radius = rng.random_range(0.015..0.03);
        let color = [
            rng.random_range(0.95..1.0),
            rng.random_range(0.82..0.92),
            rng.random_range(0.38..0.52),
        ];
        paint_spot(canvas, center, radius, 0.45, 0.9, color);
    }
}

/// Uniformly distributed over the disc of `radius` around `center`.
fn random_point_within(rng: &mut ChaCha8Rng, center: Point, radius: f32) -> Point {
    let distance = radius * rng.random_range(0.0f32..1.0).sqrt();
    let (sin, cos) = rng.random_range(0.0..std::f32::consts::TAU).sin_cos();
    center.offset(distance * cos, distance * sin)
}

/// A round spot whose edge fades over `softness` of its radius.
fn paint_spot(
    canvas: &mut Canvas,
    center: Point,
    radius: f32,
    softness: f32,
    opacity: f32,
    color: Color,
) {
    let feather = canvas.feather(softness * radius);
    canvas.blend(center, radius + feather, color, |point| {
        opacity * solid_edge(point.distance(center) - radius, feather)
    });
}

/// Coverage of a shape at signed distance `distance` from its edge (negative
/// inside), fading linearly across `feather`.
fn solid_edge(distance: f32, feather: f32) -> f32 {
    (0.5 - distance / feather).clamp(0.0, 1.0)
}

/// Smooth hill: 1 at the centre, 0 from `normalized_distance` 1 on.
fn bump(normalized_distance: f32) -> f32 {
    let falloff = (1.0 - normalized_distance * normalized_distance).max(0.0);
    falloff * falloff
}

/// Distance from `point` to the segment `start..end`, and where along it
/// (0 at `start`, 1 at `end`) the closest point lies.
fn distance_to_segment(point: Point, start: Point, end: Point) -> (f32, f32) {
    let (dx, dy) = (end.x - start.x, end.y - start.y);
    let length_squared = (dx * dx + dy * dy).max(f32::EPSILON);
    let t =
        (((point.x - start.x) * dx + (point.y - start.y) * dy) / length_squared).clamp(0.0, 1.0);
    (point.distance(start.offset(t * dx, t * dy)), t)
}

/// Floating-point picture that shapes are blended into.
struct Canvas {
    size: u32,
    pixels: Vec<Color>,
}

impl Canvas {
    fn filled(size: u32, color: Color) -> Canvas {
        Canvas { size, pixels: vec![color; (size * size) as usize] }
    }

    fn pixel_width(&self) -> f32 {
        1.0 / self.size as f32
    }

    /// Edge width for a soft shape, at least one pixel so edges stay anti-aliased.
    fn feather(&self, width: f32) -> f32 {
        width.max(self.pixel_width())
    }

    fn pixel_center(&self, column: u32, row: u32) -> Point {
        let pixel = self.pixel_width();
        Point { x: (column as f32 + 0.5) * pixel - 0.5, y: (row as f32 + 0.5) * pixel - 0.5 }
    }

    /// Pixel indices covering `center ± reach` along one axis, clipped to the image.
    fn pixel_range(&self, center: f32, reach: f32) -> std::ops::Range<u32> {
        let to_pixel = |position: f32| (position + 0.5) * self.size as f32;
        // Float-to-int casts saturate, so shapes beyond the border give empty ranges.
        let first = to_pixel(center - reach).floor() as u32;
        let end = (to_pixel(center + reach).ceil() as u32).saturating_add(1);
        first..end.min(self.size)
    }

    /// Blends `color` over every pixel within `reach` of `center` (a square),
    /// weighted by `coverage` (0 keeps the pixel, 1 replaces it).
    fn blend(&mut self, center: Point, reach: f32, color: Color, coverage: impl Fn(Point) -> f32) {
        let reach = reach + self.pixel_width();
        for row in self.pixel_range(center.y, reach) {
            for column in self.pixel_range(center.x, reach) {
                let weight = coverage(self.pixel_center(column, row));
                if weight > 0.0 {
                    let pixel = &mut self.pixels[(row * self.size + column) as usize];
                    for channel in 0..3 {
                        pixel[channel] += (color[channel] - pixel[channel]) * weight;
                    }
                }
            }
        }
    }

    /// Applies lighting and sensor grain, blacks out everything outside the
    /// retina and quantises to 8 bits.
    fn develop(&self, lighting: &Lighting, rng: &mut ChaCha8Rng) -> RgbImage {
        let bands_x = lighting.band_profile(true, self.size);
        let bands_y = lighting.band_profile(false, self.size);
        let mut image = RgbImage::new(self.size, self.size);
        for (column, row, output) in image.enumerate_pixels_mut() {
            let point = self.pixel_center(column, row);
            let retina =
                solid_edge(point.distance(Point::CENTER) - RETINA_RADIUS, self.pixel_width());
            let grain = 1.0 + rng.random_range(-0.04..0.04);
            let light = lighting.vignette_at(point)
                * (1.0 + bands_x[column as usize] + bands_y[row as usize])
                * grain
                * retina;
            let color = self.pixels[(row * self.size + column) as usize];
            output.0 =
                color.map(|channel| (channel * light * 255.0).round().clamp(0.0, 255.0) as u8);
        }
        image
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ops::Range;

    const SIZE: u32 = 64;
    const SEEDS: Range<u64> = 0..20;

    /// Pixels whose distance from the centre, as a fraction of the image
    /// side, lies in `ring`.
    fn pixels_in_ring(image: &RgbImage, ring: Range<f32>) -> impl Iterator<Item = [f32; 3]> + '_ {
        let centre = image.width() as f32 / 2.0;
        image
            .enumerate_pixels()
            .filter(move |(column, row, _)| {
                let (dx, dy) = (*column as f32 + 0.5 - centre, *row as f32 + 0.5 - centre);
                ring.contains(&(dx.hypot(dy) / (2.0 * centre)))
            })
            .map(|(_, _, pixel)| pixel.0.map(f32::from))
    }

    fn count_pixels(
        image: &RgbImage,
        ring: Range<f32>,
        is_match: impl Fn([f32; 3]) -> bool,
    ) -> usize {
        pixels_in_ring(image, ring).filter(|&pixel| is_match(pixel)).count()
    }

    fn mean_color(image: &RgbImage, ring: Range<f32>) -> [f32; 3] {
        let (sum, count) =
            pixels_in_ring(image, ring).fold(([0.0; 3], 0.0), |(sum, count), pixel| {
                (std::array::from_fn(|channel| sum[channel] + pixel[channel]), count + 1.0)
            });
        sum.map(|channel| channel / count)
    }

    fn is_dark_red([red, green, blue]: [f32; 3]) -> bool {
        red > 40.0 && red < 150.0 && green < 0.35 * red && blue < 0.35 * red
    }

    fn is_yellow([red, green, blue]: [f32; 3]) -> bool {
        red > 150.0 && green > 0.7 * red && blue < 0.75 * green
    }

    fn is_pale([red, green, blue]: [f32; 3]) -> bool {
        red > 170.0 && green > 0.85 * red && blue > 0.75 * red
    }

    /// Asserts that switching `label` on adds matching pixels in `ring` for every seed.
    fn assert_label_adds(label: usize, ring: Range<f32>, is_match: impl Fn([f32; 3]) -> bool) {
        for seed in SEEDS {
            let mut labels = [false; 3];
            let without = count_pixels(&paint_fundus(SIZE, labels, seed), ring.clone(), &is_match);
            labels[label] = true;
            let with = count_pixels(&paint_fundus(SIZE, labels, seed), ring.clone(), &is_match);
            assert!(
                with > without + 3,
                "seed {seed}: {with} matching pixels with label, {without} without"
            );
        }
    }

    #[test]
    fn same_arguments_give_same_pixels() {
        let first = paint_fundus(SIZE, [true, false, true], 7);
        let second = paint_fundus(SIZE, [true, false, true], 7);
        assert_eq!(first.as_raw(), second.as_raw());
    }

    #[test]
    fn different_seeds_give_different_pixels() {
        let first = paint_fundus(SIZE, [false; 3], 7);
        let second = paint_fundus(SIZE, [false; 3], 8);
        assert_ne!(first.as_raw(), second.as_raw());
    }

    #[test]
    fn image_has_requested_size_and_black_corners() {
        for size in [32, 64, 101] {
            let image = paint_fundus(size, [true; 3], 3);
            assert_eq!(image.dimensions(), (size, size));
            for (column, row) in [(0, 0), (size - 1, 0), (0, size - 1), (size - 1, size - 1)] {
                assert_eq!(image.get_pixel(column, row).0, [0, 0, 0]);
            }
        }
    }

    #[test]
    fn retina_is_orange_red() {
        for seed in SEEDS {
            let image = paint_fundus(SIZE, [false; 3], seed);
            let [red, green, blue] = mean_color(&image, 0.0..0.15);
            assert!(
                red > 100.0 && red > 1.5 * green && green > blue,
                "seed {seed}: mean colour {red} {green} {blue}"
            );
        }
    }

    #[test]
    fn retinopathy_changes_pixels() {
        let without = paint_fundus(SIZE, [false; 3], 5);
        let with = paint_fundus(SIZE, [true, false, false], 5);
        assert_ne!(without.as_raw(), with.as_raw());
    }

    #[test]
    fn retinopathy_adds_dark_red_spots() {
        assert_label_adds(0, 0.0..RETINA_RADIUS, is_dark_red);
    }

    #[test]
    fn glaucoma_adds_pale_cup_pixels() {
        assert_label_adds(1, 0.15..0.42, is_pale);
    }

    #[test]
    fn macular_degeneration_adds_yellow_near_centre() {
        assert_label_adds(2, 0.0..0.22, is_yellow);
    }
}
