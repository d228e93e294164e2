//! How a build fits its memory limit: decided once the orders are known, since the
//! per-order state has one entry per distinct order and so a known size before any
//! message is read. States beyond the first range of slots go to spill files and are
//! folded range by range after the reading.

/// Bytes per distinct order that never spill: its slot in the index, its id and city,
/// its sort key and its row of the output table (the output is checked and written whole).
pub const FIXED_BYTES_PER_ORDER: u64 = 160;

/// Bytes of one order's state while it is folded.
pub const STATE_BYTES_PER_ORDER: u64 = std::mem::size_of::<crate::ConversationState>() as u64;

/// At most this many ranges (one spill file each, open while the messages are read).
pub const MAX_RANGES: u64 = 256;

/// How the states of a build are split.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Plan {
    /// Slots per range; the last range may hold fewer.
    pub slots_per_range: usize,
    /// Ranges: 1 when every state fits.
    pub ranges: usize,
}

/// A memory limit the run cannot keep, whatever it spills.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "the memory limit of {limit} bytes cannot hold this run: its {orders} orders and their \
     table need about {needed} bytes that cannot spill, and their states at least {least} \
     bytes more"
)]
pub struct MemoryTooSmall {
    /// The limit.
    pub limit: u64,
    /// Distinct orders.
    pub orders: u64,
    /// What never spills.
    pub needed: u64,
    /// The smallest share of the states a range may hold.
    pub least: u64,
}

/// The plan for `orders` distinct orders under `limit` bytes (`None`: no limit).
pub(crate) fn plan(orders: usize, limit: Option<u64>) -> Result<Plan, MemoryTooSmall> {
    let whole = Plan {
        slots_per_range: orders.max(1),
        ranges: 1,
    };
    let Some(limit) = limit else {
        return Ok(whole);
    };
    let count = orders as u64;
    let needed = count * FIXED_BYTES_PER_ORDER;
    let states = count * STATE_BYTES_PER_ORDER;
    let least = states.div_ceil(MAX_RANGES);
    let room = limit.saturating_sub(needed);
    if room >= states {
        return Ok(whole);
    }
    if room < least.max(STATE_BYTES_PER_ORDER) {
        return Err(MemoryTooSmall {
            limit,
            orders: count,
            needed,
            least,
        });
    }
    let slots_per_range = (room / STATE_BYTES_PER_ORDER) as usize;
    Ok(Plan {
        slots_per_range,
        ranges: orders.div_ceil(slots_per_range),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_fits_without_a_limit_or_under_a_large_one() {
        let whole = Plan {
            slots_per_range: 1000,
            ranges: 1,
        };
        assert_eq!(plan(1000, None), Ok(whole));
        assert_eq!(plan(1000, Some(1 << 30)), Ok(whole));
        assert_eq!(plan(0, Some(1)).map(|p| p.ranges), Ok(1));
    }

    #[test]
    fn a_tight_limit_splits_the_states_into_ranges_that_fit() {
        let fixed = 1000 * FIXED_BYTES_PER_ORDER;
        let p = plan(1000, Some(fixed + 300 * STATE_BYTES_PER_ORDER)).unwrap();
        assert_eq!(p.slots_per_range, 300);
        assert_eq!(p.ranges, 4);
    }

    #[test]
    fn a_limit_below_what_cannot_spill_is_an_error() {
        let e = plan(1000, Some(1000)).unwrap_err();
        assert_eq!(e.needed, 1000 * FIXED_BYTES_PER_ORDER);
        assert!(e.to_string().contains("1000 orders"), "{e}");
    }
}
