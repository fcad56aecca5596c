//! The levers tried when no quality of the main search lands in the window: settings that make
//! files bigger at the same quality (4:2:2, 4:4:4) for a lower bound not reached, and optimised
//! Huffman tables, which make them smaller, for an upper bound not reached.

use super::jpeg::{Config, Subsampling, SMALLEST};
use super::search::{Search, MAX_ENCODES};
use crate::error::Result;

/// Levers. Only useful if some probe was below the window: every lever makes files bigger.
/// From the highest quality probed below the window, tries 4:2:2 then 4:4:4 (at quality 100
/// only 4:4:4) until one lands or [`MAX_ENCODES`] is spent. Fails with the search's
/// `unreachable` error when the biggest setting at quality 100 is still too small.
pub(super) fn try_bigger(s: &mut Search<'_>, probes: &[(u8, usize)]) -> Result<()> {
    let min = s.min;
    let below: Option<(u8, usize)> = probes
        .iter()
        .copied()
        .filter(|&(_, size)| min.is_some_and(|m| size < m))
        .max_by_key(|&(q, _)| q);
    if let Some((q, _)) = below {
        let levers = [
            Config {
                subsampling: Subsampling::S422,
                optimized_huffman: false,
            },
            Config {
                subsampling: Subsampling::S444,
                optimized_huffman: false,
            },
        ];
        let at_top = q == 100;
        for (i, config) in levers.into_iter().enumerate() {
            if s.encodes >= MAX_ENCODES {
                break;
            }
            // At quality 100 only the biggest setting matters; jump straight to it.
            if at_top && i < 1 {
                continue;
            }
            s.encode(q, config)?;
            if !s.hits.is_empty() {
                break;
            }
        }
        if at_top && s.hits.is_empty() {
            // The biggest setting at quality 100 is still too small: nothing can reach min.
            return Err(s.unreachable());
        }
    }
    Ok(())
}

/// Smaller lever: every probe above the upper bound. Optimised Huffman tables shrink the
/// file by a few per cent at the same quality; try them at the lowest quality probed.
pub(super) fn try_smaller(s: &mut Search<'_>, probes: &[(u8, usize)]) -> Result<()> {
    let (min, max) = (s.min, s.max);
    if s.hits.is_empty()
        && !probes
            .iter()
            .any(|&(_, size)| max.is_none_or(|m| size <= m))
    {
        if let Some(&(q, _)) = probes.iter().min_by_key(|&&(q, _)| q) {
            let mut q = q;
            while s.encodes < MAX_ENCODES && s.hits.is_empty() && q <= 100 {
                let size = s.encode(q, SMALLEST)?;
                if min.is_some_and(|m| size < m) {
                    break;
                }
                q = q.saturating_add(5);
            }
        }
    }
    Ok(())
}
