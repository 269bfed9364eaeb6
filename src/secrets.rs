//! The key names of the SOPS secrets file, for DB019 `missing-secret`.
//!
//! SOPS keeps a YAML file's structure and key names in clear and encrypts only
//! the values (`db_password: ENC[AES256_GCM,...]`), so which keys exist can be
//! read without any key material. Only the names of mapping keys are kept;
//! values are never stored, let alone decrypted.
//!
//! A key is looked up the way sops-nix does: its `/`-separated parts are
//! mapping keys from the top of the document down (`server/immich/db_password`
//! is `server: { immich: { db_password: ... } }`), and an empty key means the
//! whole file. Whatever cannot be read for certain — a missing, unreadable or
//! oversized file, invalid YAML, a document that is not a mapping, an alias or
//! a merge key on the way — makes the answer unknown, never "missing".

use std::path::Path;

use yaml_rust2::parser::{Event, Parser};

/// Files larger than this are not read (a secrets file is a few kilobytes).
const MAX_BYTES: u64 = 16 * 1024 * 1024;
/// Mappings nested deeper than this are not looked into.
const MAX_DEPTH: usize = 64;

/// A node of the key tree.
#[derive(Clone, Debug, PartialEq)]
enum Node {
    /// A mapping: each key's text (`None` for a key that is not a scalar,
    /// which no path can name) and what it holds.
    Map(Vec<(Option<String>, Node)>),
    /// A scalar or a sequence: nothing a key path can go into.
    Leaf,
    /// An alias, or a mapping too deep to follow: its keys are not known.
    Unknown,
}

/// What the secrets file says about one key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Lookup {
    Present,
    /// The key is not there. `found` is how many of its leading parts are.
    Missing {
        found: usize,
    },
    /// The file cannot say (an alias or a merge key on the way).
    Unknown,
}

#[derive(Clone, Debug)]
enum State {
    /// No secrets file, or it cannot be read: nothing is known.
    Unavailable,
    /// The top-level mapping of each document.
    Loaded(Vec<Node>),
}

/// The secrets file of an analysis, reduced to its key names.
#[derive(Clone, Debug)]
pub struct Secrets {
    /// The file, relative to the root, as configured.
    pub file: String,
    state: State,
}

impl Secrets {
    /// No secrets file: every lookup is unknown.
    pub fn unavailable(file: &str) -> Secrets {
        Secrets {
            file: file.to_string(),
            state: State::Unavailable,
        }
    }

    /// Reads `file` (relative to `root`). A file that is missing, unreadable,
    /// too large or not a YAML mapping gives [`Secrets::unavailable`].
    pub fn load(root: &Path, file: &str) -> Secrets {
        let path = root.join(file);
        let readable = std::fs::metadata(&path)
            .map(|m| m.is_file() && m.len() <= MAX_BYTES)
            .unwrap_or(false);
        let text = readable
            .then(|| std::fs::read(&path).ok())
            .flatten()
            .and_then(|bytes| String::from_utf8(bytes).ok());
        match text.and_then(|t| parse(&t)) {
            Some(docs) => Secrets {
                file: file.to_string(),
                state: State::Loaded(docs),
            },
            None => Secrets::unavailable(file),
        }
    }

    /// Parses YAML text directly (for tests and editor buffers).
    pub fn from_yaml(file: &str, text: &str) -> Secrets {
        match parse(text) {
            Some(docs) => Secrets {
                file: file.to_string(),
                state: State::Loaded(docs),
            },
            None => Secrets::unavailable(file),
        }
    }

    /// Whether the file was read.
    pub fn is_available(&self) -> bool {
        matches!(self.state, State::Loaded(_))
    }

    /// Looks up a `/`-separated key; `None` when the file was not read.
    pub fn lookup(&self, key: &str) -> Option<Lookup> {
        let State::Loaded(docs) = &self.state else {
            return None;
        };
        if key.is_empty() {
            // sops-nix: an empty key is the whole file.
            return Some(Lookup::Present);
        }
        let parts: Vec<&str> = key.split('/').collect();
        let mut best = Lookup::Missing { found: 0 };
        for doc in docs {
            match lookup_in(doc, &parts) {
                Lookup::Present => return Some(Lookup::Present),
                Lookup::Unknown => best = Lookup::Unknown,
                Lookup::Missing { found } => {
                    if let Lookup::Missing { found: b } = best {
                        best = Lookup::Missing {
                            found: found.max(b),
                        };
                    }
                }
            }
        }
        Some(best)
    }
}

fn lookup_in(doc: &Node, parts: &[&str]) -> Lookup {
    let mut node = doc;
    for (i, part) in parts.iter().enumerate() {
        let entries = match node {
            Node::Map(entries) => entries,
            Node::Unknown => return Lookup::Unknown,
            Node::Leaf => return Lookup::Missing { found: i },
        };
        match entries.iter().find(|(k, _)| k.as_deref() == Some(*part)) {
            Some((_, next)) => node = next,
            // A merge key (`<<: *base`) brings in keys that are not listed here.
            None if entries.iter().any(|(k, _)| k.as_deref() == Some("<<")) => {
                return Lookup::Unknown
            }
            None => return Lookup::Missing { found: i },
        }
    }
    Lookup::Present
}

/// A mapping being read.
struct Frame {
    entries: Vec<(Option<String>, Node)>,
    /// The key read, awaiting its value.
    key: Option<Option<String>>,
}

/// Builds the key tree of every document from the parser's events, without
/// recursion. `None` when the text is not YAML or a document is not a mapping.
fn parse(text: &str) -> Option<Vec<Node>> {
    let mut parser = Parser::new_from_str(text);
    let mut docs = Vec::new();
    let mut stack: Vec<Frame> = Vec::new();
    // Inside a sequence, a complex key or a too-deep mapping: how many
    // collections are open there, and what the whole is once closed.
    let mut skip = 0usize;
    let mut skipped_as = Node::Leaf;
    loop {
        let (event, _) = parser.next_token().ok()?;
        let done = match event {
            Event::StreamEnd => break,
            Event::Nothing | Event::StreamStart | Event::DocumentStart | Event::DocumentEnd => None,
            _ if skip > 0 => match event {
                Event::MappingStart(..) | Event::SequenceStart(..) => {
                    skip += 1;
                    None
                }
                Event::MappingEnd | Event::SequenceEnd => {
                    skip -= 1;
                    (skip == 0).then(|| (skipped_as.clone(), None))
                }
                _ => None,
            },
            Event::Scalar(text, ..) => Some((Node::Leaf, Some(text))),
            Event::Alias(_) => Some((Node::Unknown, None)),
            Event::SequenceStart(..) => {
                skip = 1;
                skipped_as = Node::Leaf;
                None
            }
            Event::MappingStart(..) => {
                let in_key = stack.last().is_some_and(|f| f.key.is_none());
                if in_key || stack.len() >= MAX_DEPTH {
                    skip = 1;
                    skipped_as = Node::Unknown;
                } else {
                    stack.push(Frame {
                        entries: Vec::new(),
                        key: None,
                    });
                }
                None
            }
            Event::MappingEnd => {
                let frame = stack.pop()?;
                Some((Node::Map(frame.entries), None))
            }
            Event::SequenceEnd => return None,
        };
        let Some((node, scalar)) = done else {
            continue;
        };
        match stack.last_mut() {
            None => docs.push(node),
            Some(frame) => match frame.key.take() {
                None => frame.key = Some(scalar),
                Some(key) => frame.entries.push((key, node)),
            },
        }
    }
    if docs.is_empty() || !docs.iter().all(|d| matches!(d, Node::Map(_))) {
        return None;
    }
    Some(docs)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SOPS: &str = "\
server:
    immich:
        db_password: ENC[AES256_GCM,data:q3FzbA==,iv:2sVz0E1kPp3mJ8C9nq4Q1bq7Wc2ZP0vN8nD1aV4sEw8=,tag:y4Hh7uUq1Zl4N8b2m1xJ9w==,type:str]
    \"paperless\":
        admin: ENC[AES256_GCM,data:bm9wZQ==,iv:AAAA,tag:BBBB,type:str]
sops:
    kms: []
    age:
        - recipient: age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p
          enc: |
            -----BEGIN AGE ENCRYPTED FILE-----
            YWdlLWVuY3J5cHRpb24ub3JnL3YxCi0+IFgyNTUxOSBx
            -----END AGE ENCRYPTED FILE-----
    lastmodified: \"2024-05-02T09:12:44Z\"
    mac: ENC[AES256_GCM,data:bWFj,iv:AAAA,tag:BBBB,type:str]
    unencrypted_suffix: _unencrypted
    version: 3.8.1
";

    fn secrets(text: &str) -> Secrets {
        Secrets::from_yaml("secrets/secrets.yaml", text)
    }

    #[test]
    fn finds_nested_keys_of_a_sops_file() {
        let s = secrets(SOPS);
        assert!(s.is_available());
        assert_eq!(s.lookup("server/immich/db_password"), Some(Lookup::Present));
        assert_eq!(s.lookup("server/paperless/admin"), Some(Lookup::Present));
        assert_eq!(s.lookup("server/immich"), Some(Lookup::Present));
        assert_eq!(s.lookup("sops/version"), Some(Lookup::Present));
    }

    #[test]
    fn reports_how_much_of_a_missing_key_exists() {
        let s = secrets(SOPS);
        assert_eq!(
            s.lookup("server/paperless/db_password"),
            Some(Lookup::Missing { found: 2 })
        );
        assert_eq!(
            s.lookup("server/jellyfin/db_password"),
            Some(Lookup::Missing { found: 1 })
        );
        assert_eq!(s.lookup("db/jellyfin"), Some(Lookup::Missing { found: 0 }));
        // Through a value that is not a mapping.
        assert_eq!(
            s.lookup("server/immich/db_password/x"),
            Some(Lookup::Missing { found: 3 })
        );
        // Keys inside sequences are not mapping keys of the path.
        assert_eq!(
            s.lookup("sops/age/recipient"),
            Some(Lookup::Missing { found: 2 })
        );
    }

    #[test]
    fn an_empty_key_is_the_whole_file() {
        assert_eq!(secrets(SOPS).lookup(""), Some(Lookup::Present));
    }

    #[test]
    fn block_scalars_and_flow_collections_are_skipped() {
        let s = secrets(
            "a: |\n  b: not a key\n  c: nor this\nd: { e: 1, f: [g, {h: 2}] }\ni: [1, 2]\nj: >-\n  folded\n  text\nk: 'x: y'\n",
        );
        assert_eq!(s.lookup("a"), Some(Lookup::Present));
        assert_eq!(s.lookup("a/b"), Some(Lookup::Missing { found: 1 }));
        assert_eq!(s.lookup("d/e"), Some(Lookup::Present));
        assert_eq!(s.lookup("d/h"), Some(Lookup::Missing { found: 1 }));
        assert_eq!(s.lookup("k"), Some(Lookup::Present));
        assert_eq!(s.lookup("b"), Some(Lookup::Missing { found: 0 }));
    }

    #[test]
    fn quoted_and_json_keys_are_read() {
        let s = secrets("{\"server\": {\"immich\": {\"db_password\": \"ENC[...]\"}}}");
        assert_eq!(s.lookup("server/immich/db_password"), Some(Lookup::Present));
        let s = secrets("'server':\n  \"im mich\":\n    db_password: x\n");
        assert_eq!(
            s.lookup("server/im mich/db_password"),
            Some(Lookup::Present)
        );
    }

    #[test]
    fn aliases_and_merge_keys_make_the_answer_unknown() {
        let s = secrets("base: &b\n  immich:\n    db_password: x\nserver: *b\n");
        assert_eq!(s.lookup("server/immich/db_password"), Some(Lookup::Unknown));
        let s = secrets("base: &b\n  x: 1\nserver:\n  <<: *b\n  y: 2\n");
        assert_eq!(s.lookup("server/x"), Some(Lookup::Unknown));
        assert_eq!(s.lookup("server/y"), Some(Lookup::Present));
    }

    #[test]
    fn complex_keys_are_not_names() {
        let s = secrets("? {a: 1}\n: value\nb: 2\n");
        assert_eq!(s.lookup("a"), Some(Lookup::Missing { found: 0 }));
        assert_eq!(s.lookup("b"), Some(Lookup::Present));
    }

    #[test]
    fn several_documents_are_searched() {
        let s = secrets("a: 1\n---\nserver:\n  x: 2\n");
        assert_eq!(s.lookup("server/x"), Some(Lookup::Present));
        assert_eq!(s.lookup("server/y"), Some(Lookup::Missing { found: 1 }));
    }

    #[test]
    fn what_is_not_a_yaml_mapping_is_unavailable() {
        for text in [
            "",
            "# only a comment\n",
            "just a string",
            "- a\n- b\n",
            "a: [unclosed\n",
            "a: 1\n b: 2\n",
            "KEY=value\nOTHER=x\n",
            "\t- bad",
        ] {
            let s = secrets(text);
            assert!(!s.is_available(), "{text:?}");
            assert_eq!(s.lookup("a"), None, "{text:?}");
        }
    }

    #[test]
    fn deep_nesting_is_bounded() {
        // Past the parser's own nesting limit: unreadable, not a crash.
        let deeper = format!("{}x{}", "{a: ".repeat(5000), "}".repeat(5000));
        assert!(!secrets(&deeper).is_available());
        let deep = format!("{}x{}", "{a: ".repeat(200), "}".repeat(200));
        let s = secrets(&deep);
        assert!(s.is_available());
        assert_eq!(s.lookup("a/a/a"), Some(Lookup::Present));
        let long: Vec<&str> = std::iter::repeat_n("a", 200).collect();
        assert_eq!(s.lookup(&long.join("/")), Some(Lookup::Unknown));
    }

    #[test]
    fn a_missing_file_is_unavailable() {
        let s = Secrets::load(Path::new("/nonexistent/dbprov"), "secrets/secrets.yaml");
        assert!(!s.is_available());
        assert_eq!(s.lookup("server/immich/db_password"), None);
        assert_eq!(s.file, "secrets/secrets.yaml");
    }
}
