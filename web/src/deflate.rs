//! A small raw-DEFLATE compressor (RFC 1951) for share links: LZ77 matches found through hash
//! chains, written in one block with the fixed Huffman codes.
//!
//! miniz_oxide's compressor cost the site 6.7 KB gzipped for texts of a few kilobytes, where
//! the dynamic Huffman tables it builds save only a few percent of the link. Any inflater reads
//! the output, so links stay `v1:`/`v2:` raw DEFLATE and every link ever written still opens
//! (reading keeps miniz_oxide's inflater).

/// How far back a match may start (DEFLATE's window).
const WINDOW: usize = 32 * 1024;
/// The longest and shortest matches DEFLATE can express.
const MAX_MATCH: usize = 258;
const MIN_MATCH: usize = 3;
/// Candidates tried per position: enough to find the long repeats of YAML manifests.
const MAX_TRIES: u32 = 256;
const HASH_BITS: u32 = 15;
const NONE: usize = usize::MAX;

/// The first length of each length code 257..=285 (RFC 1951, 3.2.5).
const LENGTH_BASE: [u16; 29] = [
    3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67, 83, 99, 115, 131,
    163, 195, 227, 258,
];
/// The first distance of each distance code 0..=29.
const DISTANCE_BASE: [u16; 30] = [
    1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769, 1025, 1537,
    2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577,
];

/// Bits packed into bytes least significant bit first, as DEFLATE stores them.
struct Bits {
    out: Vec<u8>,
    acc: u32,
    count: u32,
}

impl Bits {
    fn put(&mut self, value: u32, count: u32) {
        self.acc |= value << self.count;
        self.count += count;
        while self.count >= 8 {
            self.out.push(self.acc as u8);
            self.acc >>= 8;
            self.count -= 8;
        }
    }

    /// Huffman codes are stored most significant bit first, unlike every other field.
    fn code(&mut self, code: u32, len: u32) {
        self.put(code.reverse_bits() >> (32 - len), len);
    }

    /// A literal/length symbol in the fixed code (RFC 1951, 3.2.6).
    fn symbol(&mut self, symbol: u32) {
        match symbol {
            0..=143 => self.code(0x30 + symbol, 8),
            144..=255 => self.code(0x190 + symbol - 144, 9),
            256..=279 => self.code(symbol - 256, 7),
            _ => self.code(0xc0 + symbol - 280, 8),
        }
    }
}

/// The index of the last entry of `bases` that is at most `value`.
fn bucket(bases: &[u16], value: usize) -> usize {
    bases
        .iter()
        .rposition(|&b| usize::from(b) <= value)
        .unwrap_or(0)
}

fn hash(bytes: &[u8]) -> usize {
    let h = (u32::from(bytes[0]) << 16 | u32::from(bytes[1]) << 8 | u32::from(bytes[2]))
        .wrapping_mul(0x9e37_79b1);
    (h >> (32 - HASH_BITS)) as usize
}

/// `data` as raw DEFLATE.
pub fn compress(data: &[u8]) -> Vec<u8> {
    let mut bits = Bits {
        out: Vec::with_capacity(data.len() / 2 + 16),
        acc: 0,
        count: 0,
    };
    // BFINAL = 1, BTYPE = 01 (fixed Huffman codes).
    bits.put(0b011, 3);
    let mut head = vec![NONE; 1 << HASH_BITS];
    let mut prev = vec![NONE; data.len()];
    let mut i = 0;
    while i < data.len() {
        let (mut best, mut distance) = (0, 0);
        if i + MIN_MATCH <= data.len() {
            let max = (data.len() - i).min(MAX_MATCH);
            let mut candidate = head[hash(&data[i..])];
            let mut tries = MAX_TRIES;
            while candidate != NONE && i - candidate <= WINDOW && tries > 0 {
                let len = data[candidate..]
                    .iter()
                    .zip(&data[i..i + max])
                    .take_while(|(a, b)| a == b)
                    .count();
                if len > best {
                    (best, distance) = (len, i - candidate);
                    if len == max {
                        break;
                    }
                }
                candidate = prev[candidate];
                tries -= 1;
            }
        }
        let step = if best >= MIN_MATCH {
            let code = bucket(&LENGTH_BASE, best);
            bits.symbol(257 + code as u32);
            let extra = if (8..28).contains(&code) {
                code / 4 - 1
            } else {
                0
            };
            bits.put((best - usize::from(LENGTH_BASE[code])) as u32, extra as u32);
            let code = bucket(&DISTANCE_BASE, distance);
            bits.code(code as u32, 5);
            let extra = if code < 4 { 0 } else { code / 2 - 1 };
            bits.put(
                (distance - usize::from(DISTANCE_BASE[code])) as u32,
                extra as u32,
            );
            best
        } else {
            bits.symbol(u32::from(data[i]));
            1
        };
        for at in i..(i + step).min((data.len() + 1).saturating_sub(MIN_MATCH)) {
            let h = hash(&data[at..]);
            prev[at] = head[h];
            head[h] = at;
        }
        i += step;
    }
    bits.symbol(256);
    if bits.count > 0 {
        bits.out.push(bits.acc as u8);
    }
    bits.out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inflate(packed: &[u8]) -> Vec<u8> {
        miniz_oxide::inflate::decompress_to_vec(packed).unwrap()
    }

    #[test]
    fn round_trips_through_an_inflater() {
        let mut noise = Vec::new();
        let mut x = 12345u32;
        for _ in 0..70_000 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            noise.push((x >> 16) as u8 % 7 + b'a');
        }
        let long = "kind: IPPool\n  cidr: 10.0.0.0/16\n".repeat(3000);
        for data in [
            &b""[..],
            b"a",
            b"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
            "é 😀 é 😀 é 😀".as_bytes(),
            long.as_bytes(),
            &noise,
            &[0xffu8; 1000],
        ] {
            assert_eq!(inflate(&compress(data)), data);
        }
    }

    #[test]
    fn every_length_and_distance_code_round_trips() {
        // Repeats of every length at distances from 1 to the window's end.
        let mut data = Vec::new();
        let mut x = 7u32;
        for len in (1..=MAX_MATCH + 3).step_by(1) {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let unit: Vec<u8> = (0..len).map(|k| (x >> (k % 24)) as u8).collect();
            data.extend_from_slice(&unit);
            data.extend_from_slice(&unit);
        }
        let far: Vec<u8> = data[..300].to_vec();
        data.extend_from_slice(&far);
        assert!(data.len() > WINDOW);
        assert_eq!(inflate(&compress(&data)), data);
    }

    #[test]
    fn the_examples_compress_close_to_miniz() {
        for example in crate::examples::EXAMPLES {
            let text = example.text.as_bytes();
            let ours = compress(text).len();
            let best = miniz_oxide::deflate::compress_to_vec(text, 9).len();
            assert!(ours * 100 <= best * 125, "{}: {ours} vs {best}", example.id);
        }
    }
}
