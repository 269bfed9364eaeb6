//! Evaluator unit tests: laziness, the reasons an unresolved value carries and
//! how they propagate, partial lists, and the spans of values.

use std::path::PathBuf;
use std::rc::Rc;

use super::strict::{eval_source, Strict};
use super::{
    ConfigResolver, Env, Evaluator, Item, Limits, Reason, Scope, ThunkCell, Unresolved, Val, V,
};
use crate::source::Span;
use crate::syntax::NodeId;

/// Runs `f` on a thread with a large stack, as the CLI and the analysis do:
/// the evaluator's depth bound assumes one.
fn big_stack<F: FnOnce() + Send + 'static>(f: F) {
    let handle = std::thread::Builder::new()
        .stack_size(256 * 1024 * 1024)
        .spawn(f)
        .expect("spawn a test thread");
    if let Err(panic) = handle.join() {
        std::panic::resume_unwind(panic);
    }
}

/// Makes `src` file 0 of `ev`; its expression. Scopes made afterwards by
/// `file_env(0)` evaluate it.
fn parse(ev: &Evaluator, src: &str) -> NodeId {
    let ast = crate::syntax::parse(0, src).unwrap_or_else(|e| panic!("{src}: {e}"));
    let root = ast.root().expect("an expression");
    ev.add_syntax(Rc::new(ast));
    root
}

fn evaluator(limits: Limits) -> Evaluator {
    Evaluator::new(vec![PathBuf::from("/nonexistent/dbprov-tests")], limits)
}

/// The text a span covers in `src` (file 0).
fn text(src: &str, span: Span) -> &str {
    assert_eq!(span.file, 0, "span {span:?} is not in the test source");
    &src[span.start as usize..span.end as usize]
}

/// Evaluates `src` to weak head normal form with `limits`.
fn whnf_with(ev: &Evaluator, src: &str) -> Val {
    let expr = parse(ev, src);
    let env = ev.file_env(0);
    ev.eval_whnf(expr, &env)
}

fn whnf(src: &str) -> Val {
    whnf_with(&evaluator(Limits::default()), src)
}

fn unresolved(v: &Val) -> &Unresolved {
    v.as_unresolved()
        .unwrap_or_else(|| panic!("expected an unresolved value, got {:?}", v.v))
}

/// Strict evaluation to JSON, as the differential test does.
fn strict(src: &str) -> Strict {
    eval_source(src)
}

fn strict_reason(src: &str) -> Reason {
    match strict(src) {
        Strict::Unresolved(u) => u.reason,
        Strict::Value(v) => panic!("{src}: expected unresolved, got {v}"),
    }
}

fn value(src: &str) -> serde_json::Value {
    match strict(src) {
        Strict::Value(v) => v,
        Strict::Unresolved(u) => panic!("{src}: unresolved ({}): {}", u.reason, u.detail),
    }
}

/// A scope where `config` is the module system's `config` reference.
fn config_env(ev: &Evaluator) -> Env {
    let env = ev.file_env(0);
    let config = ThunkCell::done(Val::new(V::Config(0, Rc::from(vec![])), Span::DETACHED));
    let scope = Scope::child(&env, Default::default());
    scope.insert(Rc::from("config"), config);
    scope
}

// ---------------------------------------------------------------------------
// Laziness: only what is forced is evaluated, as in Nix.

#[test]
fn unused_broken_bindings_are_not_errors() {
    big_stack(|| {
        assert_eq!(
            value("let broken = 1 + \"a\"; bad = throw \"no\"; loop = loop; in { ok = 1; }"),
            serde_json::json!({ "ok": 1 })
        );
        assert_eq!(value("{ a = 1; b = throw \"x\"; }.a"), serde_json::json!(1));
        assert_eq!(value("(x: 1) (throw \"x\")"), serde_json::json!(1));
        assert_eq!(
            value("builtins.length [ (throw \"a\") (1 + \"b\") ]"),
            serde_json::json!(2)
        );
        assert_eq!(
            value("({ a, b }: a) { a = 1; b = throw \"x\"; }"),
            serde_json::json!(1)
        );
        assert_eq!(
            value("if true then 1 else throw \"x\""),
            serde_json::json!(1)
        );
        assert_eq!(value("false && throw \"x\""), serde_json::json!(false));
        assert_eq!(
            value("builtins.attrNames { b = throw \"x\"; a = 1; }"),
            serde_json::json!(["a", "b"])
        );
        assert_eq!(
            value("with { a = 1; b = throw \"x\"; }; a"),
            serde_json::json!(1)
        );
        assert_eq!(
            value("let nat = n: { v = n; next = nat (n + 1); }; in (nat 0).next.next.v"),
            serde_json::json!(2)
        );
    });
}

#[test]
fn weak_head_normal_form_does_not_force_attributes() {
    big_stack(|| {
        let ev = evaluator(Limits::default());
        let v = whnf_with(&ev, "{ a = 1; b = throw \"boom\"; c = let x = x; in x; }");
        let V::Attrs(a) = &v.v else {
            panic!("not a set: {:?}", v.v)
        };
        assert!(matches!(ev.force(&a.get("a").unwrap().value).v, V::Int(1)));
        let b = ev.force(&a.get("b").unwrap().value);
        assert_eq!(unresolved(&b).reason, Reason::EvalError);
        assert!(
            unresolved(&b).detail.contains("boom"),
            "{}",
            unresolved(&b).detail
        );
        let c = ev.force(&a.get("c").unwrap().value);
        assert_eq!(unresolved(&c).reason, Reason::Cycle);
        // Forcing a broken attribute does not spoil the others.
        assert!(matches!(ev.force(&a.get("a").unwrap().value).v, V::Int(1)));
    });
}

// ---------------------------------------------------------------------------
// Reasons of unresolved values.

#[test]
fn self_reference_is_a_cycle() {
    big_stack(|| {
        for src in [
            "let x = x; in x",
            "let x = y; y = x; in x",
            "let x = x + 1; in x",
            "rec { a = b; b = a; }.a",
            "let s = { a = s.a; }; in s.a",
            "let xs = [ (builtins.head xs) ]; in builtins.head xs",
        ] {
            let v = whnf(src);
            assert_eq!(unresolved(&v).reason, Reason::Cycle, "{src}: {:?}", v.v);
        }
    });
}

#[test]
fn depth_bound_is_a_limit_not_a_crash() {
    big_stack(|| {
        let ev = evaluator(Limits {
            max_depth: 100,
            max_steps: 2_000_000,
            ..Limits::default()
        });
        let v = whnf_with(
            &ev,
            "let f = n: if n == 0 then 0 else 1 + f (n - 1); in f 1000",
        );
        let u = unresolved(&v);
        assert_eq!(u.reason, Reason::Limit);
        assert!(u.detail.contains("deeper"), "{}", u.detail);
        // The same recursion, shallow enough, resolves.
        ev.reset_budget();
        let v = whnf_with(
            &ev,
            "let f = n: if n == 0 then 0 else 1 + f (n - 1); in f 5",
        );
        assert!(matches!(v.v, V::Int(5)), "{:?}", v.v);
        // Unbounded recursion with the default bounds: a limit, not a stack overflow.
        assert_eq!(strict_reason("let f = x: f x; in f 1"), Reason::Limit);
        assert_eq!(strict_reason("let f = x: 1 + f x; in f 1"), Reason::Limit);
    });
}

#[test]
fn step_bound_is_a_limit_and_the_budget_resets() {
    big_stack(|| {
        let ev = evaluator(Limits {
            max_depth: 2_000,
            max_steps: 10_000,
            ..Limits::default()
        });
        let fib = "let fib = n: if n < 2 then n else fib (n - 1) + fib (n - 2); in fib 20";
        let v = whnf_with(&ev, fib);
        let u = unresolved(&v);
        assert_eq!(u.reason, Reason::Limit);
        assert!(u.detail.contains("steps"), "{}", u.detail);
        // The budget is per unit of work: after a reset, small work succeeds again.
        ev.reset_budget();
        let v = whnf_with(&ev, "1 + 1");
        assert!(matches!(v.v, V::Int(2)), "{:?}", v.v);
        // Exponential work with the default bounds terminates with `limit`.
        assert_eq!(
            strict_reason("let f = n: if n == 0 then 1 else f (n - 1) + f (n - 1); in f 40"),
            Reason::Limit
        );
    });
}

#[test]
fn infinite_data_is_a_limit_when_forced_deeply() {
    big_stack(|| {
        assert_eq!(strict_reason("let x = [ x ]; in x"), Reason::Limit);
        assert_eq!(strict_reason("let s = { a = s; }; in s"), Reason::Limit);
    });
}

#[test]
fn what_nix_rejects_is_an_eval_error() {
    big_stack(|| {
        for (src, detail) in [
            ("1 + \"a\"", ""),
            ("{ }.a", "'a'"),
            ("{ a.b = 1; }.a.c", "'c'"),
            ("throw \"boom\"", "boom"),
            ("builtins.throw \"bang\"", "bang"),
            ("1 / 0", "division by zero"),
            ("assert 1 == 2; 3", "assertion"),
            ("builtins.head [ ]", ""),
            ("({ a }: a) { }", "'a'"),
            ("({ a }: a) { a = 1; b = 2; }", "'b'"),
            ("if 1 then 2 else 3", "Boolean"),
            ("undefinedVar", "undefinedVar"),
            ("1 2", "not a function"),
            ("[ 1 ] < [ \"a\" ]", ""),
            ("\"${{ }}\"", ""),
        ] {
            let v = whnf(src);
            let u = unresolved(&v);
            assert_eq!(u.reason, Reason::EvalError, "{src}: {u:?}");
            assert!(u.detail.contains(detail), "{src}: {}", u.detail);
        }
        assert_eq!(
            strict_reason("{ a = 1; b = 1 + \"x\"; }"),
            Reason::EvalError
        );
        assert_eq!(strict_reason("{ a = ; }"), Reason::EvalError);
    });
}

#[test]
fn what_dbprov_does_not_evaluate_is_unsupported() {
    big_stack(|| {
        for src in [
            "import ./x.nix",
            "builtins.readFile ./x",
            "builtins.fromJSON \"[ 1 ]\"",
            "builtins.toJSON { }",
            "builtins.foldl' (a: b: a + b) 0 [ 1 ]",
            "removeAttrs { a = 1; } [ \"a\" ]",
            "\"${./x}\"",
            "toString 1.5",
            "__curPos",
            "(import ./x.nix).a.b",
            "builtins.readFile ./x + \"suffix\"",
        ] {
            let v = whnf(src);
            // `import` of a file outside the analysed ones is defined elsewhere.
            let expected = if src.contains("import") {
                Reason::DefinedElsewhere
            } else {
                Reason::Unsupported
            };
            assert_eq!(unresolved(&v).reason, expected, "{src}: {:?}", v.v);
        }
        // A path is a value, but not one JSON can hold without the store.
        assert_eq!(strict_reason("./x"), Reason::Unsupported);
    });
}

#[test]
fn config_without_a_resolver_is_defined_elsewhere() {
    big_stack(|| {
        let ev = evaluator(Limits::default());
        let expr = parse(&ev, "config.services.postgresql.enable");
        let env = config_env(&ev);
        let v = ev.eval_whnf(expr, &env);
        let u = unresolved(&v);
        assert_eq!(u.reason, Reason::DefinedElsewhere);
        assert!(
            u.detail.contains("config.services.postgresql.enable"),
            "{}",
            u.detail
        );
        // `or` catches a missing attribute, not an unknown one.
        let expr = parse(&ev, "config.a.b or 5");
        let env = config_env(&ev);
        assert_eq!(
            unresolved(&ev.eval_whnf(expr, &env)).reason,
            Reason::DefinedElsewhere
        );
        // Unknown stays unknown through operators and guards.
        for src in [
            "config.x + 1",
            "if config.x then 1 else 2",
            "[ 1 ] ++ config.xs",
            "\"${config.name}\"",
        ] {
            let expr = parse(&ev, src);
            let v = ev.eval_whnf(expr, &config_env(&ev));
            let got = match &v.v {
                V::List(l) => l.first_unknown().expect("partial").reason,
                _ => unresolved(&v).reason,
            };
            assert_eq!(got, Reason::DefinedElsewhere, "{src}");
        }
        // Search paths and home paths are outside the scanned files too.
        assert_eq!(
            unresolved(&whnf("<nixpkgs>")).reason,
            Reason::DefinedElsewhere
        );
        assert_eq!(unresolved(&whnf("~/x")).reason, Reason::DefinedElsewhere);
    });
}

/// Answers `config.a.b` with 7, `config.flag` with true; anything else is
/// missing (an evaluation error, as a missing option is in Nix).
struct TestResolver;

impl ConfigResolver for TestResolver {
    fn resolve(&self, _ev: &Evaluator, path: &[Rc<str>], span: Span) -> Val {
        let p: Vec<&str> = path.iter().map(|s| s.as_ref()).collect();
        match p.as_slice() {
            ["a", "b"] => Val::new(V::Int(7), span),
            ["flag"] => Val::new(V::Bool(true), span),
            _ => Val::error(format!("no option {}", p.join(".")), span),
        }
    }
}

#[test]
fn config_references_are_answered_by_the_resolver_on_demand() {
    big_stack(|| {
        let ev = evaluator(Limits::default());
        ev.set_resolver(Rc::new(TestResolver));
        let eval = |src: &str| {
            let expr = parse(&ev, src);
            ev.eval_whnf(expr, &config_env(&ev))
        };
        assert!(matches!(eval("config.a.b + 1").v, V::Int(8)));
        assert!(matches!(eval("let cfg = config.a; in cfg.b").v, V::Int(7)));
        assert!(matches!(eval("if config.flag then 1 else 2").v, V::Int(1)));
        // A missing option is caught by `or`.
        assert!(matches!(eval("config.nope or 3").v, V::Int(3)));
        // Selecting below a reference does not resolve the prefix.
        let expr = parse(&ev, "config.a.b");
        let raw = ev.eval(expr, &config_env(&ev));
        match &raw.v {
            V::Config(_, p) => assert_eq!(super::join_path(p), "a.b"),
            other => panic!("expected a config reference, got {other:?}"),
        }
    });
}

#[test]
fn unresolved_propagates_with_its_reason() {
    big_stack(|| {
        for src in [
            "(builtins.readFile ./x) + \"a\"",
            "\"a\" + (builtins.readFile ./x)",
            "if builtins.readFile ./x == \"\" then 1 else 2",
            "{ a = 1; } // (import ./x.nix)",
            "!(import ./x.nix)",
            "-(import ./x.nix)",
            "(import ./x.nix) < 1",
            "assert import ./x.nix; 1",
            "(import ./x.nix) 1",
            "builtins.length (import ./x.nix)",
            "map (x: x) (import ./x.nix)",
            "with import ./x.nix; a",
            "({ a }: a) (import ./x.nix)",
            "\"${import ./x.nix}\"",
            "true && import ./x.nix",
        ] {
            let v = whnf(src);
            // `import` of a file outside the analysed ones is defined elsewhere.
            let expected = if src.contains("import") {
                Reason::DefinedElsewhere
            } else {
                Reason::Unsupported
            };
            assert_eq!(unresolved(&v).reason, expected, "{src}: {:?}", v.v);
        }
        // A short-circuit never reaches the unknown operand.
        assert!(matches!(whnf("false && import ./x.nix").v, V::Bool(false)));
        assert!(matches!(whnf("true || import ./x.nix").v, V::Bool(true)));
    });
}

#[test]
fn sets_with_uncomputable_keys_are_open() {
    big_stack(|| {
        let ev = evaluator(Limits::default());
        let v = whnf_with(&ev, "{ ${builtins.readFile ./k} = 1; b = 2; }");
        let V::Attrs(a) = &v.v else {
            panic!("{:?}", v.v)
        };
        assert_eq!(a.open.as_ref().expect("open").reason, Reason::Unsupported);
        assert!(matches!(ev.force(&a.get("b").unwrap().value).v, V::Int(2)));
        // A key that is not among the known ones may still exist: unknown, not missing.
        let missing = whnf("{ ${builtins.readFile ./k} = 1; }.c");
        assert_eq!(unresolved(&missing).reason, Reason::Unsupported);
        let has = whnf("{ ${builtins.readFile ./k} = 1; } ? c");
        assert_eq!(unresolved(&has).reason, Reason::Unsupported);
        let names = whnf("builtins.attrNames { ${builtins.readFile ./k} = 1; }");
        assert_eq!(unresolved(&names).reason, Reason::Unsupported);
        // An unknown key is not a missing one for `or` either.
        let or = whnf("{ ${builtins.readFile ./k} = 1; }.c or 5");
        assert_eq!(unresolved(&or).reason, Reason::Unsupported);
    });
}

// ---------------------------------------------------------------------------
// Partial lists.

fn items(v: &Val) -> &[Item] {
    match &v.v {
        V::List(l) => &l.items,
        other => panic!("expected a list, got {other:?}"),
    }
}

#[test]
fn concatenation_keeps_known_elements_next_to_an_unknown_part() {
    big_stack(|| {
        let ev = evaluator(Limits::default());
        let v = whnf_with(&ev, "[ 1 ] ++ (builtins.readFile ./x)");
        let list = items(&v);
        assert_eq!(list.len(), 2);
        match &list[0] {
            Item::Known(t) => assert!(matches!(ev.force(t).v, V::Int(1))),
            Item::Unknown(u) => panic!("first element unknown: {u:?}"),
        }
        match &list[1] {
            Item::Unknown(u) => assert_eq!(u.reason, Reason::Unsupported),
            Item::Known(_) => panic!("the unknown part became an element"),
        }

        let v = whnf_with(&ev, "[ 1 ] ++ (import ./x.nix) ++ [ 2 3 ]");
        let kinds: Vec<&str> = items(&v)
            .iter()
            .map(|i| {
                if matches!(i, Item::Known(_)) {
                    "known"
                } else {
                    "unknown"
                }
            })
            .collect();
        assert_eq!(kinds, ["known", "unknown", "known", "known"]);

        // `map` keeps the shape; the known element is mapped.
        let v = whnf_with(&ev, "map (x: x * 10) ([ 1 ] ++ (import ./x.nix))");
        let list = items(&v);
        assert!(matches!(&list[0], Item::Known(t) if matches!(ev.force(t).v, V::Int(10))));
        assert!(matches!(&list[1], Item::Unknown(_)));
    });
}

#[test]
fn a_partial_list_has_no_known_length_or_text() {
    big_stack(|| {
        for src in [
            "builtins.length ([ 1 ] ++ (builtins.readFile ./x))",
            "toString ([ 1 ] ++ (builtins.readFile ./x))",
            "builtins.concatStringsSep \",\" ([ \"a\" ] ++ (import ./x.nix))",
            "builtins.elem 2 ([ 1 ] ++ (import ./x.nix))",
            "[ 1 ] ++ (import ./x.nix) == [ 1 ]",
        ] {
            let v = whnf(src);
            // `import` of a file outside the analysed ones is defined elsewhere.
            let expected = if src.contains("import") {
                Reason::DefinedElsewhere
            } else {
                Reason::Unsupported
            };
            assert_eq!(unresolved(&v).reason, expected, "{src}: {:?}", v.v);
        }
        // Strictly, a partial list is not a value.
        assert_eq!(
            strict_reason("[ 1 ] ++ (builtins.readFile ./x)"),
            Reason::Unsupported
        );
    });
}

// ---------------------------------------------------------------------------
// Spans.

#[test]
fn known_values_carry_the_span_of_the_expression_that_produced_them() {
    big_stack(|| {
        let src = "let x = 42; f = y: y * 2; in { a = x; b = \"s${\"t\"}\"; c = if true then [ 1 ] else 2; d = f 3; e = { k = true; }.k; }";
        let ev = evaluator(Limits::default());
        let v = whnf_with(&ev, src);
        assert_eq!(text(src, v.span), &src[src.find("{ a").unwrap()..]);
        let V::Attrs(a) = &v.v else {
            panic!("{:?}", v.v)
        };
        let field = |k: &str| ev.force(&a.get(k).unwrap().value);
        assert_eq!(text(src, field("a").span), "42");
        assert_eq!(text(src, field("b").span), "\"s${\"t\"}\"");
        assert_eq!(text(src, field("c").span), "[ 1 ]");
        assert_eq!(text(src, field("d").span), "y * 2");
        assert_eq!(text(src, field("e").span), "true");
        assert_eq!(text(src, a.get("a").unwrap().key_span), "a");
        assert_eq!(text(src, a.get("d").unwrap().key_span), "d");
    });
}

#[test]
fn dotted_keys_keep_the_span_of_each_key() {
    big_stack(|| {
        let src = "{ a.b = 1; a.c = 2; }";
        let ev = evaluator(Limits::default());
        let v = whnf_with(&ev, src);
        let V::Attrs(top) = &v.v else { panic!() };
        let a = top.get("a").unwrap();
        // The set `a.b = 1` creates starts at its first key `a`.
        assert!(
            text(src, a.key_span).starts_with('a'),
            "{}",
            text(src, a.key_span)
        );
        let inner = ev.force(&a.value);
        assert!(
            text(src, inner.span).starts_with("a.b"),
            "{}",
            text(src, inner.span)
        );
        let V::Attrs(inner) = &inner.v else { panic!() };
        assert_eq!(text(src, inner.get("c").unwrap().key_span), "c");
        assert_eq!(
            text(src, ev.force(&inner.get("c").unwrap().value).span),
            "2"
        );
    });
}

#[test]
fn unresolved_values_point_at_what_could_not_be_evaluated() {
    big_stack(|| {
        let src = "{ e = 1 + \"x\"; r = builtins.readFile ./x; }";
        let ev = evaluator(Limits::default());
        let v = whnf_with(&ev, src);
        let V::Attrs(a) = &v.v else { panic!() };
        let e = ev.force(&a.get("e").unwrap().value);
        assert_eq!(text(src, unresolved(&e).span), "1 + \"x\"");
        let r = ev.force(&a.get("r").unwrap().value);
        let span = unresolved(&r).span;
        assert!(!span.is_detached(), "detached span for readFile");
        assert!(
            text(src, span).starts_with("builtins.readFile"),
            "{}",
            text(src, span)
        );
    });
}

#[test]
fn unsupported_globals_point_at_their_use() {
    big_stack(|| {
        let src = "{ i = import ./x.nix; }";
        let ev = evaluator(Limits::default());
        let v = whnf_with(&ev, src);
        let V::Attrs(a) = &v.v else { panic!() };
        let i = ev.force(&a.get("i").unwrap().value);
        let span = unresolved(&i).span;
        assert!(!span.is_detached(), "detached span for import");
        assert!(text(src, span).starts_with("import"), "{}", text(src, span));
    });
}

// ---------------------------------------------------------------------------
// Scoping corners the module files rely on.

#[test]
fn lexical_scope_beats_with_and_inner_with_beats_outer() {
    big_stack(|| {
        assert_eq!(
            value("let a = 1; in with { a = 2; }; a"),
            serde_json::json!(1)
        );
        assert_eq!(
            value("with { a = 1; }; with { a = 2; }; a"),
            serde_json::json!(2)
        );
        assert_eq!(
            value("with { a = 1; }; with { b = 2; }; a + b"),
            serde_json::json!(3)
        );
        assert_eq!(
            value("with { true = false; }; true"),
            serde_json::json!(true)
        );
        assert_eq!(
            value("let a = 1; in with { a = 2; }; { inherit a; }"),
            serde_json::json!({ "a": 1 })
        );
        // `with` is lazy in its namespace.
        assert_eq!(value("with (throw \"x\"); 1"), serde_json::json!(1));
    });
}

#[test]
fn lambdas_defaults_and_at_bindings() {
    big_stack(|| {
        assert_eq!(
            value("({ a, b ? a + 1 }: b) { a = 1; }"),
            serde_json::json!(2)
        );
        assert_eq!(
            value("(args@{ a ? 5, ... }: args) { b = 1; }"),
            serde_json::json!({ "b": 1 })
        );
        assert_eq!(
            value("({ a, ... }@s: s.b) { a = 1; b = 2; }"),
            serde_json::json!(2)
        );
        assert_eq!(
            value("let mkDb = name: { type = \"postgresql\"; inherit name; user = name; }; in mkDb \"immich\""),
            serde_json::json!({ "type": "postgresql", "name": "immich", "user": "immich" })
        );
    });
}

#[test]
fn pathological_inputs_terminate() {
    big_stack(|| {
        let deep_parens = format!("{}1{}", "(".repeat(3000), ")".repeat(3000));
        assert!(matches!(
            strict(&deep_parens),
            Strict::Value(_) | Strict::Unresolved(_)
        ));
        let deep_list = format!("{}1{}", "[ ".repeat(3000), " ]".repeat(3000));
        assert!(matches!(
            strict(&deep_list),
            Strict::Value(_) | Strict::Unresolved(_)
        ));
        let long_sum = vec!["1"; 5000].join(" + ");
        assert!(matches!(
            strict(&long_sum),
            Strict::Value(_) | Strict::Unresolved(_)
        ));
        let big = format!(
            "[ {} ]",
            (0..20_000)
                .map(|i| i.to_string())
                .collect::<Vec<_>>()
                .join(" ")
        );
        match strict(&format!("builtins.length {big}")) {
            Strict::Value(v) => assert_eq!(v, serde_json::json!(20_000)),
            Strict::Unresolved(u) => assert_eq!(u.reason, Reason::Limit),
        }
    });
}
