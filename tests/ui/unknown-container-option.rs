use versioned::Versioned;

#[derive(Versioned)]
#[versioned(tabel = "users")]
struct User {
    id: i64,
    #[version]
    version: i64,
}

fn main() {}
