//! Visual style shared by every figure: the embedded font, a colour-blind-safe palette, colour maps.

use plotters::style::{FontStyle, RGBColor, register_font};
use std::sync::Once;

/// DejaVu Sans (Bitstream Vera licence, see `assets/DejaVuSans-LICENSE.txt`), embedded so that
/// figures render identically on machines without system fonts.
pub(crate) static DEJAVU_SANS: &[u8] = include_bytes!("../assets/DejaVuSans.ttf");

/// The font family name every figure asks for.
pub const FONT: &str = "sans-serif";

static REGISTER: Once = Once::new();

/// Registers the embedded font with plotters (once per process).
pub fn register_fonts() {
    REGISTER.call_once(|| {
        // The bytes are a valid TrueType font shipped with the crate; a failure here would mean the
        // asset is corrupt, which the `font_is_valid` test catches.
        let _ = register_font(FONT, FontStyle::Normal, DEJAVU_SANS);
        let _ = register_font(FONT, FontStyle::Bold, DEJAVU_SANS);
        let _ = register_font(FONT, FontStyle::Italic, DEJAVU_SANS);
        let _ = register_font(FONT, FontStyle::Oblique, DEJAVU_SANS);
    });
}

/// Okabe–Ito palette (colour-blind safe).
pub mod okabe_ito {
    use plotters::style::RGBColor;
    /// Black.
    pub const BLACK: RGBColor = RGBColor(0, 0, 0);
    /// Orange.
    pub const ORANGE: RGBColor = RGBColor(230, 159, 0);
    /// Sky blue.
    pub const SKY: RGBColor = RGBColor(86, 180, 233);
    /// Bluish green.
    pub const GREEN: RGBColor = RGBColor(0, 158, 115);
    /// Yellow.
    pub const YELLOW: RGBColor = RGBColor(240, 228, 66);
    /// Blue.
    pub const BLUE: RGBColor = RGBColor(0, 114, 178);
    /// Vermillion.
    pub const VERMILLION: RGBColor = RGBColor(213, 94, 0);
    /// Reddish purple.
    pub const PURPLE: RGBColor = RGBColor(204, 121, 167);
    /// Grey for secondary lines.
    pub const GREY: RGBColor = RGBColor(140, 140, 140);
}

/// Colour for "reached the global minimum / H*".
pub const GLOBAL: RGBColor = okabe_ito::BLUE;
/// Colour for "stuck at the unigram set / U".
pub const UNIGRAM: RGBColor = okabe_ito::VERMILLION;

/// Mixes `c` with white: t = 0 gives c, t = 1 white.
pub fn tint(c: RGBColor, t: f64) -> RGBColor {
    let m = |v: u8| (f64::from(v) + (255.0 - f64::from(v)) * t).round() as u8;
    RGBColor(m(c.0), m(c.1), m(c.2))
}

const VIRIDIS: [(u8, u8, u8); 11] = [
    (68, 1, 84),
    (72, 36, 117),
    (65, 68, 135),
    (53, 95, 141),
    (42, 120, 142),
    (33, 145, 140),
    (34, 168, 132),
    (68, 191, 112),
    (122, 209, 81),
    (189, 223, 38),
    (253, 231, 37),
];

/// Viridis (perceptually uniform, colour-blind safe), t ∈ [0, 1] (clamped; NaN → grey).
pub fn viridis(t: f64) -> RGBColor {
    if t.is_nan() {
        return RGBColor(200, 200, 200);
    }
    let x = t.clamp(0.0, 1.0) * (VIRIDIS.len() - 1) as f64;
    let i = (x.floor() as usize).min(VIRIDIS.len() - 2);
    let f = x - i as f64;
    let lerp = |a: u8, b: u8| (f64::from(a) + (f64::from(b) - f64::from(a)) * f).round() as u8;
    let (a, b) = (VIRIDIS[i], VIRIDIS[i + 1]);
    RGBColor(lerp(a.0, b.0), lerp(a.1, b.1), lerp(a.2, b.2))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn font_is_valid() {
        assert!(ab_glyph_check(DEJAVU_SANS));
    }

    fn ab_glyph_check(bytes: &'static [u8]) -> bool {
        plotters::style::register_font("attnlab-test", FontStyle::Normal, bytes).is_ok()
    }

    #[test]
    fn viridis_ends() {
        assert_eq!(viridis(0.0), RGBColor(68, 1, 84));
        assert_eq!(viridis(1.0), RGBColor(253, 231, 37));
        assert_eq!(viridis(2.0), viridis(1.0));
    }
}
