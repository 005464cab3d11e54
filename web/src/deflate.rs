//! Raw DEFLATE (RFC 1951) for share links, small rather than fast or tight.
//!
//! `compress` finds LZ77 matches through hash chains and writes them in one block with the
//! fixed Huffman codes; `decompress` reads every block type (puff-style canonical decoding), so
//! the links miniz_oxide's compressor wrote before still open. miniz_oxide cost the site 11 KB
//! gzipped (6.0 KB its compressor, 5.1 KB its inflater); its dynamic Huffman tables made links
//! about a sixth shorter.

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

/// The extra bits after length code `257 + index`.
fn length_extra(index: usize) -> usize {
    if (8..28).contains(&index) {
        index / 4 - 1
    } else {
        0
    }
}

/// The extra bits after distance code `index`.
fn distance_extra(index: usize) -> usize {
    if index < 4 {
        0
    } else {
        index / 2 - 1
    }
}

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
            let extra = length_extra(code);
            bits.put((best - usize::from(LENGTH_BASE[code])) as u32, extra as u32);
            let code = bucket(&DISTANCE_BASE, distance);
            bits.code(code as u32, 5);
            let extra = distance_extra(code);
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

/// Reads bits least significant first; `None` once the input runs out.
struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
    buf: u32,
    count: u32,
}

impl Reader<'_> {
    fn bits(&mut self, need: usize) -> Option<usize> {
        let need = need as u32;
        while self.count < need {
            self.buf |= u32::from(*self.data.get(self.pos)?) << self.count;
            self.pos += 1;
            self.count += 8;
        }
        let value = self.buf & ((1 << need) - 1);
        self.buf >>= need;
        self.count -= need;
        Some(value as usize)
    }
}

/// A canonical Huffman code: how many codes each length has, and the symbols in code order.
struct Huffman {
    counts: [u16; 16],
    symbols: Vec<u16>,
}

impl Huffman {
    /// The code for these code lengths (0: unused), or `None` when they are over-subscribed.
    fn new(lengths: &[u8]) -> Option<Huffman> {
        let mut counts = [0u16; 16];
        for &len in lengths {
            counts[usize::from(len)] += 1;
        }
        let mut left = 1i32;
        for &count in &counts[1..] {
            left = left * 2 - i32::from(count);
            if left < 0 {
                return None;
            }
        }
        let mut offsets = [0u16; 16];
        for len in 1..15 {
            offsets[len + 1] = offsets[len] + counts[len];
        }
        let mut symbols = vec![0; lengths.len()];
        for (symbol, &len) in lengths.iter().enumerate() {
            if len != 0 {
                let at = &mut offsets[usize::from(len)];
                symbols[usize::from(*at)] = symbol as u16;
                *at += 1;
            }
        }
        Some(Huffman { counts, symbols })
    }

    fn decode(&self, input: &mut Reader<'_>) -> Option<usize> {
        // The codes of one length are consecutive numbers, `first` the lowest of them.
        let (mut code, mut first, mut index) = (0i32, 0i32, 0i32);
        for &count in &self.counts[1..] {
            code |= input.bits(1)? as i32;
            let count = i32::from(count);
            if code - first < count {
                return self
                    .symbols
                    .get((index + code - first) as usize)
                    .map(|&s| usize::from(s));
            }
            index += count;
            first = (first + count) << 1;
            code <<= 1;
        }
        None
    }
}

/// The order in which a dynamic block lists the code-length code's lengths.
const CODE_LENGTH_ORDER: [usize; 19] = [
    16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15,
];

/// `data` inflated, or `None` when it is not valid raw DEFLATE or inflates to more than
/// `limit` bytes.
pub fn decompress(data: &[u8], limit: usize) -> Option<Vec<u8>> {
    let mut input = Reader {
        data,
        pos: 0,
        buf: 0,
        count: 0,
    };
    let mut out = Vec::new();
    loop {
        let last = input.bits(1)? == 1;
        match input.bits(2)? {
            0 => {
                // Stored: the rest of the current byte is padding.
                (input.buf, input.count) = (0, 0);
                let at = input.pos;
                let header = data.get(at..at + 4)?;
                let len = usize::from(u16::from_le_bytes([header[0], header[1]]));
                if len != usize::from(!u16::from_le_bytes([header[2], header[3]])) {
                    return None;
                }
                let block = data.get(at + 4..at + 4 + len)?;
                if out.len() + len > limit {
                    return None;
                }
                out.extend_from_slice(block);
                input.pos = at + 4 + len;
            }
            1 => {
                let mut lengths = [8u8; 288];
                lengths[144..256].fill(9);
                lengths[256..280].fill(7);
                let literals = Huffman::new(&lengths)?;
                let distances = Huffman::new(&[5; 30])?;
                inflate_block(&mut input, &literals, &distances, &mut out, limit)?;
            }
            2 => {
                let literal_count = input.bits(5)? + 257;
                let distance_count = input.bits(5)? + 1;
                let code_count = input.bits(4)? + 4;
                if literal_count > 286 || distance_count > 30 {
                    return None;
                }
                let mut lengths = [0u8; 316];
                for &symbol in &CODE_LENGTH_ORDER[..code_count] {
                    lengths[symbol] = input.bits(3)? as u8;
                }
                let code_lengths = Huffman::new(&lengths[..19])?;
                lengths[..19].fill(0);
                let total = literal_count + distance_count;
                let mut at = 0;
                while at < total {
                    let (len, repeat) = match code_lengths.decode(&mut input)? {
                        16 => (lengths[at.checked_sub(1)?], 3 + input.bits(2)?),
                        17 => (0, 3 + input.bits(3)?),
                        18 => (0, 11 + input.bits(7)?),
                        len => (len as u8, 1),
                    };
                    lengths.get_mut(at..at + repeat)?.fill(len);
                    at += repeat;
                }
                if at > total || lengths[256] == 0 {
                    return None;
                }
                let literals = Huffman::new(&lengths[..literal_count])?;
                let distances = Huffman::new(&lengths[literal_count..total])?;
                inflate_block(&mut input, &literals, &distances, &mut out, limit)?;
            }
            _ => return None,
        }
        if last {
            return Some(out);
        }
    }
}

/// One Huffman-coded block, up to its end-of-block symbol.
fn inflate_block(
    input: &mut Reader<'_>,
    literals: &Huffman,
    distances: &Huffman,
    out: &mut Vec<u8>,
    limit: usize,
) -> Option<()> {
    loop {
        let symbol = literals.decode(input)?;
        if symbol < 256 {
            if out.len() >= limit {
                return None;
            }
            out.push(symbol as u8);
        } else if symbol == 256 {
            return Some(());
        } else {
            let code = symbol - 257;
            let len = usize::from(*LENGTH_BASE.get(code)?) + input.bits(length_extra(code))?;
            let code = distances.decode(input)?;
            let distance =
                usize::from(*DISTANCE_BASE.get(code)?) + input.bits(distance_extra(code))?;
            if distance > out.len() || out.len() + len > limit {
                return None;
            }
            for _ in 0..len {
                out.push(out[out.len() - distance]);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Inflated by miniz_oxide and by `decompress`, which must agree.
    fn inflate(packed: &[u8]) -> Vec<u8> {
        let theirs = miniz_oxide::inflate::decompress_to_vec(packed).unwrap();
        assert_eq!(decompress(packed, usize::MAX).as_ref(), Some(&theirs));
        theirs
    }

    #[test]
    fn decompress_reads_every_block_type_miniz_writes() {
        let text = "kind: IPPool\nmetadata:\n  name: pool-é-😀\n".repeat(200);
        for level in [0, 1, 6, 9, 10] {
            let packed = miniz_oxide::deflate::compress_to_vec(text.as_bytes(), level);
            assert_eq!(
                decompress(&packed, usize::MAX).unwrap(),
                text.as_bytes(),
                "{level}"
            );
        }
        for example in crate::examples::EXAMPLES {
            let packed = miniz_oxide::deflate::compress_to_vec(example.text.as_bytes(), 9);
            assert_eq!(inflate(&packed), example.text.as_bytes());
        }
    }

    #[test]
    fn decompress_refuses_damage_and_excess_without_panicking() {
        let text = "x: 1\n".repeat(1000);
        let packed = miniz_oxide::deflate::compress_to_vec(text.as_bytes(), 9);
        assert_eq!(decompress(&packed, text.len()).unwrap(), text.as_bytes());
        assert_eq!(decompress(&packed, text.len() - 1), None);
        assert_eq!(decompress(&compress(text.as_bytes()), 100), None);
        for cut in 0..packed.len() {
            assert_eq!(decompress(&packed[..cut], usize::MAX), None, "{cut}");
        }
        let mut x = 99u32;
        for _ in 0..20_000 {
            let noise: Vec<u8> = (0..(x % 64))
                .map(|_| {
                    x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                    (x >> 16) as u8
                })
                .collect();
            let _ = decompress(&noise, 1 << 16);
            let mut damaged = packed.clone();
            let at = x as usize % damaged.len();
            damaged[at] ^= 1 << (x % 8);
            let _ = decompress(&damaged, 1 << 16);
        }
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
