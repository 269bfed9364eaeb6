//! The lowered tree says what rnix's tree says: the children rnix's typed
//! accessors find, the same spans, the same decoded strings.

use super::*;

fn tree(src: &str) -> FileAst {
    parse(0, src).unwrap_or_else(|e| panic!("{src}: {e}"))
}

fn text(src: &str, ast: &FileAst, id: NodeId) -> String {
    let s = ast.span(id);
    src[s.start as usize..s.end as usize].to_string()
}

fn root(ast: &FileAst) -> NodeId {
    ast.root().expect("an expression")
}

#[test]
fn spans_are_rnix_node_ranges() {
    let src = "  (a.b.c or { x = 1; })  ";
    let ast = tree(src);
    let paren = root(&ast);
    assert_eq!(text(src, &ast, paren), "(a.b.c or { x = 1; })");
    let Expr::Paren(select) = ast.expr(paren) else {
        panic!("a paren")
    };
    let Expr::Select {
        base,
        path,
        default,
    } = ast.expr(select)
    else {
        panic!("a select")
    };
    assert_eq!(text(src, &ast, base), "a");
    let keys: Vec<_> = path.iter().map(|&k| text(src, &ast, k)).collect();
    assert_eq!(keys, ["b", "c"]);
    assert_eq!(text(src, &ast, default.expect("or")), "{ x = 1; }");
}

#[test]
fn strings_are_decoded_as_rnix_normalises_them() {
    let plain = tree(r#""abc""#);
    assert!(matches!(
        plain.expr(root(&plain)),
        Expr::Str(Str::Plain("abc"))
    ));
    let escaped = tree(r#""a\"b\n\${c}""#);
    assert!(matches!(
        escaped.expr(root(&escaped)),
        Expr::Str(Str::Plain("a\"b\n${c}"))
    ));
    let indented = tree("''\n    one\n      two\n  ''");
    assert!(matches!(
        indented.expr(root(&indented)),
        // What `nix-instantiate --eval` gives.
        Expr::Str(Str::Plain("one\n  two\n"))
    ));
    let src = r#""x-${a}-y${b}""#;
    let parts = tree(src);
    let Expr::Str(Str::Parts(ids)) = parts.expr(root(&parts)) else {
        panic!("interpolated")
    };
    let shown: Vec<String> = ids
        .iter()
        .map(|&p| match parts.part(p) {
            Part::Text(t) => format!("text {t}"),
            Part::Interpolation(e) => format!("expr {}", text(src, &parts, e)),
        })
        .collect();
    assert_eq!(shown, ["text x-", "expr a", "text -y", "expr b"]);
}

#[test]
fn paths_keep_their_pieces_as_written() {
    let src = "./a/${b}/c.nix";
    let ast = tree(src);
    let Expr::Path(ids) = ast.expr(root(&ast)) else {
        panic!("a path")
    };
    let shown: Vec<String> = ids
        .iter()
        .map(|&p| match ast.part(p) {
            Part::Text(t) => t.to_string(),
            Part::Interpolation(e) => format!("<{}>", text(src, &ast, e)),
        })
        .collect();
    assert_eq!(shown.concat(), "./a/<b>/c.nix");
    assert!(matches!(ast_of("<nixpkgs>"), Expr::PathSearch));
    assert!(matches!(ast_of("~/x"), Expr::PathHome));
}

fn ast_of(src: &str) -> Expr<'static> {
    let ast: &'static FileAst = Box::leak(Box::new(tree(src)));
    ast.expr(root(ast))
}

#[test]
fn bindings_keep_inherit_sources_and_dynamic_keys() {
    let src = r#"rec { inherit (s) a "b"; inherit c; x.${k}.y = 1; "z" = 2; }"#;
    let ast = tree(src);
    let Expr::AttrSet {
        recursive: true,
        entries,
    } = ast.expr(root(&ast))
    else {
        panic!("a rec set")
    };
    let mut shown = Vec::new();
    for &e in entries {
        match ast.entry(e) {
            Entry::Inherit { from, attrs } => shown.push(format!(
                "inherit {:?} {:?}",
                from.map(|f| text(src, &ast, f)),
                attrs
                    .iter()
                    .map(|&a| text(src, &ast, a))
                    .collect::<Vec<_>>()
            )),
            Entry::Binding { path, value } => {
                let keys: Vec<String> = path
                    .iter()
                    .map(|&k| match ast.attr(k) {
                        Attr::Ident(n) => n.to_string(),
                        Attr::Str(Str::Plain(s)) => format!("str {s}"),
                        Attr::Str(Str::Parts(_)) => "interpolated".to_string(),
                        Attr::Dynamic(e) => format!("dyn {}", text(src, &ast, e)),
                    })
                    .collect();
                shown.push(format!("{keys:?} = {}", text(src, &ast, value)));
            }
        }
    }
    assert_eq!(
        shown,
        [
            r#"inherit Some("s") ["a", "\"b\""]"#,
            r#"inherit None ["c"]"#,
            r#"["x", "dyn k", "y"] = 1"#,
            r#"["str z"] = 2"#,
        ]
    );
}

#[test]
fn parameters_keep_names_defaults_binds_and_ellipsis() {
    let ast = tree("args @ { a, b ? 1, ... }: a");
    let Expr::Lambda { param, body } = ast.expr(root(&ast)) else {
        panic!("a lambda")
    };
    assert!(matches!(ast.expr(body), Expr::Ident("a")));
    let Param::Pattern {
        entries,
        bind,
        ellipsis,
    } = ast.param(param)
    else {
        panic!("a pattern")
    };
    assert_eq!(bind, Some("args"));
    assert!(ellipsis);
    let names: Vec<_> = entries
        .iter()
        .map(|&e| {
            let (name, default) = ast.pat_entry(e);
            (name, default.is_some())
        })
        .collect();
    assert_eq!(names, [("a", false), ("b", true)]);
    let ast = tree("x: x");
    let Expr::Lambda { param, .. } = ast.expr(root(&ast)) else {
        panic!("a lambda")
    };
    assert!(matches!(ast.param(param), Param::Ident("x")));
}

#[test]
fn literals_and_operators() {
    assert!(matches!(ast_of("42"), Expr::Int(42)));
    assert!(matches!(
        ast_of("99999999999999999999"),
        Expr::IntOutOfRange
    ));
    assert!(matches!(ast_of("1.5"), Expr::Float(x) if x == 1.5));
    assert!(matches!(
        ast_of("a ++ b"),
        Expr::BinOp {
            op: BinOpKind::Concat,
            ..
        }
    ));
    assert!(matches!(
        ast_of("a -> b"),
        Expr::BinOp {
            op: BinOpKind::Implication,
            ..
        }
    ));
    assert!(matches!(
        ast_of("!a"),
        Expr::UnaryOp {
            op: UnaryOpKind::Invert,
            ..
        }
    ));
    assert!(matches!(
        ast_of("-a"),
        Expr::UnaryOp {
            op: UnaryOpKind::Negate,
            ..
        }
    ));
}

#[test]
fn nesting_beyond_the_bound_is_a_too_deep_node() {
    // rnix builds a chain of `+` in a loop (its recursion limit does not
    // apply), as a tree nested on the left.
    let src = format!("1{}", " + 1".repeat(MAX_DEPTH + 10));
    let handle = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn(move || {
            let ast = tree(&src);
            let mut id = root(&ast);
            let mut depth = 0;
            while let Expr::BinOp { lhs, .. } = ast.expr(id) {
                id = lhs;
                depth += 1;
            }
            (depth, matches!(ast.expr(id), Expr::TooDeep))
        })
        .expect("spawn");
    assert_eq!(handle.join().expect("no panic"), (MAX_DEPTH, true));
}

#[test]
fn every_kind_reads_back_as_itself() {
    for (i, k) in ALL_KINDS.iter().enumerate() {
        assert_eq!(*k as usize, i, "{k:?}");
    }
}

#[test]
fn an_encoded_tree_decodes_to_the_same_tree() {
    let src = r#"{ a = "x${b}"; c = [ 1 2.5 ./p ]; d = { e ? 1, ... }@f: f; }"#;
    let ast = tree(src);
    let mut bytes = Vec::new();
    ast.encode(&mut bytes);
    let (back, used) = FileAst::decode(&bytes, 3, Arc::from(src)).expect("decodes");
    assert_eq!(used, bytes.len());
    assert_eq!(back.file(), 3);
    let mut again = Vec::new();
    back.encode(&mut again);
    assert_eq!(again, bytes);
    assert!(FileAst::decode(&bytes[..bytes.len() - 1], 3, Arc::from(src)).is_none());
}

#[test]
fn nodes_with_a_third_field_or_a_long_span_read_back_whole() {
    let mut ast = FileAst::empty(0);
    let cases = [
        (Kind::Binding, 3, 9, 4, 2, 7),
        (Kind::Apply, 10, 20, 1, 2, NONE),
        (Kind::AttrSet, 0, MAX_SHORT_LEN, 0, 5, NONE),
        (Kind::AttrSet, 0, MAX_SHORT_LEN + 1, 0, 5, NONE),
        (Kind::IfElse, 7, 60 << 20, 1, 2, 3),
        (Kind::Ident, 5, 5, 5, 5, NONE),
    ];
    for (i, &(kind, start, end, a, b, c)) in cases.iter().enumerate() {
        assert_eq!(
            ast.push_node(Node {
                kind,
                start,
                end,
                a,
                b,
                c
            }),
            i as NodeId
        );
    }
    for (i, &(kind, start, end, a, b, c)) in cases.iter().enumerate() {
        let n = ast.node(i as NodeId);
        assert_eq!(
            (n.kind, n.start, n.end, n.a, n.b, n.c),
            (kind, start, end, a, b, c),
            "case {i}"
        );
    }
    assert_eq!(std::mem::size_of::<Stored>(), 16);
    // A forged `b` pointing past `extra` reads as "no node", not a panic.
    ast.nodes.push(Stored {
        start: 0,
        meta: Kind::Binding as u32 | HAS_EXTRA,
        a: 0,
        b: u32::MAX,
    });
    let n = ast.node(cases.len() as NodeId);
    assert_eq!((n.b, n.c), (NONE, NONE));
}

#[test]
fn short_identifiers_live_in_their_ids() {
    let src = "{ alpha.beta = gamma; }";
    let ast = tree(src);
    let Expr::AttrSet { entries, .. } = ast.expr(root(&ast)) else {
        panic!("a set");
    };
    let Entry::Binding { path, value } = ast.entry(entries[0]) else {
        panic!("a binding");
    };
    let ids = [path[0], path[1], value];
    for (id, name) in ids.iter().zip(["alpha", "beta", "gamma"]) {
        assert_ne!(id & INLINE, 0, "{name} is inline");
        assert!(matches!(ast.attr(*id), Attr::Ident(n) if n == name));
        assert_eq!(text(src, &ast, *id), name);
    }
    assert!(matches!(ast.expr(value), Expr::Ident("gamma")));
    // Only the set and the binding are stored.
    assert_eq!(ast.nodes.len(), 2);

    // Plain strings in `"` too: their span keeps the quotes.
    let src = r#"{ "a b" = "text"; c = ""; d = ''e''; f = "\n"; }"#;
    let ast = tree(src);
    let Expr::AttrSet { entries, .. } = ast.expr(root(&ast)) else {
        panic!("a set");
    };
    let Entry::Binding { path, value } = ast.entry(entries[0]) else {
        panic!("a binding");
    };
    assert_ne!(path[0] & INLINE, 0);
    assert_ne!(value & INLINE, 0);
    assert!(matches!(ast.attr(path[0]), Attr::Str(Str::Plain("a b"))));
    assert!(matches!(ast.expr(value), Expr::Str(Str::Plain("text"))));
    assert_eq!(text(src, &ast, value), "\"text\"");
    // The empty string, an indented one and one with an escape are stored.
    for (i, plain) in [(1, ""), (2, "e"), (3, "\n")] {
        let Entry::Binding { value, .. } = ast.entry(entries[i]) else {
            panic!("a binding");
        };
        assert_eq!(value & INLINE, 0, "{plain:?}");
        assert!(matches!(ast.expr(value), Expr::Str(Str::Plain(t)) if t == plain));
    }

    // Too long, too late in the file, or empty: stored as nodes.
    let long = "x".repeat(INLINE_MAX_LEN as usize + 1);
    let ast = tree(&long);
    assert_eq!(root(&ast) & INLINE, 0);
    assert!(matches!(ast.expr(root(&ast)), Expr::Ident(n) if n == long));
    let mut ast = FileAst::empty(0);
    let late = INLINE_MAX_START + 1;
    let id = ast.push_node(Node {
        kind: Kind::Ident,
        start: late,
        end: late + 3,
        a: late,
        b: late + 3,
        c: NONE,
    });
    assert_eq!(id, 0);
    // The largest inline id is not `NONE`.
    let last = inline_id(true, INLINE_MAX_START, INLINE_MAX_START + INLINE_MAX_LEN);
    assert!(last.is_some_and(|id| id != NONE));
    assert_eq!(ast.span(NONE).start, 0);
}
