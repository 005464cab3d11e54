//! Go's `hash/fnv` FNV-1 32, `math/rand` (legacy source) and `math/big` `Int.Rand`, bit-exact, as
//! Calico's `randomBlockGenerator` uses them to choose which block a host claims (spec §3.5).
//!
//! Calico seeds Go's `rand.New(rand.NewSource(seed))` with the FNV-1 32 hash of the host name,
//! draws a start index with `new(big.Int).Rand(rng, numBlocks)` and then walks the pool's blocks as
//! a rotation from that index. Reproducing Go's numbers exactly is the whole point: a planner that
//! predicts a different first block than Calico would mislead its user, so every step below follows
//! Go's arithmetic (wrapping 64-bit sums, the 48271 Lehmer seeding, the word order of `nat.random`
//! on 64-bit platforms) rather than any "equivalent" generator.

mod cooked;

use std::iter::FusedIterator;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use cooked::RNG_COOKED;

/// Length of Go's lagged Fibonacci register (`rngLen`).
const RNG_LEN: usize = 607;
/// Lag of the second tap (`rngTap`): the register starts with `feed` this far behind `tap`.
const RNG_TAP: usize = 273;
/// `2^31 - 1`, the modulus of the Lehmer generator Go seeds the register with.
const INT32_MAX: i64 = (1 << 31) - 1;
/// Keeps the low 63 bits: `Int63` is `Uint64` with the sign bit cleared.
const INT63_MASK: u64 = (1 << 63) - 1;
/// The seed Go substitutes for 0, because the Lehmer generator is stuck at 0.
const ZERO_SEED_REPLACEMENT: i64 = 89_482_311;

/// FNV-1 (not FNV-1a) 32-bit hash, as Go's `hash/fnv.New32`: multiply, then XOR each byte.
pub fn fnv1_32(bytes: &[u8]) -> u32 {
    const OFFSET_BASIS: u32 = 2_166_136_261;
    const PRIME: u32 = 16_777_619;
    bytes.iter().fold(OFFSET_BASIS, |hash, &byte| {
        hash.wrapping_mul(PRIME) ^ u32::from(byte)
    })
}

/// One step of the Lehmer generator `x' = 48271·x mod (2^31 − 1)` computed with Schrage's method,
/// as Go's `seedrand`, so that intermediate values stay within 32 bits exactly as in Go.
fn seedrand(x: i32) -> i32 {
    const A: i32 = 48_271;
    const Q: i32 = 44_488;
    const R: i32 = 3_399;
    let hi = x / Q;
    let lo = x % Q;
    // The products cannot overflow for x in [0, 2^31 − 1), but wrapping keeps this panic-free even
    // for states Go itself never produces.
    let next = A.wrapping_mul(lo).wrapping_sub(R.wrapping_mul(hi));
    if next < 0 {
        next.wrapping_add(i32::MAX)
    } else {
        next
    }
}

/// Go's legacy `math/rand` source (`rngSource`): the additive lagged Fibonacci generator of
/// Mitchell and Reeds, `x[n] = x[n−607] + x[n−273] mod 2^64`, seeded by [`GoRand::new`] exactly as
/// `rand.NewSource(seed)`. The methods match what `rand.New(rand.NewSource(seed))` returns for the
/// calls of the same names.
#[derive(Clone)]
pub struct GoRand {
    /// Index of the lagged tap; always below `RNG_LEN`.
    tap: usize,
    /// Index of the word being replaced; always below `RNG_LEN`.
    feed: usize,
    /// The feedback register.
    vec: [u64; RNG_LEN],
}

impl std::fmt::Debug for GoRand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The 607-word register is noise in debug output; the indices say where the stream is.
        f.debug_struct("GoRand")
            .field("tap", &self.tap)
            .field("feed", &self.feed)
            .finish_non_exhaustive()
    }
}

impl GoRand {
    /// The generator `rand.NewSource(seed)` builds.
    pub fn new(seed: i64) -> Self {
        let mut rng = GoRand {
            tap: 0,
            feed: RNG_LEN - RNG_TAP,
            vec: [0; RNG_LEN],
        };
        rng.seed(seed);
        rng
    }

    /// Re-seeds the register like Go's `rngSource.Seed`: the seed is reduced modulo `2^31 − 1`
    /// (0 replaced by a fixed constant), run 20 steps through the Lehmer generator to decorrelate
    /// nearby seeds, and then three Lehmer outputs per word are XORed into the cooked table.
    pub fn seed(&mut self, seed: i64) {
        self.tap = 0;
        self.feed = RNG_LEN - RNG_TAP;

        // Rust's `%` truncates towards zero like Go's, so a negative seed leaves a negative
        // remainder that is then lifted into range, as Go does.
        let mut seed = seed % INT32_MAX;
        if seed < 0 {
            seed += INT32_MAX;
        }
        if seed == 0 {
            seed = ZERO_SEED_REPLACEMENT;
        }
        // The reduced seed lies in (0, 2^31 − 1), so it always fits; the fallback is unreachable.
        let mut x = i32::try_from(seed).unwrap_or(1);

        for _ in 0..20 {
            x = seedrand(x);
        }
        for (word, &cooked) in self.vec.iter_mut().zip(RNG_COOKED.iter()) {
            // Go shifts the non-negative int32 values within an int64, discarding bits shifted
            // past bit 63; u64 shifts do the same and the sign bit comes out identical.
            x = seedrand(x);
            let mut u = (x as u64) << 40;
            x = seedrand(x);
            u ^= (x as u64) << 20;
            x = seedrand(x);
            u ^= x as u64;
            *word = u ^ (cooked as u64);
        }
    }

    /// A full 64-bit output (`rngSource.Uint64`, which `Rand.Uint64` forwards to).
    pub fn uint64(&mut self) -> u64 {
        // Both indices walk downwards through the register and wrap; reducing modulo the length
        // keeps every index in range whatever the stored state.
        self.tap = (self.tap % RNG_LEN + RNG_LEN - 1) % RNG_LEN;
        self.feed = (self.feed % RNG_LEN + RNG_LEN - 1) % RNG_LEN;
        let x = self.vec[self.feed].wrapping_add(self.vec[self.tap]);
        self.vec[self.feed] = x;
        x
    }

    /// A non-negative 63-bit output (`Rand.Int63`): the 64-bit output without its top bit.
    pub fn int63(&mut self) -> i64 {
        // Masking leaves at most 63 bits, so the value is a non-negative i64.
        (self.uint64() & INT63_MASK) as i64
    }

    /// A 32-bit output (`Rand.Uint32`): the top 32 of the 63 bits of `Int63`.
    pub fn uint32(&mut self) -> u32 {
        // After shifting 31 bits out of a 63-bit value exactly 32 bits remain.
        (self.int63() >> 31) as u32
    }
}

/// `new(big.Int).Rand(rng, 2^exponent)` on a 64-bit platform (Go's `nat.random`), for
/// `exponent <= 128`.
///
/// `2^exponent` has bit length `exponent + 1`, so Go draws `k = ceil((exponent + 1) / 64)` words,
/// least significant first, each as `Uint32() | Uint32() << 32` with the first call as the low half,
/// masks the top word to `(exponent + 1) mod 64` bits (all 64 when that is 0) and redraws all words
/// until the number is below the limit. After the mask only bit `exponent` can reach the limit, so a
/// draw is accepted exactly when that bit is clear, and the result is the low `exponent` bits.
fn big_rand_pow2(rng: &mut GoRand, exponent: u8) -> u128 {
    let bit_len = u32::from(exponent) + 1;
    let words = bit_len.div_ceil(64);
    let limit_bit = u32::from(exponent) % 64;
    let low_mask = low_bits(exponent);
    loop {
        let mut value: u128 = 0;
        let mut top_word: u64 = 0;
        for i in 0..words {
            let low = u64::from(rng.uint32());
            let high = u64::from(rng.uint32());
            let word = low | (high << 32);
            // Only the two lowest words can carry index bits: the index is below 2^128.
            if i < 2 {
                value |= u128::from(word).checked_shl(64 * i).unwrap_or(0);
            }
            top_word = word;
        }
        if (top_word >> limit_bit) & 1 == 0 {
            return value & low_mask;
        }
    }
}

/// A mask of the `bits` lowest bits; all ones from 128 bits up.
fn low_bits(bits: u8) -> u128 {
    1u128
        .checked_shl(u32::from(bits))
        .map_or(u128::MAX, |bit| bit.wrapping_sub(1))
}

/// The blocks of a pool in the order Calico tries them for one host; see [`block_rotation`].
///
/// It holds only the walk's position, never the list of blocks, so it is cheap to clone and to
/// create for any pool, including a /0 IPv6 pool with /128 blocks (2^128 blocks).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockRotation {
    seed: i64,
    /// Index of the first block tried.
    start: u128,
    /// log2 of the number of blocks; at most 128.
    exponent: u8,
    /// The pool's network address as an integer.
    base: u128,
    is_ipv6: bool,
    block_prefix: u8,
    /// Address bits inside one block, `family bits − block_prefix`.
    block_host_bits: u8,
    /// The offset from `start` of the next block, which is also the number of blocks yielded.
    taken: u128,
    /// Set once all `2^exponent` blocks have been yielded (or when there are none).
    exhausted: bool,
}

impl BlockRotation {
    /// The seed of Go's generator: `int64(FNV-1-32(host))`.
    pub fn seed(&self) -> i64 {
        self.seed
    }

    /// The index (0-based, from the pool's first block) of the first block tried.
    pub fn start_index(&self) -> u128 {
        self.start
    }

    /// log2 of the number of blocks in the pool (0 for an empty rotation as well as for a pool
    /// that is a single block).
    pub fn block_count_log2(&self) -> u8 {
        self.exponent
    }

    /// The number of blocks still to come minus one, or `None` when the walk is over. Minus one
    /// because a full walk of a /0 IPv6 pool with /128 blocks has 2^128 blocks, one more than u128
    /// holds.
    fn remaining_minus_one(&self) -> Option<u128> {
        if self.exhausted {
            None
        } else {
            Some(low_bits(self.exponent).wrapping_sub(self.taken))
        }
    }

    /// The block with the given index (below `2^exponent`).
    fn block_at(&self, index: u128) -> Option<IpNet> {
        // index < 2^exponent and exponent + block_host_bits <= family bits, so the shift loses
        // nothing, and the pool base has zeros in all those bits, so OR is the sum.
        let offset = index
            .checked_shl(u32::from(self.block_host_bits))
            .unwrap_or(0);
        let address = self.base | offset;
        if self.is_ipv6 {
            Ipv6Net::new(Ipv6Addr::from(address), self.block_prefix)
                .ok()
                .map(IpNet::V6)
        } else {
            let v4 = u32::try_from(address).ok()?;
            Ipv4Net::new(Ipv4Addr::from(v4), self.block_prefix)
                .ok()
                .map(IpNet::V4)
        }
    }
}

impl Iterator for BlockRotation {
    type Item = IpNet;

    fn next(&mut self) -> Option<IpNet> {
        let remaining_minus_one = self.remaining_minus_one()?;
        let index = self.start.wrapping_add(self.taken) & low_bits(self.exponent);
        if remaining_minus_one == 0 {
            self.exhausted = true;
        } else {
            self.taken = self.taken.wrapping_add(1);
        }
        let block = self.block_at(index);
        if block.is_none() {
            // Unreachable for a rotation built by `block_rotation`; ending the walk keeps the
            // iterator fused rather than skipping a block silently.
            self.exhausted = true;
        }
        block
    }

    fn nth(&mut self, n: usize) -> Option<IpNet> {
        // Skipping is O(1): the walk is arithmetic, so a caller can jump deep into a huge pool.
        let remaining_minus_one = self.remaining_minus_one()?;
        let skip = n as u128;
        if skip > remaining_minus_one {
            self.exhausted = true;
            return None;
        }
        self.taken = self.taken.wrapping_add(skip);
        self.next()
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self.remaining_minus_one() {
            None => (0, Some(0)),
            Some(rest) => match rest.checked_add(1).map(usize::try_from) {
                Some(Ok(count)) => (count, Some(count)),
                _ => (usize::MAX, None),
            },
        }
    }
}

impl FusedIterator for BlockRotation {}

/// The index of the first block a host tries in a pool of `2^exponent` blocks, for the host's
/// `seed` (`fnv1_32` of its name): a fresh generator per walk, as Calico builds one each time it
/// walks a pool, so the same host always starts at the same block.
pub fn rotation_start(seed: i64, exponent: u8) -> u128 {
    big_rand_pow2(&mut GoRand::new(seed), exponent)
}

/// The blocks of `pool` (prefix `block_prefix`) in the order Calico tries them for `host`:
/// a rotation starting at the host-seeded random index (spec §3.5, Calico's
/// `randomBlockGenerator`). Block `i` is `pool base + i · 2^(bits − block_prefix)`; the walk yields
/// indices `s, s+1, …, n−1, 0, …, s−1` for `n = 2^(block_prefix − pool prefix)` and the start `s`
/// drawn with Go's `big.Int.Rand` from the host-seeded generator. It is lazy and costs
/// O(blocks actually taken), so a /8 with /32 blocks or a /0 IPv6 pool is never enumerated.
///
/// The pool's host bits, if any, are ignored (Calico parses the CIDR to its network). An empty
/// iterator is returned when `block_prefix` is below the pool's prefix (Calico's integer division
/// then gives zero blocks) or above the family's bit count.
///
/// Seeding for /32 (IPv4) and /128 (IPv6) blocks is a planner choice: Calico seeds those from the
/// clock, so its order there is random and no prediction can match it; the planner uses the same
/// FNV-1-32 seed as for every other block size so that its output is deterministic and repeatable.
pub fn block_rotation(pool: IpNet, block_prefix: u8, host: &str) -> BlockRotation {
    let seed = i64::from(fnv1_32(host.as_bytes()));
    let (base, is_ipv6) = match pool.network() {
        IpAddr::V4(address) => (u128::from(u32::from(address)), false),
        IpAddr::V6(address) => (u128::from(address), true),
    };
    let family_bits = pool.max_prefix_len();
    let empty = BlockRotation {
        seed,
        start: 0,
        exponent: 0,
        base,
        is_ipv6,
        block_prefix,
        block_host_bits: 0,
        taken: 0,
        exhausted: true,
    };
    if block_prefix > family_bits {
        return empty;
    }
    let Some(exponent) = block_prefix.checked_sub(pool.prefix_len()) else {
        return empty;
    };
    let start = rotation_start(seed, exponent);
    BlockRotation {
        start,
        exponent,
        block_host_bits: family_bits - block_prefix,
        exhausted: false,
        ..empty
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(text: &str) -> IpNet {
        text.parse().expect("test CIDR")
    }

    fn blocks(pool: &str, block_prefix: u8, host: &str, count: usize) -> Vec<String> {
        block_rotation(net(pool), block_prefix, host)
            .take(count)
            .map(|block| block.to_string())
            .collect()
    }

    #[test]
    fn fnv1_32_matches_go() {
        assert_eq!(fnv1_32(b""), 2_166_136_261);
        assert_eq!(fnv1_32(b"a"), 0x050c_5d7e);
        assert_eq!(fnv1_32(b"node-1"), 568_266_919);
    }

    #[test]
    fn seed_one_gives_gos_well_known_int63_sequence() {
        let mut rng = GoRand::new(1);
        assert_eq!(rng.int63(), 5_577_006_791_947_779_410);
        assert_eq!(rng.int63(), 8_674_665_223_082_153_551);
        assert_eq!(rng.int63(), 6_129_484_611_666_145_821);
    }

    #[test]
    fn seed_zero_matches_gos_regression_goldens() {
        // Go's `math/rand` regression test (`regressGolden`) re-seeds with 0 before each method.
        // The full 64-bit values check the sign bits of the cooked table, which `Int63` hides.
        let uint64_golden: [u64; 20] = [
            8_717_895_732_742_165_505,
            2_259_404_117_704_393_152,
            6_050_128_673_802_995_827,
            9_724_605_487_393_973_602,
            12_613_765_599_614_152_010,
            11_893_357_769_247_901_871,
            1_774_932_891_286_980_153,
            15_267_744_271_532_198_264,
            17_498_302_081_433_670_737,
            1_543_572_285_742_637_646,
            11_885_104_867_954_719_224,
            17_548_432_336_275_752_516,
            7_837_839_688_282_259_259,
            2_518_412_263_346_885_298,
            5_617_773_211_005_988_520,
            11_562_935_753_659_892_057,
            16_368_296_284_793_757_383,
            161_231_572_858_529_631,
            16_482_847_956_365_694_147,
            16_596_477_517_051_940_556,
        ];
        let mut rng = GoRand::new(0);
        for expected in uint64_golden {
            assert_eq!(rng.uint64(), expected);
        }
        let mut rng = GoRand::new(0);
        for expected in uint64_golden {
            assert_eq!(rng.int63(), (expected & INT63_MASK) as i64);
        }
        let mut rng = GoRand::new(0);
        for expected in [4_059_586_549u32, 1_052_117_029, 2_817_310_706, 233_405_013] {
            assert_eq!(rng.uint32(), expected);
        }
    }

    #[test]
    fn derived_outputs_agree_with_uint64() {
        // Int63 and Uint32 are views of the same 64-bit stream, so two generators with one seed
        // must agree draw by draw, also after the register has wrapped around several times.
        let mut wide = GoRand::new(-7);
        let mut narrow = GoRand::new(-7);
        for _ in 0..3 * RNG_LEN {
            let word = wide.uint64();
            assert_eq!(narrow.uint32(), ((word & INT63_MASK) >> 31) as u32);
        }
    }

    #[test]
    fn seeds_congruent_modulo_int32_max_and_zero_are_handled_like_go() {
        // Go reduces the seed modulo 2^31 − 1 and maps 0 to a fixed constant.
        let mut a = GoRand::new(5);
        let mut b = GoRand::new(5 + INT32_MAX);
        let mut c = GoRand::new(5 - INT32_MAX);
        let first = a.int63();
        assert_eq!(b.int63(), first);
        assert_eq!(c.int63(), first);
        assert_eq!(
            GoRand::new(0).int63(),
            GoRand::new(ZERO_SEED_REPLACEMENT).int63()
        );
        assert_eq!(
            GoRand::new(INT32_MAX).int63(),
            GoRand::new(ZERO_SEED_REPLACEMENT).int63()
        );
    }

    #[test]
    fn spec_table_rows() {
        // Spec §3.5: host, pool, block size, seed, log2(n), start index, first block.
        let rows: [(&str, &str, u8, i64, u8, u128, &str); 7] = [
            (
                "node-1",
                "10.244.0.0/16",
                26,
                568_266_919,
                10,
                338,
                "10.244.84.128/26",
            ),
            (
                "node-2",
                "10.244.0.0/16",
                26,
                568_266_916,
                10,
                988,
                "10.244.247.0/26",
            ),
            (
                "kind-worker",
                "192.168.0.0/16",
                26,
                801_257_890,
                10,
                650,
                "192.168.162.128/26",
            ),
            (
                "kind-control-plane",
                "192.168.0.0/16",
                26,
                2_016_776_422,
                10,
                328,
                "192.168.82.0/26",
            ),
            (
                "node-1",
                "10.0.0.0/24",
                26,
                568_266_919,
                2,
                2,
                "10.0.0.128/26",
            ),
            (
                "node-1",
                "10.244.0.0/16",
                24,
                568_266_919,
                8,
                25,
                "10.244.25.0/24",
            ),
            (
                "node-1",
                "fd00:10:244::/56",
                122,
                568_266_919,
                66,
                38_674_171_010_318_308_692,
                "fd00:10:244:86:2d90:6847:2ee5:5500/122",
            ),
        ];
        for (host, pool, size, seed, log2, start, first) in rows {
            let mut rotation = block_rotation(net(pool), size, host);
            assert_eq!(rotation.seed(), seed, "{host} {pool}");
            assert_eq!(rotation.block_count_log2(), log2, "{host} {pool}");
            assert_eq!(rotation.start_index(), start, "{host} {pool}");
            assert_eq!(
                rotation.next().map(|b| b.to_string()).as_deref(),
                Some(first)
            );
        }
    }

    #[test]
    fn worked_example_continues_and_wraps() {
        assert_eq!(
            blocks("10.244.0.0/16", 26, "node-1", 3),
            ["10.244.84.128/26", "10.244.84.192/26", "10.244.85.0/26"]
        );
        // Start index 2 of 4: the rotation wraps to the pool's first block and then ends.
        assert_eq!(
            blocks("10.0.0.0/24", 26, "node-1", 10),
            [
                "10.0.0.128/26",
                "10.0.0.192/26",
                "10.0.0.0/26",
                "10.0.0.64/26"
            ]
        );
    }

    #[test]
    fn every_block_exactly_once() {
        let rotation = block_rotation(net("10.244.0.0/16"), 26, "node-2");
        assert_eq!(rotation.size_hint(), (1024, Some(1024)));
        let mut all: Vec<IpNet> = rotation.collect();
        assert_eq!(all.len(), 1024);
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 1024);
        assert_eq!(
            all.first().map(ToString::to_string).as_deref(),
            Some("10.244.0.0/26")
        );
    }

    #[test]
    fn ipv6_slash0_with_slash128_blocks_takes_three_quickly() {
        let mut rotation = block_rotation(net("::/0"), 128, "node-1");
        assert_eq!(rotation.block_count_log2(), 128);
        assert_eq!(rotation.size_hint(), (usize::MAX, None));
        let start = rotation.start_index();
        let taken: Vec<IpNet> = rotation.by_ref().take(3).collect();
        assert_eq!(taken.len(), 3);
        for (offset, block) in (0u128..).zip(&taken) {
            let IpNet::V6(block) = block else {
                panic!("IPv6 pool yielded {block}");
            };
            assert_eq!(block.prefix_len(), 128);
            assert_eq!(u128::from(block.addr()), start.wrapping_add(offset));
        }
        // Skipping far ahead is arithmetic, not iteration, and does not end the walk.
        assert!(rotation.nth(usize::MAX).is_some());
    }

    #[test]
    fn ipv4_slash8_with_slash32_blocks_is_lazy() {
        let mut rotation = block_rotation(net("10.0.0.0/8"), 32, "node-1");
        assert_eq!(rotation.block_count_log2(), 24);
        assert_eq!(rotation.size_hint(), (1 << 24, Some(1 << 24)));
        let start = rotation.start_index();
        assert!(start < 1 << 24);
        let first = rotation.next().expect("a first block");
        assert_eq!(first.prefix_len(), 32);
        let IpAddr::V4(first) = first.addr() else {
            panic!("IPv4 pool yielded {first}");
        };
        assert_eq!(u32::from(first), 0x0a00_0000 | start as u32);
        assert_eq!(rotation.size_hint(), ((1 << 24) - 1, Some((1 << 24) - 1)));
    }

    #[test]
    fn degenerate_sizes_do_not_panic() {
        // A block larger than the pool, or longer than the family allows, gives no blocks.
        assert!(blocks("10.0.0.0/16", 8, "h", 5).is_empty());
        assert!(blocks("10.0.0.0/16", 33, "h", 5).is_empty());
        assert!(blocks("fd00::/48", 129, "h", 5).is_empty());
        assert!(blocks("fd00::/48", 255, "h", 5).is_empty());
        // A pool that is a single block yields it once, also at the extremes of both families.
        assert_eq!(blocks("0.0.0.0/0", 0, "h", 5), ["0.0.0.0/0"]);
        assert_eq!(blocks("::/0", 0, "h", 5), ["::/0"]);
        assert_eq!(blocks("10.1.2.3/32", 32, "h", 5), ["10.1.2.3/32"]);
        assert_eq!(blocks("::1/128", 128, "h", 5), ["::1/128"]);
        // Host bits of the pool are ignored, as Calico parses the CIDR to its network.
        assert_eq!(
            blocks("10.0.0.77/24", 26, "node-1", 1),
            blocks("10.0.0.0/24", 26, "node-1", 1)
        );
        // Whole-family pools with the finest blocks, where the index shift spans every bit.
        for prefix in [0u8, 1, 31, 32] {
            let mut rotation = block_rotation(net("0.0.0.0/0"), prefix, "edge");
            assert!(rotation.next().is_some());
            assert_eq!(rotation.nth(usize::MAX), None);
        }
        for prefix in [0u8, 1, 63, 64, 65, 127, 128] {
            let rotation = block_rotation(net("::/0"), prefix, "edge");
            assert_eq!(
                rotation.clone().take(2).count(),
                if prefix == 0 { 1 } else { 2 }
            );
        }
    }

    #[test]
    fn every_prefix_pair_is_panic_free_and_in_pool() {
        // The contract promises no panic for any pool and block size, so try all of them, with
        // pools whose addresses have every bit set to stress the shift and OR arithmetic.
        let pools = [
            ("255.255.255.255", 32u8),
            ("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 128),
        ];
        for (address, bits) in pools {
            for pool_prefix in 0..=bits {
                let pool = net(&format!("{address}/{pool_prefix}"));
                for block_prefix in 0..=bits.saturating_add(2) {
                    let mut rotation = block_rotation(pool, block_prefix, "sweep");
                    let valid = block_prefix >= pool_prefix && block_prefix <= bits;
                    let first = rotation.next();
                    assert_eq!(first.is_some(), valid, "{pool} /{block_prefix}");
                    if let Some(block) = first {
                        assert!(pool.trunc().contains(&block), "{pool} /{block_prefix}");
                        assert_eq!(block.prefix_len(), block_prefix);
                    }
                    let _ = rotation.nth(usize::MAX);
                    let _ = rotation.size_hint();
                }
            }
        }
    }

    #[test]
    fn big_rand_word_boundaries() {
        // Exponents 63 and 127 give bit lengths that are multiples of 64, where Go keeps the whole
        // top word; 64 and 128 add a word that may hold only a zero bit. All results stay in range.
        for exponent in [0u8, 1, 62, 63, 64, 65, 126, 127, 128] {
            for seed in [1i64, 568_266_919, -3] {
                let value = big_rand_pow2(&mut GoRand::new(seed), exponent);
                assert_eq!(value & !low_bits(exponent), 0, "exponent {exponent}");
            }
        }
        assert_eq!(big_rand_pow2(&mut GoRand::new(1), 0), 0);
    }
}
