use versioned::Versioned;

#[derive(Versioned)]
#[versioned(tabel = "users", table = 1, table = "people")]
struct User {
    id: i64,
    #[versioned(colum = "mail", skip = true, column = "")]
    email: String,
    #[version]
    version: i64,
}

fn main() {}
