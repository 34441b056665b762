//! Colours that stay apart for colour-blind readers: Okabe and Ito's categorical palette
//! (2008) and viridis for quantities. The tests simulate protanopia, deuteranopia and
//! tritanopia (Machado, Oliveira and Fernandes 2009, full severity) and check that the
//! categorical colours stay distinguishable and that viridis keeps its order in lightness.

/// Categorical colours, in the order series use them (Okabe-Ito; yellow and black last, as
/// yellow is faint on white and black reads as text).
pub const CATEGORICAL: [&str; 8] = [
    "#0072B2", "#E69F00", "#009E73", "#D55E00", "#56B4E9", "#CC79A7", "#F0E442", "#000000",
];

/// The colour of series `index` (repeats after eight; charts with more series also differ by
/// dash pattern or label).
pub fn category(index: usize) -> &'static str {
    CATEGORICAL[index % CATEGORICAL.len()]
}

/// Viridis at nine even stops, dark to light.
const VIRIDIS: [[u8; 3]; 9] = [
    [0x44, 0x01, 0x54],
    [0x47, 0x2d, 0x7b],
    [0x3b, 0x52, 0x8b],
    [0x2c, 0x72, 0x8e],
    [0x21, 0x91, 0x8c],
    [0x28, 0xae, 0x80],
    [0x5e, 0xc9, 0x62],
    [0xad, 0xdc, 0x30],
    [0xfd, 0xe7, 0x25],
];

/// The viridis colour at `t` (0 dark .. 1 light; clamped; NaN is the light grey of "no data").
pub fn sequential(t: f64) -> String {
    if t.is_nan() {
        return "#e8e8e8".into();
    }
    let rgb = viridis_rgb(t.clamp(0.0, 1.0));
    format!("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2])
}

/// Whether text on the viridis colour at `t` should be white (dark cells) or black.
pub fn text_on_sequential(t: f64) -> &'static str {
    if t.is_finite() && t < 0.55 {
        "#ffffff"
    } else {
        "#000000"
    }
}

fn viridis_rgb(t: f64) -> [u8; 3] {
    let position = t * (VIRIDIS.len() - 1) as f64;
    let low = (position.floor() as usize).min(VIRIDIS.len() - 2);
    let w = position - low as f64;
    let mut rgb = [0u8; 3];
    for (c, out) in rgb.iter_mut().enumerate() {
        let a = f64::from(VIRIDIS[low][c]);
        let b = f64::from(VIRIDIS[low + 1][c]);
        *out = (a + (b - a) * w).round() as u8;
    }
    rgb
}

#[cfg(test)]
mod tests {
    use super::*;

    type Matrix = [[f64; 3]; 3];
    const PROTANOPIA: Matrix = [
        [0.152286, 1.052583, -0.204868],
        [0.114503, 0.786281, 0.099216],
        [-0.003882, -0.048116, 1.051998],
    ];
    const DEUTERANOPIA: Matrix = [
        [0.367322, 0.860646, -0.227968],
        [0.280085, 0.672501, 0.047413],
        [-0.011820, 0.042940, 0.968881],
    ];
    const TRITANOPIA: Matrix = [
        [1.255528, -0.076749, -0.178779],
        [-0.078411, 0.930809, 0.147602],
        [0.004733, 0.691367, 0.303900],
    ];
    const IDENTITY: Matrix = [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]];
    const VISIONS: [(&str, Matrix); 4] = [
        ("normal", IDENTITY),
        ("protanopia", PROTANOPIA),
        ("deuteranopia", DEUTERANOPIA),
        ("tritanopia", TRITANOPIA),
    ];

    fn parse(hex: &str) -> [u8; 3] {
        let v = u32::from_str_radix(&hex[1..], 16).unwrap();
        [(v >> 16) as u8, (v >> 8) as u8, v as u8]
    }

    fn linear(c: u8) -> f64 {
        let c = f64::from(c) / 255.0;
        if c <= 0.04045 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    }

    /// CIELAB (D65) of `rgb` as a reader with `vision` sees it.
    fn lab(rgb: [u8; 3], vision: &Matrix) -> [f64; 3] {
        let l = rgb.map(linear);
        let s: Vec<f64> = vision
            .iter()
            .map(|row| (row[0] * l[0] + row[1] * l[1] + row[2] * l[2]).clamp(0.0, 1.0))
            .collect();
        let x = 0.4124 * s[0] + 0.3576 * s[1] + 0.1805 * s[2];
        let y = 0.2126 * s[0] + 0.7152 * s[1] + 0.0722 * s[2];
        let z = 0.0193 * s[0] + 0.1192 * s[1] + 0.9505 * s[2];
        let f = |t: f64| {
            if t > 216.0 / 24389.0 {
                t.cbrt()
            } else {
                (24389.0 / 27.0 * t + 16.0) / 116.0
            }
        };
        let (fx, fy, fz) = (f(x / 0.95047), f(y), f(z / 1.08883));
        [116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)]
    }

    fn distance(a: [f64; 3], b: [f64; 3]) -> f64 {
        ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
    }

    fn closest_pair(colours: &[&str], vision: &Matrix) -> f64 {
        let labs: Vec<[f64; 3]> = colours.iter().map(|c| lab(parse(c), vision)).collect();
        let mut min = f64::INFINITY;
        for i in 0..labs.len() {
            for j in i + 1..labs.len() {
                min = min.min(distance(labs[i], labs[j]));
            }
        }
        min
    }

    #[test]
    fn categorical_colours_stay_apart_for_every_colour_vision() {
        // Every pair differs by more than 15 CIELAB units (ΔE76; 2.3 is "just noticeable")
        // for every vision: the closest pairs are yellow and orange for deuteranopes (17.0) and
        // bluish green and sky blue for tritanopes (16.1).
        for (name, vision) in VISIONS {
            let closest = closest_pair(&CATEGORICAL, &vision);
            assert!(closest > 15.0, "{name}: {closest:.1}");
        }
        // The check tells a bad palette: matplotlib's red and green (120 apart for normal
        // vision) merge for a deuteranope.
        let red_green = ["#d62728", "#2ca02c"];
        assert!(closest_pair(&red_green, &IDENTITY) > 100.0);
        assert!(closest_pair(&red_green, &DEUTERANOPIA) < 10.0);
    }

    #[test]
    fn viridis_keeps_its_order_in_lightness_for_every_colour_vision() {
        for (name, vision) in VISIONS {
            let lightness: Vec<f64> = (0..=20)
                .map(|i| lab(viridis_rgb(f64::from(i) / 20.0), &vision)[0])
                .collect();
            for pair in lightness.windows(2) {
                assert!(pair[1] > pair[0], "{name}: {lightness:?}");
            }
            assert!(lightness[20] - lightness[0] > 60.0, "{name}");
        }
        assert_eq!(sequential(0.0), "#440154");
        assert_eq!(sequential(1.0), "#fde725");
        assert_eq!(sequential(f64::NAN), "#e8e8e8");
    }
}
