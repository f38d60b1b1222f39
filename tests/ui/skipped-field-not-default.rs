use versioned::Versioned;

struct Cache;

#[derive(Versioned)]
struct User {
    id: i64,
    #[versioned(skip)]
    cache: Cache,
    #[version]
    version: i64,
}

fn main() {}
