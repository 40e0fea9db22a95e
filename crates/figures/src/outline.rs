//! SVG text as outlines: every `<text>` element plotters writes becomes glyph outlines of the
//! embedded DejaVu Sans (each glyph defined once, placed with `<use>`), so an SVG renders like its
//! PNG in every viewer, whatever fonts that viewer has.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use ab_glyph::{Font, FontRef, GlyphId, OutlineCurve};

use crate::style::DEJAVU_SANS;

/// One parsed `<text>` element.
struct TextEl {
    x: f64,
    y: f64,
    /// Baseline shift in em (from plotters' `dy`: 0.76em, ±0.5ex).
    dy_em: f64,
    /// 0 start, 0.5 middle, 1 end.
    anchor: f64,
    size: f64,
    fill: String,
    opacity: String,
    transform: Option<String>,
    content: String,
}

fn attr<'a>(tag: &'a str, name: &str) -> Option<&'a str> {
    let key = format!(" {name}=\"");
    let at = tag.find(&key)? + key.len();
    let end = tag[at..].find('"')? + at;
    Some(&tag[at..end])
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

fn parse(tag: &str, content: &str, x_height_em: f64) -> Option<TextEl> {
    let num = |n: &str| attr(tag, n).and_then(|v| v.parse::<f64>().ok());
    let dy_em = match attr(tag, "dy") {
        Some(d) if d.ends_with("em") => d.trim_end_matches("em").parse::<f64>().ok()?,
        Some(d) if d.ends_with("ex") => d.trim_end_matches("ex").parse::<f64>().ok()? * x_height_em,
        _ => 0.0,
    };
    let anchor = match attr(tag, "text-anchor") {
        Some("middle") => 0.5,
        Some("end") => 1.0,
        _ => 0.0,
    };
    Some(TextEl {
        x: num("x")?,
        y: num("y")?,
        dy_em,
        anchor,
        size: num("font-size")?,
        fill: attr(tag, "fill").unwrap_or("#000000").to_string(),
        opacity: attr(tag, "opacity").unwrap_or("1").to_string(),
        transform: attr(tag, "transform").map(str::to_string),
        content: unescape(content.trim_matches(['\n', '\r'])),
    })
}

/// A glyph's outline as SVG path data in font units, y pointing down (baseline at 0).
fn glyph_path(font: &FontRef<'_>, id: GlyphId) -> String {
    let mut d = String::new();
    let Some(outline) = font.outline(id) else { return d };
    let mut last: Option<(f32, f32)> = None;
    let pt = |d: &mut String, cmd: &str, ps: &[ab_glyph::Point]| {
        let _ = write!(d, "{cmd}");
        for p in ps {
            let _ = write!(d, "{} {} ", p.x.round(), (-p.y).round());
        }
    };
    for c in &outline.curves {
        let (start, rest): (ab_glyph::Point, Vec<ab_glyph::Point>) = match *c {
            OutlineCurve::Line(a, b) => (a, vec![b]),
            OutlineCurve::Quad(a, b, e) => (a, vec![b, e]),
            OutlineCurve::Cubic(a, b, e, f) => (a, vec![b, e, f]),
        };
        if last != Some((start.x, start.y)) {
            if last.is_some() {
                d.push('Z');
            }
            pt(&mut d, "M", &[start]);
        }
        let cmd = match rest.len() {
            1 => "L",
            2 => "Q",
            _ => "C",
        };
        pt(&mut d, cmd, &rest);
        let end = rest[rest.len() - 1];
        last = Some((end.x, end.y));
    }
    if last.is_some() {
        d.push('Z');
    }
    d.replace(" M", "M").replace(" L", "L").replace(" Q", "Q").replace(" C", "C").replace(" Z", "Z")
}

/// `svg` with every `<text>` element replaced by outlined glyphs. Text that cannot be parsed is
/// left as it was.
pub fn outline_text(svg: &str) -> String {
    let Ok(font) = FontRef::try_from_slice(DEJAVU_SANS) else { return svg.to_string() };
    let upem = f64::from(font.units_per_em().unwrap_or(2048.0));
    // x-height of DejaVu Sans (the `ex` unit plotters uses for vertically centred labels).
    let x_height_em = f64::from(font.outline(font.glyph_id('x')).map_or(1118.0, |o| o.bounds.max.y)) / upem;
    let mut used: BTreeMap<u16, String> = BTreeMap::new();
    let mut out = String::with_capacity(svg.len());
    let mut rest = svg;
    while let Some(start) = rest.find("<text") {
        out.push_str(&rest[..start]);
        let after = &rest[start..];
        let (Some(tag_end), Some(close)) = (after.find('>'), after.find("</text>")) else {
            out.push_str(after);
            rest = "";
            break;
        };
        let tag = &after[..tag_end];
        let content = &after[tag_end + 1..close];
        rest = &after[close + "</text>".len()..];
        let Some(el) = parse(tag, content, x_height_em) else {
            out.push_str(&after[..close + "</text>".len()]);
            continue;
        };
        // Pen positions in font units, kerned as plotters' bitmap backend does.
        let mut pen = 0.0f64;
        let mut prev: Option<GlyphId> = None;
        let mut glyphs = Vec::new();
        for ch in el.content.chars() {
            let id = font.glyph_id(ch);
            if let Some(p) = prev {
                pen += f64::from(font.kern_unscaled(p, id));
            }
            glyphs.push((id, pen));
            pen += f64::from(font.h_advance_unscaled(id));
            prev = Some(id);
        }
        let scale = el.size / upem;
        let x0 = el.x - el.anchor * pen * scale;
        let y0 = el.y + el.dy_em * el.size;
        let mut g = String::new();
        let _ = write!(g, "<g fill=\"{}\" opacity=\"{}\"", el.fill, el.opacity);
        let mut t = String::new();
        if let Some(tr) = &el.transform {
            let _ = write!(t, "{tr} ");
        }
        let _ = write!(t, "translate({:.2} {:.2}) scale({:.6})", x0, y0, scale);
        let _ = write!(g, " transform=\"{t}\">");
        for (id, x) in glyphs {
            if font.outline(id).is_none() {
                continue;
            }
            used.entry(id.0).or_insert_with(|| glyph_path(&font, id));
            let _ = write!(g, "<use xlink:href=\"#g{}\" x=\"{}\"/>", id.0, x.round());
        }
        g.push_str("</g>");
        out.push_str(&g);
    }
    out.push_str(rest);
    if used.is_empty() {
        return out;
    }
    let mut defs = String::from("<defs>");
    for (id, d) in &used {
        let _ = write!(defs, "<path id=\"g{id}\" d=\"{d}\"/>");
    }
    defs.push_str("</defs>");
    // The glyph definitions go first inside the root element, which gets the xlink namespace.
    let Some(root_start) = out.find("<svg") else { return out };
    let Some(root_end) = out[root_start..].find('>').map(|e| root_start + e) else { return out };
    let mut root_tag = out[root_start..root_end].to_string();
    if !root_tag.contains("xmlns:xlink") {
        root_tag.push_str(" xmlns:xlink=\"http://www.w3.org/1999/xlink\"");
    }
    format!("{}{}>{}{}", &out[..root_start], root_tag, defs, &out[root_end + 1..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_becomes_outlines() {
        let svg = "<svg width=\"100\" height=\"50\" xmlns=\"http://www.w3.org/2000/svg\">\n<text x=\"50\" y=\"10\" dy=\"0.76em\" text-anchor=\"middle\" font-family=\"sans-serif\" font-size=\"12\" opacity=\"1\" fill=\"#000000\">\nA &amp; x₁\n</text>\n</svg>";
        let out = outline_text(svg);
        assert!(!out.contains("<text"), "{out}");
        assert!(out.contains("xmlns:xlink"));
        // A, &, x and ₁ each defined once and used once; the space has no outline.
        assert_eq!(out.matches("<path id=").count(), 4, "{out}");
        assert_eq!(out.matches("<use ").count(), 4);
        // Centred: the group starts left of x = 50 by half the text's width.
        assert!(out.contains("translate(3") || out.contains("translate(4"), "{out}");
    }

    #[test]
    fn outlined_svg_converts_to_a_one_page_pdf() {
        let svg = "<svg width=\"120\" height=\"40\" viewBox=\"0 0 120 40\" xmlns=\"http://www.w3.org/2000/svg\">\n<rect x=\"0\" y=\"0\" width=\"120\" height=\"40\" fill=\"#FFFFFF\"/>\n<text x=\"60\" y=\"20\" dy=\"0.5ex\" text-anchor=\"middle\" font-family=\"sans-serif\" font-size=\"14\" opacity=\"1\" fill=\"#000000\" transform=\"rotate(270, 60, 20)\">\nloss (nats)\n</text>\n</svg>";
        let pdf = crate::render::pdf_of_svg(&outline_text(svg)).expect("converts");
        assert!(pdf.starts_with(b"%PDF-"), "not a PDF");
        let text = String::from_utf8_lossy(&pdf);
        assert_eq!(
            text.matches("/Type /Page\n").count()
                + text.matches("/Type /Page ").count()
                + text.matches("/Type /Page/").count(),
            1,
            "one page"
        );
    }

    #[test]
    fn the_same_svg_gives_the_same_pdf_bytes() {
        // Several embedded images: svg2pdf lists them in hash-map order, which varies per map.
        let img = "<image x=\"0\" y=\"0\" width=\"2\" height=\"2\" href=\"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAIAAAACCAIAAAD91JpzAAAAFklEQVR4nGP8z8DAwMDAxMDAwMDAAAANHQEDasKb6QAAAABJRU5ErkJggg==\"/>";
        let svg = format!(
            "<svg width=\"60\" height=\"20\" viewBox=\"0 0 60 20\" xmlns=\"http://www.w3.org/2000/svg\">{}</svg>",
            (0..8).map(|i| img.replace("x=\"0\"", &format!("x=\"{}\"", 5 * i))).collect::<String>()
        );
        let first = crate::render::pdf_of_svg(&svg).expect("converts");
        for _ in 0..5 {
            assert!(
                crate::render::pdf_of_svg(&svg).expect("converts") == first,
                "PDF bytes differ between two conversions"
            );
        }
    }

    #[test]
    fn svg_without_text_is_unchanged() {
        let svg = "<svg xmlns=\"http://www.w3.org/2000/svg\"><rect x=\"0\"/></svg>";
        assert_eq!(outline_text(svg), svg);
    }
}
