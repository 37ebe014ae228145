use std::collections::HashMap;

mod message;

fn main() {
    let mut buf = itoa::Buffer::new();
    let n: u64 = 42;
    let mut counts: fnv::FnvHashMap<&str, u32> = HashMap::default();
    counts.insert("deps", 4);
    let mut v: smallvec::SmallVec<[u8; 4]> = smallvec::SmallVec::new();
    v.extend_from_slice(b"hi");
    println!("{} {} {} {}", message::TEXT, buf.format(n), hex::encode(&v), counts["deps"]);
}
