mod id;

fn main() {
    println!("{} {}", id::RUN, words::TEXT);
}
