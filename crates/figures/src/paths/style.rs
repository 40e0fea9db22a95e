//! Colour scale of the paths figures: ColorBrewer RdBu (colour-blind safe, diverging), as the paper.

use plotters::style::RGBColor;

const RDBU: [(u8, u8, u8); 11] = [
    (103, 0, 31),
    (178, 24, 43),
    (214, 96, 77),
    (244, 165, 130),
    (253, 219, 199),
    (247, 247, 247),
    (209, 229, 240),
    (146, 197, 222),
    (67, 147, 195),
    (33, 102, 172),
    (5, 48, 97),
];

/// RdBu at t ∈ [0, 1] (0 red = most negative, 0.5 white = 0, 1 blue = most positive).
pub fn rdbu(t: f64) -> RGBColor {
    if t.is_nan() {
        return RGBColor(200, 200, 200);
    }
    let x = t.clamp(0.0, 1.0) * (RDBU.len() - 1) as f64;
    let i = (x.floor() as usize).min(RDBU.len() - 2);
    let f = x - i as f64;
    let lerp = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * f).round() as u8;
    let (a, b) = (RDBU[i], RDBU[i + 1]);
    RGBColor(lerp(a.0, b.0), lerp(a.1, b.1), lerp(a.2, b.2))
}

/// The colour of value v on the symmetric scale [−lim, lim].
pub fn diverging(v: f64, lim: f64) -> RGBColor {
    rdbu(0.5 + 0.5 * v / lim.max(1e-300))
}
