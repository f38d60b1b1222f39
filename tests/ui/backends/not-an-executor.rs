use versioned::Versioned;

#[derive(Versioned)]
struct Note {
    #[id(auto)]
    id: i64,
    body: String,
    #[version]
    version: i64,
}

fn main() {
    let connection = String::from("not a connection");
    let _ = Note::find(&connection, 1);
}
