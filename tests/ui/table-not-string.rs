use versioned::Versioned;

#[derive(Versioned)]
#[versioned(table = users)]
struct User {
    id: i64,
    #[version]
    version: i64,
}

fn main() {}
