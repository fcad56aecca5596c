//! Points and affine maps between pixel frames.

/// A 2-D point in pixels.
#[derive(Debug, Clone, Copy, PartialEq, Default, serde::Serialize, serde::Deserialize)]
pub struct Point {
    /// x (right).
    pub x: f32,
    /// y (down).
    pub y: f32,
}

impl Point {
    /// New point.
    pub const fn new(x: f32, y: f32) -> Point {
        Point { x, y }
    }
    /// Distance to another point.
    pub fn dist(self, o: Point) -> f32 {
        ((self.x - o.x).powi(2) + (self.y - o.y).powi(2)).sqrt()
    }
    /// Midpoint.
    pub fn mid(self, o: Point) -> Point {
        Point::new((self.x + o.x) / 2.0, (self.y + o.y) / 2.0)
    }
}

/// An affine map `src = A * dst + t` from destination pixel centres to source coordinates.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine {
    /// Row-major 2x3 matrix [a, b, c, d, e, f]: x = a u + b v + c, y = d u + e v + f.
    pub m: [f32; 6],
}

impl Affine {
    /// Maps a destination point to the source.
    pub fn apply(&self, p: Point) -> Point {
        let [a, b, c, d, e, f] = self.m;
        Point::new(a * p.x + b * p.y + c, d * p.x + e * p.y + f)
    }

    /// The inverse map.
    pub fn inverse(&self) -> Affine {
        let [a, b, c, d, e, f] = self.m;
        let det = a * e - b * d;
        let (ia, ib, id, ie) = (e / det, -b / det, -d / det, a / det);
        Affine {
            m: [ia, ib, -(ia * c + ib * f), id, ie, -(id * c + ie * f)],
        }
    }

    /// A map for a destination of `dst_size` that shows the square/rectangle centred at
    /// `center` of `size` source pixels, rotated by `angle` radians (positive = clockwise in
    /// image coordinates, i.e. the sampled content is rotated counter-clockwise).
    pub fn rect(center: Point, size: (f32, f32), angle: f32, dst_size: (u32, u32)) -> Affine {
        let sx = size.0 / dst_size.0 as f32;
        let sy = size.1 / dst_size.1 as f32;
        let (s, c) = angle.sin_cos();
        let hw = dst_size.0 as f32 / 2.0;
        let hh = dst_size.1 as f32 / 2.0;
        // src = center + R * (S * (dst - half))
        let a = c * sx;
        let b = -s * sy;
        let d = s * sx;
        let e = c * sy;
        Affine {
            m: [
                a,
                b,
                center.x - a * hw - b * hh,
                d,
                e,
                center.y - d * hw - e * hh,
            ],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn affine_rect_maps_centre_and_inverts() {
        let m = Affine::rect(Point::new(100.0, 50.0), (64.0, 64.0), 0.3, (128, 128));
        let c = m.apply(Point::new(64.0, 64.0));
        assert!((c.x - 100.0).abs() < 1e-3 && (c.y - 50.0).abs() < 1e-3);
        let p = Point::new(10.0, 20.0);
        let back = m.inverse().apply(m.apply(p));
        assert!(back.dist(p) < 1e-3);
        // corner distance is half the diagonal of the source rect
        let corner = m.apply(Point::new(0.0, 0.0));
        assert!((corner.dist(Point::new(100.0, 50.0)) - 32.0 * 2f32.sqrt()).abs() < 1e-2);
    }
}
